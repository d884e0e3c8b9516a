#include "imap/query/parser.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/query/schema.h"

namespace imap::query {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Query MustParse(absl::string_view text) {
  absl::StatusOr<Query> q = ParseQuery(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status();
  return q.ok() ? *q : Query();
}

std::string ErrorOf(absl::string_view text) {
  absl::StatusOr<Query> q = ParseQuery(text);
  EXPECT_FALSE(q.ok()) << text;
  if (q.ok()) return "";
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(q.status().message());
}

TEST(QueryParserTest, EmptyQueryMeansDefaults) {
  for (const char* text : {"", "   \n\t", "-- just a comment\n"}) {
    Query q = MustParse(text);
    EXPECT_TRUE(q.columns.empty());
    EXPECT_TRUE(q.folders.empty());
    EXPECT_FALSE(q.where.has_value());
    EXPECT_FALSE(q.limit.has_value());
  }
}

TEST(QueryParserTest, TheIssueExample) {
  Query q = MustParse(
      "SELECT subject, from, date, attachments FROM \"INBOX\", \"Archive/2024\" WHERE date >= "
      "'2024-01-01'\n  AND NOT seen AND (subject CONTAINS 'invoice' OR from LIKE "
      "'%@billing.example.com')\nORDER BY uid LIMIT 500");
  EXPECT_THAT(q.columns, ElementsAre("subject", "from", "date", "attachments"));
  EXPECT_THAT(q.folders, ElementsAre("INBOX", "Archive/2024"));
  ASSERT_TRUE(q.where.has_value());
  const Expr& w = *q.where;
  ASSERT_EQ(w.kind, Expr::Kind::kAnd);
  ASSERT_EQ(w.children.size(), 3u);
  EXPECT_EQ(w.children[0].kind, Expr::Kind::kCompare);
  EXPECT_EQ(w.children[0].field.name, "date");
  EXPECT_EQ(w.children[0].op, Operator::kGe);
  EXPECT_TRUE(w.children[0].values[0].date_only);
  EXPECT_EQ(w.children[0].values[0].time,
            absl::FromCivil(absl::CivilDay(2024, 1, 1), absl::UTCTimeZone()));
  EXPECT_EQ(w.children[1].kind, Expr::Kind::kNot);
  EXPECT_EQ(w.children[1].children[0].flag, "seen");
  const Expr& either = w.children[2];
  ASSERT_EQ(either.kind, Expr::Kind::kOr);
  EXPECT_EQ(either.children[1].field.name, "from");
  EXPECT_EQ(either.children[1].op, Operator::kLike);
  EXPECT_EQ(either.children[1].values[0].text, "%@billing.example.com");
  EXPECT_EQ(either.children[1].position.line, 2);
  EXPECT_FALSE(q.descending);
  EXPECT_EQ(q.limit, 500u);
}

TEST(QueryParserTest, PredicatesOfEveryKind) {
  Query q = MustParse(
      "select * from inbox where size > 5MB and uid in (1, 2, 3) and internal_date < "
      "'2024-06-01T12:30:00+02:00' and header('List-Id') contains 'weekly' and has_attachment "
      "and attachment_name like '%.pdf' and keywords contains '$Important' and body contains "
      "'Grüße' and has_attachment = false and subject <> 'x' order by uid desc");
  EXPECT_TRUE(q.columns.empty());  // * is the default set
  EXPECT_THAT(q.folders, ElementsAre("inbox"));
  const Expr& w = *q.where;
  ASSERT_EQ(w.children.size(), 10u);
  EXPECT_EQ(w.children[0].values[0].number, 5 * 1024 * 1024);
  EXPECT_EQ(w.children[1].values.size(), 3u);
  EXPECT_EQ(w.children[2].values[0].time,
            absl::FromCivil(absl::CivilSecond(2024, 6, 1, 10, 30, 0), absl::UTCTimeZone()));
  EXPECT_EQ(w.children[3].field.name, "header");
  EXPECT_EQ(w.children[3].field.header_name, "List-Id");
  EXPECT_EQ(w.children[4].field.name, "has_attachment");
  EXPECT_EQ(w.children[4].values[0].number, 1);
  EXPECT_EQ(w.children[7].values[0].text, "Grüße");
  EXPECT_EQ(w.children[8].values[0].number, 0);
  EXPECT_EQ(w.children[9].op, Operator::kNe);
  EXPECT_TRUE(q.descending);
}

TEST(QueryParserTest, StringsKeepQuotesLineBreaksAndNonAscii) {
  Query q = MustParse("FROM \"Entwürfe\", \"say \"\"hi\"\"\" WHERE subject = 'it''s\r\nA1 LOGOUT \"x\"'");
  ASSERT_TRUE(q.where.has_value());
  EXPECT_EQ(q.where->values[0].text, "it's\r\nA1 LOGOUT \"x\"");
  EXPECT_THAT(q.folders, ElementsAre("Entwürfe", "say \"hi\""));
}

TEST(QueryParserTest, ErrorsSayWhereAndWhat) {
  EXPECT_EQ(ErrorOf("SELECT subjcet FROM INBOX"),
            "line 1, column 8: unknown column 'subjcet'; did you mean 'subject'?");
  EXPECT_THAT(ErrorOf("WHERE\n  frm LIKE 'x'"), HasSubstr("line 2, column 3: unknown column 'frm'; did you mean 'from'?"));
  EXPECT_THAT(ErrorOf("WHERE subject 'invoice'"),
              HasSubstr("line 1, column 15: expected an operator after subject (=, !=, CONTAINS, LIKE, IN), "
                        "found the string 'invoice'"));
  EXPECT_THAT(ErrorOf("WHERE size CONTAINS 'x'"), HasSubstr("size cannot be compared with CONTAINS"));
  EXPECT_THAT(ErrorOf("WHERE date > '2024-02-30'"), HasSubstr("'2024-02-30' is not a date"));
  EXPECT_THAT(ErrorOf("WHERE date > 2024"), HasSubstr("expected a date in quotes"));
  EXPECT_THAT(ErrorOf("WHERE subject = 'open"), HasSubstr("line 1, column 17: the string that starts here has no closing '"));
  EXPECT_THAT(ErrorOf("WHERE (seen OR flagged"), HasSubstr("expected ')' to close the '(' at line 1, column 7"));
  EXPECT_THAT(ErrorOf("WHERE seen LIMIT 0"), HasSubstr("expected a positive whole number after LIMIT"));
  EXPECT_THAT(ErrorOf("WHERE seen seen"), HasSubstr("expected AND, OR, ORDER BY, LIMIT or the end"));
  EXPECT_THAT(ErrorOf("ORDER BY date"), HasSubstr("ordered by uid only"));
  EXPECT_THAT(ErrorOf("WHERE uid > 5KB"), HasSubstr("not a valid number for uid"));
  EXPECT_THAT(ErrorOf("WHERE subject = 'a' ; DROP"), HasSubstr("unexpected character ';'"));
  EXPECT_THAT(ErrorOf("SELECT raw WHERE raw CONTAINS 'x'"), HasSubstr("can be selected, not filtered on"));
  EXPECT_THAT(ErrorOf("WHERE header(Subject) CONTAINS 'x'"), HasSubstr("a header name in quotes"));
}

TEST(QueryParserTest, FolderNamesRefuseControlCharactersWhereTheyAre) {
  EXPECT_EQ(ErrorOf("FROM \"Sales\r\nX\""),
            "line 1, column 12: a folder name cannot contain control characters; found '\\r'");
  EXPECT_EQ(ErrorOf("FROM 'a\nb'"),
            "line 1, column 8: a folder name cannot contain control characters; found '\\n'");
  // The position is that of the character, also on a later line and after
  // a doubled quote.
  EXPECT_EQ(ErrorOf("SELECT subject\nFROM INBOX, 'it''s\tB'"),
            "line 2, column 19: a folder name cannot contain control characters; found '\\t'");
  EXPECT_EQ(ErrorOf("FROM \"x\x7f\""),
            "line 1, column 8: a folder name cannot contain control characters; found '\\x7f'");
  EXPECT_EQ(ErrorOf("FROM INBOX, \"Archive/*\x01\""),
            "line 1, column 23: a folder name cannot contain control characters; found '\\x01'");
  // Only the first control character is named.
  EXPECT_EQ(ErrorOf("FROM \"\x1b\r\""),
            "line 1, column 7: a folder name cannot contain control characters; found '\\x1b'");
  // Strings compared in WHERE keep their line breaks (they go out as
  // literals), and a name with a space, a quote or non-ASCII is fine.
  Query q = MustParse("FROM \"My \"\"Box\"\"\", 'Entwürfe' WHERE subject CONTAINS 'a\r\nb'");
  EXPECT_THAT(q.folders, ElementsAre("My \"Box\"", "Entwürfe"));
}

TEST(QueryParserTest, LimitsHold) {
  std::string deep = "WHERE " + std::string(200, '(') + "seen" + std::string(200, ')');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nested deeper than 64 levels"));
  std::string nots = "WHERE ";
  for (int i = 0; i < 200; ++i) nots += "NOT ";
  EXPECT_THAT(ErrorOf(nots + "seen"), HasSubstr("nested deeper"));
  EXPECT_THAT(ErrorOf(std::string(70000, ' ')), HasSubstr("at most 65536 allowed"));
  EXPECT_THAT(ErrorOf(std::string("WHERE subject = 'a\0b'", 21)), HasSubstr("NUL"));
}

TEST(QuerySchemaTest, ColumnsAndHints) {
  ASSERT_NE(FindColumn("Subject"), nullptr);
  EXPECT_EQ(FindColumn("subject")->type, ColumnType::kString);
  EXPECT_EQ(FindColumn("nope"), nullptr);
  EXPECT_EQ(ClosestColumnName("attachements"), "attachments");
  EXPECT_EQ(ClosestColumnName("internaldate"), "internal_date");
  EXPECT_EQ(ClosestColumnName("completely different"), "");
}

TEST(QueryParserTest, GmailFieldsAndRoles) {
  Query q = MustParse(
      "SELECT gmail_labels, gmail_msgid, gmail_thread_id FROM role:sent, role : all, \"Work\" "
      "WHERE gmail_raw = 'from:boss has:attachment' AND gmail_labels CONTAINS 'Work'");
  EXPECT_THAT(q.columns, ElementsAre("gmail_labels", "gmail_msgid", "gmail_thread_id"));
  EXPECT_THAT(q.folders, ElementsAre("\\Sent", "\\All", "Work"));
  ASSERT_TRUE(q.where.has_value());
  EXPECT_EQ(q.where->children[0].field.name, "gmail_raw");
  EXPECT_EQ(q.where->children[0].values[0].text, "from:boss has:attachment");
  // A folder called "role" is still a folder.
  EXPECT_THAT(MustParse("FROM role").folders, ElementsAre("role"));

  EXPECT_THAT(ErrorOf("WHERE gmail_raw CONTAINS 'x'"),
              HasSubstr("column 17: gmail_raw cannot be compared with CONTAINS; use gmail_raw ="));
  EXPECT_THAT(ErrorOf("WHERE gmail_raw != 'x'"), HasSubstr("cannot be compared with !="));
  EXPECT_THAT(ErrorOf("WHERE gmail_labels = 'Work'"),
              HasSubstr("gmail_labels cannot be compared with =; use CONTAINS, IN"));
  EXPECT_THAT(ErrorOf("WHERE gmail_msgid = 'x'"), HasSubstr("a number after gmail_msgid ="));
  EXPECT_THAT(ErrorOf("FROM role:"), HasSubstr("expected a folder role after role:"));
  EXPECT_THAT(ErrorOf("SELECT gmail_label"), HasSubstr("did you mean 'gmail_labels'?"));
}

}  // namespace
}  // namespace imap::query
