#include "imap/query/compiler.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/query/parser.h"

namespace imap::query {
namespace {

using ::testing::ElementsAre;

Plan MustCompile(absl::string_view text) {
  absl::StatusOr<Query> q = ParseQuery(text);
  EXPECT_TRUE(q.ok()) << q.status();
  absl::StatusOr<Plan> p = Compile(q.ok() ? *q : Query());
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : Plan();
}

std::string Search(absl::string_view text) { return SearchText(MustCompile(text).search); }

TEST(QueryCompilerTest, EmptyQuery) {
  Plan p = MustCompile("");
  EXPECT_EQ(SearchText(p.search), "ALL");
  EXPECT_TRUE(p.search_is_exact);
  EXPECT_FALSE(p.residual.has_value());
  EXPECT_TRUE(p.folders.empty());
  // The default columns include the text body and attachments.
  EXPECT_TRUE(p.needs_full_message);
  EXPECT_EQ(p.fetch_items, "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])");
}

TEST(QueryCompilerTest, ExactPushdown) {
  EXPECT_EQ(Search("WHERE NOT seen AND flagged"), "NOT SEEN FLAGGED");
  EXPECT_EQ(Search("WHERE uid > 10"), "UID 11:4294967295");
  EXPECT_EQ(Search("WHERE uid >= 10 AND uid < 20"), "UID 10:4294967295 UID 1:19");
  EXPECT_EQ(Search("WHERE uid = 7"), "UID 7");
  EXPECT_EQ(Search("WHERE uid != 7"), "NOT UID 7");
  EXPECT_EQ(Search("WHERE uid IN (9, 3, 5, 3)"), "UID 3,5,9");
  EXPECT_EQ(Search("WHERE uid < 1"), "NOT ALL");
  EXPECT_EQ(Search("WHERE size > 5KB"), "LARGER 5120");
  EXPECT_EQ(Search("WHERE size >= 100"), "LARGER 99");
  EXPECT_EQ(Search("WHERE size <= 100"), "SMALLER 101");
  EXPECT_EQ(Search("WHERE size = 100"), "LARGER 99 SMALLER 101");
  EXPECT_EQ(Search("WHERE NOT size = 100"), "NOT (LARGER 99 SMALLER 101)");
  EXPECT_EQ(Search("WHERE size != 100"), "OR SMALLER 100 LARGER 100");
  EXPECT_EQ(Search("WHERE subject CONTAINS 'invoice' OR header('List-Id') CONTAINS 'weekly'"),
            "OR SUBJECT \"invoice\" HEADER List-Id \"weekly\"");
  EXPECT_EQ(Search("WHERE seen OR flagged OR draft"), "OR OR SEEN FLAGGED DRAFT");
  EXPECT_EQ(Search("WHERE keywords CONTAINS '$Important' AND flags CONTAINS '\\Answered'"),
            "KEYWORD $Important ANSWERED");
  EXPECT_EQ(Search("WHERE body CONTAINS 'refund'"), "BODY \"refund\"");
  for (const char* text : {"WHERE NOT seen AND flagged", "WHERE uid IN (1, 2)", "WHERE size = 3",
                           "WHERE subject CONTAINS 'x' OR seen"}) {
    Plan p = MustCompile(text);
    EXPECT_TRUE(p.search_is_exact) << text;
    EXPECT_FALSE(p.residual.has_value()) << text;
  }
}

TEST(QueryCompilerTest, WiderNetWithAResidualCheck) {
  // Dates: SEARCH works in days, in a zone of the server's choosing.
  Plan p = MustCompile("WHERE date >= '2024-01-01' AND NOT seen");
  EXPECT_EQ(SearchText(p.search), "SENTSINCE 31-Dec-2023 NOT SEEN");
  EXPECT_FALSE(p.search_is_exact);
  ASSERT_TRUE(p.residual.has_value());
  EXPECT_EQ(p.residual->kind, Expr::Kind::kCompare);  // only the date is checked again
  EXPECT_EQ(p.residual->field.name, "date");
  EXPECT_EQ(Search("WHERE internal_date < '2024-03-01T10:00:00Z'"), "BEFORE 3-Mar-2024");
  EXPECT_EQ(Search("WHERE internal_date = '2024-03-01'"), "SINCE 29-Feb-2024 BEFORE 3-Mar-2024");

  // LIKE and = search for their longest literal run.
  p = MustCompile("WHERE from LIKE '%@billing.example.com'");
  EXPECT_EQ(SearchText(p.search), "FROM \"@billing.example.com\"");
  EXPECT_FALSE(p.search_is_exact);
  EXPECT_EQ(Search("WHERE subject = 'Hello'"), "SUBJECT \"Hello\"");
  EXPECT_EQ(Search("WHERE to IN ('a@x', 'b@y')"), "OR TO \"a@x\" TO \"b@y\"");

  // Not expressible at all: everything is fetched and checked.
  p = MustCompile("WHERE has_attachment");
  EXPECT_EQ(SearchText(p.search), "ALL");
  EXPECT_FALSE(p.search_is_exact);
  EXPECT_TRUE(p.residual.has_value());
  // An inexact side of an OR widens the whole OR.
  p = MustCompile("WHERE seen OR attachment_name LIKE '%.pdf'");
  EXPECT_EQ(SearchText(p.search), "ALL");
  EXPECT_EQ(p.residual->kind, Expr::Kind::kOr);
  // NOT of a superset cannot be pushed.
  EXPECT_EQ(Search("WHERE NOT subject = 'x'"), "ALL");
  // Non-ASCII text stays on the client (servers fold case differently).
  p = MustCompile("WHERE subject CONTAINS 'Grüße' AND seen");
  EXPECT_EQ(SearchText(p.search), "SEEN");
  EXPECT_EQ(p.residual->field.name, "subject");
}

TEST(QueryCompilerTest, UserStringsAreStringPartsNeverSyntax) {
  Plan p = MustCompile("WHERE subject CONTAINS 'x\") LOGOUT\r\nA1 DELETE INBOX'");
  ASSERT_EQ(p.search.size(), 2u);
  EXPECT_FALSE(p.search[0].is_string);
  EXPECT_EQ(p.search[0].text, "SUBJECT");
  EXPECT_TRUE(p.search[1].is_string);
  EXPECT_EQ(p.search[1].text, "x\") LOGOUT\r\nA1 DELETE INBOX");
  // A keyword that is not an atom is never pasted either.
  EXPECT_EQ(Search("WHERE keywords CONTAINS 'a b'"), "ALL");
}

TEST(QueryCompilerTest, FetchOnlyWhatTheColumnsNeed) {
  Plan p = MustCompile("SELECT uid, subject, from, flags WHERE seen");
  EXPECT_THAT(p.columns, ElementsAre("uid", "subject", "from", "flags"));
  // Only the header fields the columns read: servers answer from their caches.
  EXPECT_EQ(p.fetch_items, "(UID FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])");
  EXPECT_FALSE(p.needs_full_message);
  // A condition SEARCH decides exactly needs nothing fetched; a residual does.
  EXPECT_EQ(MustCompile("SELECT date WHERE header('List-Id') CONTAINS 'x'").fetch_items,
            "(UID BODY.PEEK[HEADER.FIELDS (DATE)])");
  EXPECT_EQ(MustCompile("SELECT date WHERE header('List-Id') LIKE 'x%y'").fetch_items,
            "(UID BODY.PEEK[HEADER.FIELDS (DATE LIST-ID)])");
  EXPECT_EQ(MustCompile("SELECT uid, headers").fetch_items, "(UID BODY.PEEK[HEADER])");
  // Every header is decoded only when something reads the list.
  EXPECT_TRUE(MustCompile("SELECT uid, headers").needs_header_list);
  EXPECT_TRUE(MustCompile("SELECT uid WHERE header('List-Id') LIKE 'x%y'").needs_header_list);
  EXPECT_FALSE(MustCompile("SELECT uid, subject, text_body").needs_header_list);

  EXPECT_EQ(MustCompile("SELECT uid, size").fetch_items, "(UID RFC822.SIZE)");
  EXPECT_EQ(MustCompile("SELECT uid WHERE internal_date > '2024-01-01'").fetch_items,
            "(UID INTERNALDATE)");  // for the residual date check
  EXPECT_EQ(MustCompile("SELECT uid WHERE attachment_type = 'application/pdf'").fetch_items,
            "(UID BODY.PEEK[])");
  p = MustCompile("SELECT text_body FROM \"INBOX\", \"Archive/*\" ORDER BY uid DESC LIMIT 5");
  // Text bodies come from the parts BODYSTRUCTURE points at, not the whole message.
  EXPECT_FALSE(p.needs_full_message);
  EXPECT_TRUE(p.text_parts_only);
  EXPECT_EQ(p.fetch_items, "(UID BODYSTRUCTURE)");
  EXPECT_EQ(MustCompile("SELECT subject, text_body, attachments").fetch_items, "(UID BODY.PEEK[])");
  EXPECT_FALSE(MustCompile("SELECT subject, text_body, attachments").text_parts_only);
  EXPECT_THAT(p.folders, ElementsAre("INBOX", "Archive/*"));
  EXPECT_TRUE(p.descending);
  EXPECT_EQ(p.limit, 5u);
}

TEST(QueryCompilerTest, GmailColumnsAndPushdown) {
  Plan p = MustCompile(
      "SELECT uid, gmail_labels, gmail_msgid, gmail_thread_id FROM \"[Gmail]/All Mail\" "
      "WHERE gmail_labels CONTAINS 'Work' AND gmail_raw = 'has:attachment older_than:1y'");
  EXPECT_EQ(SearchText(p.search),
            "X-GM-LABELS \"Work\" X-GM-RAW \"has:attachment older_than:1y\"");
  EXPECT_TRUE(p.search_is_exact);
  EXPECT_FALSE(p.residual.has_value());
  EXPECT_EQ(p.fetch_items, "(UID X-GM-LABELS X-GM-MSGID X-GM-THRID)");
  EXPECT_THAT(p.gmail_fields,
              ElementsAre("gmail_labels", "gmail_msgid", "gmail_thread_id", "gmail_raw"));
  // The search strings are strings: the session quotes them, never pastes.
  ASSERT_EQ(p.search.size(), 4u);
  EXPECT_TRUE(p.search[1].is_string);
  EXPECT_EQ(p.search[3].text, "has:attachment older_than:1y");

  EXPECT_EQ(Search("WHERE gmail_labels CONTAINS '\\Inbox'"), "X-GM-LABELS \"\\Inbox\"");
  EXPECT_EQ(Search("WHERE gmail_labels IN ('Work', 'Home')"),
            "OR X-GM-LABELS \"Work\" X-GM-LABELS \"Home\"");
  EXPECT_EQ(Search("WHERE gmail_msgid = 1278455344230334865"), "X-GM-MSGID 1278455344230334865");
  EXPECT_EQ(Search("WHERE gmail_thread_id IN (1, 2)"), "OR X-GM-THRID 1 X-GM-THRID 2");
  EXPECT_EQ(Search("WHERE NOT gmail_raw = 'in:spam'"), "NOT X-GM-RAW \"in:spam\"");
  EXPECT_EQ(Search("WHERE gmail_raw = 'a' OR seen"), "OR X-GM-RAW \"a\" SEEN");
  // A label outside ASCII goes out in modified UTF-7, and the client checks
  // again (case folding may differ).
  Plan accented = MustCompile("SELECT uid WHERE gmail_labels CONTAINS '\xC3\x89t\xC3\xA9'");
  EXPECT_EQ(SearchText(accented.search), "X-GM-LABELS \"&AMk-t&AOk-\"");
  EXPECT_FALSE(accented.search_is_exact);
  EXPECT_EQ(accented.fetch_items, "(UID X-GM-LABELS)");
  // Id ranges are not Gmail searches: checked on the client.
  Plan range = MustCompile("SELECT uid WHERE gmail_msgid > 5");
  EXPECT_EQ(SearchText(range.search), "ALL");
  EXPECT_EQ(range.fetch_items, "(UID X-GM-MSGID)");
  // Plans without Gmail fields need nothing of the server.
  EXPECT_TRUE(MustCompile("SELECT * WHERE subject CONTAINS 'x'").gmail_fields.empty());
}

TEST(QueryCompilerTest, GmailRawIsNeverLeftToTheClient) {
  for (const char* text : {"WHERE gmail_raw = 'a' OR subject LIKE 'x%y'",
                           "WHERE NOT (gmail_raw = 'a' OR body CONTAINS 'b')"}) {
    absl::StatusOr<Query> q = ParseQuery(text);
    ASSERT_TRUE(q.ok()) << q.status();
    absl::StatusOr<Plan> p = Compile(*q);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(), ::testing::HasSubstr("gmail_raw is a Gmail search"));
  }
  // Under a top-level AND only the inexact conditions stay for the client.
  Plan p = MustCompile("WHERE gmail_raw = 'a' AND subject LIKE 'x%y'");
  EXPECT_EQ(SearchText(p.search), "X-GM-RAW \"a\" SUBJECT \"x\"");
  ASSERT_TRUE(p.residual.has_value());
  EXPECT_EQ(p.residual->field.name, "subject");
}

TEST(QueryCompilerTest, RequireGmailMessageIds) {
  Plan p = MustCompile("SELECT uid, subject");
  RequireGmailMessageIds(&p, "deduplicate_gmail_messages");
  EXPECT_EQ(p.fetch_items, "(UID X-GM-MSGID BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
  EXPECT_THAT(p.gmail_fields, ElementsAre("deduplicate_gmail_messages"));
  RequireGmailMessageIds(&p, "deduplicate_gmail_messages");  // idempotent
  EXPECT_EQ(p.fetch_items, "(UID X-GM-MSGID BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
  EXPECT_EQ(p.gmail_fields.size(), 1u);
  Plan q = MustCompile("SELECT gmail_msgid");
  RequireGmailMessageIds(&q, "deduplicate_gmail_messages");
  EXPECT_EQ(q.fetch_items, "(UID X-GM-MSGID)");
  EXPECT_THAT(q.gmail_fields, ElementsAre("gmail_msgid", "deduplicate_gmail_messages"));
}

TEST(QueryCompilerTest, FolderRolesAreKeptForTheRunner) {
  EXPECT_THAT(MustCompile("FROM role:sent, role:TRASH, \"\\All\", INBOX").folders,
              ElementsAre("\\Sent", "\\Trash", "\\All", "INBOX"));
}

}  // namespace
}  // namespace imap::query
