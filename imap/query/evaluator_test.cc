#include "imap/query/evaluator.h"

#include <chrono>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/mime/message_reader.h"
#include "imap/query/parser.h"

namespace imap::query {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// An invoice: multipart with text, HTML and a PDF; Date 2024-01-31 23:30
// at -01:00, i.e. 2024-02-01T00:30:00Z.
constexpr absl::string_view kInvoice =
    "From: \"Alice Example\" <Alice@Example.COM>\r\n"
    "To: Bob <bob@example.org>, carol@example.net\r\n"
    "Cc: =?UTF-8?Q?Zo=C3=AB_=C3=85ngstr=C3=B6m?= <zoe@example.se>\r\n"
    "Sender: Billing <billing@example.com>\r\n"
    "Reply-To: accounts@example.com\r\n"
    "Subject: Invoice 2024-001 =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
    "Date: Wed, 31 Jan 2024 23:30:00 -0100\r\n"
    "Message-ID: <abc.123@example.com>\r\n"
    "In-Reply-To: <parent@example.com>\r\n"
    "References: <root@example.com> <parent@example.com>\r\n"
    "List-Id: Weekly news <weekly.lists.example.org>\r\n"
    "X-Tag: first\r\n"
    "x-tag: Second\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
    "\r\n"
    "--b2\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Hello Bob, the invoice is attached. Gr\xC3\xBC\xC3\x9F"
    "e\r\n"
    "--b2\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>Hello <b>Bob</b>, see the PDF</p>\r\n"
    "--b2--\r\n"
    "--b1\r\n"
    "Content-Type: application/pdf; name=\"invoice-2024.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"invoice-2024.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "JVBERi0xLjQK\r\n"
    "--b1--\r\n";

// Plain text, no Date, Greek and Cyrillic, no attachments.
constexpr absl::string_view kGreek =
    "From: =?UTF-8?B?zpHOuM63zr3OsQ==?= <athena@example.gr>\r\n"
    "To: =?UTF-8?B?0JzQvtGB0LrQstCw?= <moskva@example.ru>\r\n"
    "Subject: =?UTF-8?B?zp/OlM6fzqMgzpHOmM6Xzp3OkQ==?=\r\n"
    "Message-ID: <greek@example.gr>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2 100% (a_b) [x].*\\ "
    "done\r\n";

// Two attachments, one with odd characters in its name; an unreadable Date.
constexpr absl::string_view kPhotos =
    "From: carol@example.net\r\n"
    "To: \"Alice Example\" <alice@example.com>\r\n"
    "Bcc: secret@example.org\r\n"
    "Subject: photos\r\n"
    "Date: Wed, 15 Dec 2010 59:10 -0500\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"zz\"\r\n"
    "\r\n"
    "--zz\r\n"
    "Content-Type: image/png\r\n"
    "Content-Disposition: attachment; filename=\"photo.JPG\"\r\n"
    "\r\n"
    "png\r\n"
    "--zz\r\n"
    "Content-Type: text/csv\r\n"
    "Content-Disposition: attachment; filename=\"data_100%.csv\"\r\n"
    "\r\n"
    "a,b\r\n"
    "--zz--\r\n";

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

class EvaluatorTest : public ::testing::Test {
 protected:
  EvaluatorTest()
      : invoice_record_(mime::ReadMessage(kInvoice)),
        greek_record_(mime::ReadMessage(kGreek)),
        photos_record_(mime::ReadMessage(kPhotos)) {
    invoice_.uid = 42;
    invoice_.folder = "INBOX";
    invoice_.uid_validity = 1700000000;
    invoice_.flags = {"\\Seen", "\\Flagged", "$Important", "Work"};
    invoice_.internal_date = Utc(2024, 2, 1, 0, 0, 0);
    invoice_.size = 5000;
    invoice_.record = &invoice_record_;

    greek_.uid = 7;
    greek_.folder = "Entwürfe";
    greek_.uid_validity = 3;
    greek_.flags = {"\\Answered", "\\Draft"};
    greek_.internal_date = Utc(2024, 1, 31, 23, 59, 59);
    greek_.size = 300;
    greek_.record = &greek_record_;

    photos_.uid = 100000;
    photos_.folder = "Archive/2024";
    photos_.uid_validity = 3;
    photos_.flags = {"\\Deleted", "\\Recent", "\\SEEN"};
    photos_.internal_date = Utc(2024, 1, 31, 0, 0, 0);
    photos_.size = 10 * 1024 * 1024;
    photos_.record = &photos_record_;
  }

  // The WHERE condition of `where`; fails the test if it does not parse.
  static Expr Where(absl::string_view where) {
    absl::StatusOr<Query> q = ParseQuery(absl::StrCat("WHERE ", where));
    EXPECT_TRUE(q.ok()) << where << ": " << q.status();
    if (!q.ok() || !q->where.has_value()) return Expr();
    return *q->where;
  }

  // Evaluates `where` on `facts`; fails the test on an error.
  static bool Eval(absl::string_view where, const MessageFacts &facts) {
    absl::StatusOr<bool> r = Evaluate(Where(where), facts);
    EXPECT_TRUE(r.ok()) << where << ": " << r.status();
    return r.ok() && *r;
  }

  bool Invoice(absl::string_view where) const { return Eval(where, invoice_); }
  bool Greek(absl::string_view where) const { return Eval(where, greek_); }
  bool Photos(absl::string_view where) const { return Eval(where, photos_); }

  mime::MessageRecord invoice_record_, greek_record_, photos_record_;
  MessageFacts invoice_, greek_, photos_;
};

TEST_F(EvaluatorTest, FixturesReadAsExpected) {
  // The tests below rely on what the MIME reader makes of the messages.
  EXPECT_EQ(invoice_record_.subject,
            "Invoice 2024-001 Gr\xC3\xBC\xC3\x9F"
            "e");
  ASSERT_TRUE(invoice_record_.date.utc.has_value());
  EXPECT_EQ(*invoice_record_.date.utc, Utc(2024, 2, 1, 0, 30));
  ASSERT_TRUE(invoice_record_.text_body.has_value());
  ASSERT_TRUE(invoice_record_.html_body.has_value());
  ASSERT_EQ(invoice_record_.attachments.size(), 1u);
  EXPECT_EQ(invoice_record_.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(greek_record_.subject,
            "\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3 "
            "\xCE\x91\xCE\x98\xCE\x97\xCE\x9D\xCE\x91");  // ΟΔΟΣ ΑΘΗΝΑ
  EXPECT_FALSE(greek_record_.date.utc.has_value());
  EXPECT_FALSE(greek_record_.html_body.has_value());
  EXPECT_FALSE(photos_record_.date.utc.has_value());
  EXPECT_FALSE(photos_record_.date.raw.empty());
  ASSERT_EQ(photos_record_.attachments.size(), 2u);
  EXPECT_EQ(photos_record_.attachments[1].filename, "data_100%.csv");
}

TEST_F(EvaluatorTest, Integers) {
  EXPECT_TRUE(Invoice("uid = 42"));
  EXPECT_FALSE(Invoice("uid = 41"));
  EXPECT_TRUE(Invoice("uid != 41"));
  EXPECT_FALSE(Invoice("uid <> 42"));
  EXPECT_TRUE(Invoice("uid < 43"));
  EXPECT_FALSE(Invoice("uid < 42"));
  EXPECT_TRUE(Invoice("uid <= 42"));
  EXPECT_FALSE(Invoice("uid <= 41"));
  EXPECT_TRUE(Invoice("uid > 41"));
  EXPECT_FALSE(Invoice("uid > 42"));
  EXPECT_TRUE(Invoice("uid >= 42"));
  EXPECT_FALSE(Invoice("uid >= 43"));
  EXPECT_TRUE(Invoice("uid IN (1, 42, 99)"));
  EXPECT_FALSE(Invoice("uid IN (1, 41, 99)"));
  EXPECT_TRUE(Photos("uid = 100000"));

  EXPECT_TRUE(Photos("size = 10MB"));
  EXPECT_TRUE(Photos("size > 5MB"));
  EXPECT_FALSE(Photos("size < 10MB"));
  EXPECT_TRUE(Photos("size <= 10240KB"));
  EXPECT_TRUE(Invoice("size IN (4999, 5000)"));
  EXPECT_FALSE(Invoice("size >= 1GB"));

  EXPECT_TRUE(Invoice("uidvalidity = 1700000000"));
  EXPECT_TRUE(Greek("uidvalidity < 4 AND uidvalidity != 2"));
  EXPECT_FALSE(Greek("uidvalidity IN (1, 2)"));
}

TEST_F(EvaluatorTest, IntegerBeyondUint32) {
  // A literal larger than any UID compares numerically, not truncated.
  EXPECT_TRUE(Invoice("uid < 4294967338"));  // 2^32 + 42
  EXPECT_FALSE(Invoice("uid = 4294967338"));
}

TEST_F(EvaluatorTest, InternalDateWithTime) {
  // 2024-02-01T00:00:00Z exactly.
  EXPECT_TRUE(Invoice("internal_date = '2024-02-01T00:00:00Z'"));
  EXPECT_TRUE(Invoice("internal_date = '2024-02-01T01:00:00+01:00'"));
  EXPECT_FALSE(Invoice("internal_date = '2024-02-01T00:00:01Z'"));
  EXPECT_TRUE(Invoice("internal_date != '2024-02-01T00:00:01Z'"));
  EXPECT_TRUE(Invoice("internal_date < '2024-02-01T00:00:01Z'"));
  EXPECT_FALSE(Invoice("internal_date < '2024-02-01T00:00:00Z'"));
  EXPECT_TRUE(Invoice("internal_date <= '2024-02-01T00:00:00Z'"));
  EXPECT_TRUE(Invoice("internal_date > '2024-01-31T23:59:59Z'"));
  EXPECT_FALSE(Invoice("internal_date > '2024-02-01T00:00:00Z'"));
  EXPECT_TRUE(Invoice("internal_date >= '2024-02-01T00:00:00Z'"));
  EXPECT_TRUE(Invoice("internal_date >= '2024-01-31T19:00:00-05:00'"));
  EXPECT_FALSE(Invoice("internal_date >= '2024-01-31T19:00:01-05:00'"));
}

TEST_F(EvaluatorTest, DateOnlyIsTheWholeUtcDay) {
  // At 2024-01-31T00:00:00 (photos), 23:59:59 (greek), 2024-02-01T00:00:00
  // (invoice).
  EXPECT_TRUE(Photos("internal_date = '2024-01-31'"));
  EXPECT_TRUE(Greek("internal_date = '2024-01-31'"));
  EXPECT_FALSE(Invoice("internal_date = '2024-01-31'"));
  EXPECT_TRUE(Invoice("internal_date = '2024-02-01'"));
  EXPECT_FALSE(Greek("internal_date = '2024-02-01'"));
  EXPECT_FALSE(Photos("internal_date = '2024-01-30'"));

  EXPECT_FALSE(Photos("internal_date != '2024-01-31'"));
  EXPECT_FALSE(Greek("internal_date != '2024-01-31'"));
  EXPECT_TRUE(Invoice("internal_date != '2024-01-31'"));

  // > D: from the next day's start.
  EXPECT_FALSE(Greek("internal_date > '2024-01-31'"));
  EXPECT_FALSE(Photos("internal_date > '2024-01-31'"));
  EXPECT_TRUE(Invoice("internal_date > '2024-01-31'"));
  EXPECT_TRUE(Photos("internal_date > '2024-01-30'"));

  // >= D: from its start.
  EXPECT_TRUE(Photos("internal_date >= '2024-01-31'"));
  EXPECT_TRUE(Greek("internal_date >= '2024-01-31'"));
  EXPECT_FALSE(Greek("internal_date >= '2024-02-01'"));
  EXPECT_TRUE(Invoice("internal_date >= '2024-02-01'"));

  // < D: before its start.
  EXPECT_FALSE(Photos("internal_date < '2024-01-31'"));
  EXPECT_TRUE(Greek("internal_date < '2024-02-01'"));
  EXPECT_FALSE(Invoice("internal_date < '2024-02-01'"));

  // <= D: until its end.
  EXPECT_TRUE(Greek("internal_date <= '2024-01-31'"));
  EXPECT_TRUE(Photos("internal_date <= '2024-01-31'"));
  EXPECT_FALSE(Invoice("internal_date <= '2024-01-31'"));
  EXPECT_TRUE(Invoice("internal_date <= '2024-02-01'"));
  EXPECT_FALSE(Photos("internal_date <= '2024-01-30'"));
}

TEST_F(EvaluatorTest, DateHeaderInUtc) {
  // "Wed, 31 Jan 2024 23:30:00 -0100" is 2024-02-01T00:30:00Z: the UTC day
  // counts.
  EXPECT_TRUE(Invoice("date = '2024-02-01'"));
  EXPECT_FALSE(Invoice("date = '2024-01-31'"));
  EXPECT_TRUE(Invoice("date > '2024-01-31'"));
  EXPECT_TRUE(Invoice("date >= '2024-02-01'"));
  EXPECT_FALSE(Invoice("date < '2024-02-01'"));
  EXPECT_TRUE(Invoice("date <= '2024-02-01'"));
  EXPECT_TRUE(Invoice("date = '2024-02-01T00:30:00Z'"));
  EXPECT_TRUE(Invoice("date = '2024-01-31T23:30:00-01:00'"));
  EXPECT_TRUE(Invoice("date > '2024-02-01T00:29:59Z'"));
  EXPECT_FALSE(Invoice("date > '2024-02-01T00:30:00Z'"));
  EXPECT_TRUE(Invoice("date != '2024-02-01T00:30:01Z'"));
}

TEST_F(EvaluatorTest, NoDateFailsEveryDateCondition) {
  for (const MessageFacts *facts : {&greek_, &photos_}) {  // no Date / unreadable Date
    for (absl::string_view where :
         {"date = '2024-01-31'", "date != '2024-01-31'", "date < '2100-01-01'",
          "date <= '2100-01-01'", "date > '1970-01-01'", "date >= '1970-01-01'",
          "date != '2024-01-31T10:00:00Z'"}) {
      EXPECT_FALSE(Eval(where, *facts)) << where;
      // NOT is still the negation of the condition.
      EXPECT_TRUE(Eval(absl::StrCat("NOT ", where), *facts)) << where;
    }
  }
}

TEST_F(EvaluatorTest, TextEqualsIsExactAndCaseSensitive) {
  EXPECT_TRUE(Invoice("subject = 'Invoice 2024-001 Grüße'"));
  EXPECT_FALSE(Invoice("subject = 'invoice 2024-001 grüße'"));
  EXPECT_FALSE(Invoice("subject = 'Invoice 2024-001'"));
  EXPECT_TRUE(Invoice("subject != 'invoice 2024-001 grüße'"));
  EXPECT_FALSE(Invoice("subject != 'Invoice 2024-001 Grüße'"));
  EXPECT_TRUE(Invoice("subject IN ('x', 'Invoice 2024-001 Grüße')"));
  EXPECT_FALSE(Invoice("subject IN ('x', 'INVOICE 2024-001 GRÜSSE')"));
  EXPECT_TRUE(Invoice("message_id = '<abc.123@example.com>'"));
  EXPECT_FALSE(Invoice("message_id = 'abc.123@example.com'"));
  EXPECT_TRUE(Invoice("in_reply_to = '<parent@example.com>'"));
  EXPECT_TRUE(Invoice("in_reply_to IN ('<parent@example.com>')"));
  EXPECT_TRUE(Greek("in_reply_to = ''"));  // absent: empty
  EXPECT_TRUE(Photos("message_id = ''"));
  EXPECT_TRUE(Photos("subject = 'photos'"));
}

TEST_F(EvaluatorTest, TextContains) {
  EXPECT_TRUE(Invoice("subject CONTAINS 'invoice'"));
  EXPECT_TRUE(Invoice("subject CONTAINS 'INVOICE 2024'"));
  EXPECT_FALSE(Invoice("subject CONTAINS 'receipt'"));
  EXPECT_TRUE(Invoice("subject CONTAINS ''"));
  EXPECT_TRUE(Invoice("message_id CONTAINS 'ABC.123@'"));
  EXPECT_TRUE(Invoice("in_reply_to CONTAINS 'PARENT'"));
  EXPECT_TRUE(Invoice("text_body CONTAINS 'the INVOICE is'"));
  EXPECT_FALSE(Invoice("text_body CONTAINS '<b>'"));
  EXPECT_TRUE(Invoice("html_body CONTAINS '<B>BOB</B>'"));
  EXPECT_FALSE(Invoice("html_body CONTAINS 'attached'"));
  // body: either.
  EXPECT_TRUE(Invoice("body CONTAINS 'attached'"));
  EXPECT_TRUE(Invoice("body CONTAINS 'see the pdf'"));
  EXPECT_FALSE(Invoice("body CONTAINS 'nowhere'"));
  // A missing HTML body reads as "".
  EXPECT_FALSE(Greek("html_body CONTAINS 'a'"));
  EXPECT_TRUE(Greek("html_body CONTAINS ''"));
  EXPECT_TRUE(Greek("html_body = ''"));
  EXPECT_TRUE(Greek("body CONTAINS '100%'"));
  // Special characters are literal.
  EXPECT_TRUE(Greek("text_body CONTAINS '[x].*\\'"));
  EXPECT_FALSE(Greek("text_body CONTAINS '[x]+'"));
}

TEST_F(EvaluatorTest, NonAsciiCaseFolding) {
  // Latin: simple lower-casing, no full folding (ß stays ß).
  EXPECT_TRUE(Invoice("subject CONTAINS 'GRÜßE'"));
  EXPECT_TRUE(Invoice("subject CONTAINS 'grüße'"));
  EXPECT_TRUE(Invoice("subject CONTAINS 'GRÜẞE'"));  // capital sharp s U+1E9E
  EXPECT_FALSE(Invoice("subject CONTAINS 'GRÜSSE'"));
  EXPECT_FALSE(Invoice("subject CONTAINS 'grusse'"));
  // Decomposed ü (u + U+0308) is not the precomposed ü: no normalisation.
  EXPECT_FALSE(
      Invoice("subject CONTAINS 'gru\xCC\x88\xC3\x9F"
              "e'"));
  EXPECT_TRUE(Invoice("text_body CONTAINS 'GRÜßE'"));
  EXPECT_TRUE(Invoice("cc CONTAINS 'zoë ångström'"));
  EXPECT_TRUE(Invoice("cc CONTAINS 'ZOË ÅNGSTRÖM'"));
  // Greek, final sigma folds to sigma.
  EXPECT_TRUE(Greek("subject CONTAINS 'οδοσ αθηνα'"));
  EXPECT_TRUE(Greek("subject CONTAINS 'οδος'"));
  EXPECT_TRUE(Greek("from CONTAINS 'ΑΘΗΝΑ'"));
  EXPECT_TRUE(Greek("from LIKE 'αθηνα'"));
  // Cyrillic.
  EXPECT_TRUE(Greek("to CONTAINS 'МОСКВА'"));
  EXPECT_TRUE(Greek("to CONTAINS 'москва'"));
  EXPECT_TRUE(Greek("text_body CONTAINS 'привет'"));
  EXPECT_TRUE(Greek("text_body LIKE 'привет%'"));
  EXPECT_FALSE(Greek("text_body CONTAINS 'привит'"));
  // Folding never makes '=' case-insensitive.
  EXPECT_FALSE(Greek("subject = 'οδος αθηνα'"));
}

TEST_F(EvaluatorTest, Like) {
  EXPECT_TRUE(Invoice("subject LIKE 'invoice%'"));
  EXPECT_TRUE(Invoice("subject LIKE '%GRÜßE'"));
  EXPECT_TRUE(Invoice("subject LIKE '%2024%'"));
  EXPECT_FALSE(Invoice("subject LIKE 'invoice'"));  // whole value
  EXPECT_FALSE(Invoice("subject LIKE '2024%'"));
  EXPECT_TRUE(Invoice("subject LIKE 'invoice ____-001 gr__e'"));  // '_' is one character (ü, ß)
  EXPECT_FALSE(Invoice("subject LIKE 'invoice ____-001 gr___e'"));
  EXPECT_FALSE(Invoice("subject LIKE 'invoice ____-001 gr_e'"));
  EXPECT_TRUE(Invoice("subject LIKE '%'"));
  EXPECT_TRUE(Invoice("subject LIKE '%%%'"));
  EXPECT_FALSE(Invoice("subject LIKE ''"));
  EXPECT_TRUE(Photos("in_reply_to LIKE ''"));
  EXPECT_TRUE(Photos("in_reply_to LIKE '%'"));
  EXPECT_FALSE(Photos("in_reply_to LIKE '_'"));
  // Special characters: regex and glob characters and backslash are literal;
  // there is no escape character.
  // The body is: ПРИВЕТ 100% (a_b) [x].*\ done
  EXPECT_TRUE(Greek("text_body LIKE '%(a_b) [x].*\\ done%'"));
  EXPECT_FALSE(Greek("text_body LIKE '%100% (a\\_b)%'"));  // a backslash, then any one
  EXPECT_TRUE(Greek("text_body LIKE '%100% (a_b)%'"));
  EXPECT_FALSE(Greek("text_body LIKE '%100%%(a?b)%'"));  // '?' is literal
  EXPECT_TRUE(Greek("text_body LIKE '%[x]._\\%'"));
  EXPECT_FALSE(Greek("text_body LIKE '%[x]+%'"));
  EXPECT_FALSE(Greek("text_body LIKE '%x.*y%'"));
  EXPECT_FALSE(Photos("attachment_name LIKE 'data\\_100%'"));  // a backslash is no escape
  EXPECT_TRUE(Photos("attachment_name LIKE 'data_100%.csv'"));
  EXPECT_TRUE(Photos("attachment_name LIKE '%.jpg'"));
  EXPECT_TRUE(Invoice("header('X-Tag') LIKE 's_c%'"));
  EXPECT_TRUE(Invoice("message_id LIKE '<%@example.com>'"));
  EXPECT_TRUE(Invoice("subject LIKE 'Invoice%' AND subject LIKE '%e'"));
}

TEST_F(EvaluatorTest, LikeIsNotExponential) {
  mime::MessageRecord record;
  record.subject = std::string(10000, 'a');
  MessageFacts facts;
  facts.record = &record;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(Eval("subject LIKE '%a%a%a%a%a%b'", facts));
  EXPECT_TRUE(Eval("subject LIKE '%a%a%a%a%a%a'", facts));
  EXPECT_FALSE(Eval("subject LIKE '%a_a_a_a_a_b%'", facts));
  EXPECT_FALSE(Eval("subject LIKE '%aaaaaaaaaaaaaaaaaaaaaaaaaaaaab%'", facts));
  record.subject = std::string(10000, 'a') + "b";
  EXPECT_TRUE(Eval("subject LIKE '%a%a%a%a%a%b'", facts));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  // Backtracking would take longer than the age of the universe; O(n*m) is a
  // few ms.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST_F(EvaluatorTest, Folder) {
  EXPECT_TRUE(Invoice("folder = 'INBOX'"));
  EXPECT_TRUE(Invoice("folder = 'inbox'"));  // INBOX is case-insensitive in IMAP
  EXPECT_TRUE(Greek("folder = 'Entwürfe'"));
  EXPECT_FALSE(Greek("folder = 'entwürfe'"));
  EXPECT_TRUE(Greek("folder CONTAINS 'ENTWÜRF'"));
  EXPECT_TRUE(Photos("folder LIKE 'archive/%'"));
  EXPECT_TRUE(Photos("folder IN ('INBOX', 'Archive/2024')"));
  EXPECT_TRUE(Photos("folder != 'Archive'"));
}

TEST_F(EvaluatorTest, Addresses) {
  // '=': address case-insensitively, or the name exactly.
  EXPECT_TRUE(Invoice("from = 'alice@example.com'"));
  EXPECT_TRUE(Invoice("from = 'ALICE@EXAMPLE.COM'"));
  EXPECT_TRUE(Invoice("from = 'Alice Example'"));
  EXPECT_FALSE(Invoice("from = 'alice example'"));
  EXPECT_FALSE(Invoice("from = 'Alice Example <Alice@Example.COM>'"));
  EXPECT_FALSE(Invoice("from != 'alice@example.com'"));
  EXPECT_TRUE(Invoice("from != 'bob@example.org'"));
  // Any of the addresses.
  EXPECT_TRUE(Invoice("to = 'carol@example.net'"));
  EXPECT_TRUE(Invoice("to = 'Bob'"));
  EXPECT_FALSE(Invoice("to != 'carol@example.net'"));
  EXPECT_TRUE(Invoice("to IN ('x@y.z', 'BOB@example.org')"));
  EXPECT_FALSE(Invoice("to IN ('x@y.z', 'alice@example.com')"));
  // A mailbox without a name is matched by address only.
  EXPECT_FALSE(Invoice("to = ''"));
  // CONTAINS and LIKE on name or address, never a span of both.
  EXPECT_TRUE(Invoice("from CONTAINS 'alice'"));
  EXPECT_TRUE(Invoice("from CONTAINS 'EXAMPLE.com'"));
  EXPECT_FALSE(Invoice("from CONTAINS 'Example <Alice'"));
  EXPECT_FALSE(Invoice("from CONTAINS 'Example Alice'"));
  EXPECT_TRUE(Invoice("from LIKE '%@example.com'"));
  EXPECT_TRUE(Invoice("from LIKE 'alice %'"));
  EXPECT_FALSE(Invoice("from LIKE '%@example.org'"));
  EXPECT_TRUE(Invoice("to LIKE '%@example.net'"));
  EXPECT_TRUE(Invoice("cc = 'zoe@example.se'"));
  EXPECT_TRUE(Invoice("cc = 'Zoë Ångström'"));
  EXPECT_TRUE(Invoice("sender = 'Billing'"));
  EXPECT_TRUE(Invoice("sender CONTAINS 'billing@'"));
  EXPECT_TRUE(Invoice("reply_to = 'accounts@example.com'"));
  EXPECT_FALSE(Invoice("bcc CONTAINS ''"));  // no Bcc: no address to match
  EXPECT_TRUE(Invoice("bcc != 'x@y.z'"));
  EXPECT_TRUE(Photos("bcc = 'secret@example.org'"));
  EXPECT_TRUE(Photos("to = 'Alice Example'"));
  EXPECT_FALSE(Photos("sender LIKE '%'"));
}

TEST_F(EvaluatorTest, FlagsAndKeywords) {
  EXPECT_TRUE(Invoice("seen"));
  EXPECT_TRUE(Invoice("flagged"));
  EXPECT_FALSE(Invoice("answered"));
  EXPECT_FALSE(Invoice("deleted OR draft OR recent"));
  EXPECT_TRUE(Greek("answered AND draft AND NOT seen"));
  EXPECT_TRUE(Photos("seen AND deleted AND recent"));  // \SEEN: case-insensitive

  EXPECT_TRUE(Invoice("flags CONTAINS '\\Seen'"));
  EXPECT_TRUE(Invoice("flags CONTAINS '\\seen'"));
  EXPECT_FALSE(Invoice("flags CONTAINS 'Seen'"));  // membership, not a substring
  EXPECT_FALSE(Invoice("flags CONTAINS '\\Se'"));
  EXPECT_FALSE(Invoice("flags CONTAINS '$Important'"));  // a keyword, not a system flag
  EXPECT_TRUE(Invoice("flags IN ('\\Draft', '\\FLAGGED')"));
  EXPECT_FALSE(Invoice("flags IN ('\\Draft', '\\Deleted')"));

  EXPECT_TRUE(Invoice("keywords CONTAINS '$Important'"));
  EXPECT_TRUE(Invoice("keywords CONTAINS '$important'"));
  EXPECT_TRUE(Invoice("keywords CONTAINS 'work'"));
  EXPECT_FALSE(Invoice("keywords CONTAINS '$Imp'"));
  EXPECT_FALSE(Invoice("keywords CONTAINS '\\Seen'"));
  EXPECT_TRUE(Invoice("keywords IN ('junk', 'Work')"));
  EXPECT_FALSE(Greek("keywords IN ('junk', 'Work')"));

  EXPECT_TRUE(Invoice("references CONTAINS '<root@example.com>'"));
  EXPECT_FALSE(Invoice("references CONTAINS 'root'"));
  EXPECT_TRUE(Invoice("references IN ('<x@y>', '<parent@example.com>')"));
}

TEST_F(EvaluatorTest, GmailColumns) {
  MessageFacts m = invoice_;
  m.gmail_labels = std::vector<std::string>{"\\Inbox", "\\Important", "Work",
                                            "\xC3\x89t\xC3\xA9"};  // Été
  m.gmail_msgid = 1278455344230334865u;
  m.gmail_thread_id = 1278455344230334800u;
  EXPECT_TRUE(Eval("gmail_labels CONTAINS 'Work'", m));
  EXPECT_TRUE(Eval("gmail_labels CONTAINS 'work'", m));  // Gmail labels ignore case
  EXPECT_FALSE(Eval("gmail_labels CONTAINS 'Wor'", m));  // membership, not a substring
  EXPECT_TRUE(Eval("gmail_labels CONTAINS '\\Inbox'", m));
  EXPECT_TRUE(Eval("gmail_labels CONTAINS '\xC3\x89t\xC3\xA9'", m));
  EXPECT_TRUE(Eval("gmail_labels IN ('Private', '\\Important')", m));
  EXPECT_FALSE(Eval("gmail_labels IN ('Private', '\\Sent')", m));
  EXPECT_TRUE(Eval("gmail_msgid = 1278455344230334865", m));
  EXPECT_FALSE(Eval("gmail_msgid = 1278455344230334866", m));
  EXPECT_TRUE(Eval("gmail_thread_id < 1278455344230334865 AND gmail_thread_id > 1", m));
  EXPECT_TRUE(Eval("gmail_thread_id IN (1, 1278455344230334800)", m));

  // Not fetched: an error naming the column, as for other missing data.
  for (absl::string_view where :
       {"gmail_labels CONTAINS 'x'", "gmail_msgid = 1", "gmail_thread_id = 1"}) {
    absl::StatusOr<bool> r = Evaluate(Where(where), invoice_);
    ASSERT_FALSE(r.ok()) << where;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << where;
    EXPECT_THAT(r.status().message(), HasSubstr("cannot evaluate gmail_")) << where;
  }
  // A Gmail search is never run on the client, whatever was fetched.
  absl::StatusOr<bool> raw = Evaluate(Where("gmail_raw = 'has:attachment'"), m);
  ASSERT_FALSE(raw.ok());
  EXPECT_EQ(raw.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(raw.status().message(), HasSubstr("only the server runs a Gmail search"));
}

TEST_F(EvaluatorTest, Headers) {
  EXPECT_TRUE(Invoice("header('List-Id') CONTAINS 'weekly.lists.example.org'"));
  EXPECT_TRUE(Invoice("header('list-id') CONTAINS 'WEEKLY'"));
  EXPECT_TRUE(Invoice("header('LIST-ID') = 'Weekly news <weekly.lists.example.org>'"));
  // Every header of that name counts.
  EXPECT_TRUE(Invoice("header('X-Tag') = 'first'"));
  EXPECT_TRUE(Invoice("header('X-Tag') = 'Second'"));
  EXPECT_FALSE(Invoice("header('X-Tag') = 'second'"));
  EXPECT_FALSE(Invoice("header('X-Tag') != 'first'"));  // NOT (any = 'first')
  EXPECT_TRUE(Invoice("header('X-Tag') IN ('Second', 'third')"));
  EXPECT_TRUE(Invoice("header('X-Tag') LIKE 'f%'"));
  // A missing header matches nothing, so != holds.
  EXPECT_FALSE(Invoice("header('X-Missing') CONTAINS ''"));
  EXPECT_FALSE(Invoice("header('X-Missing') LIKE '%'"));
  EXPECT_TRUE(Invoice("header('X-Missing') != 'x'"));
  // Decoded values.
  EXPECT_TRUE(Invoice("header('Subject') CONTAINS 'grüße'"));
}

TEST_F(EvaluatorTest, Attachments) {
  EXPECT_TRUE(Invoice("has_attachment"));
  EXPECT_TRUE(Invoice("has_attachment = true"));
  EXPECT_FALSE(Invoice("has_attachment = false"));
  EXPECT_FALSE(Invoice("has_attachment != true"));
  EXPECT_FALSE(Greek("has_attachment"));
  EXPECT_TRUE(Greek("has_attachment = false"));
  EXPECT_TRUE(Greek("NOT has_attachment"));

  EXPECT_TRUE(Invoice("attachment_name = 'invoice-2024.pdf'"));
  EXPECT_FALSE(Invoice("attachment_name = 'INVOICE-2024.PDF'"));
  EXPECT_TRUE(Invoice("attachment_name LIKE '%.PDF'"));
  EXPECT_TRUE(Invoice("attachment_name CONTAINS 'invoice'"));
  EXPECT_TRUE(Photos("attachment_name = 'photo.JPG'"));
  EXPECT_TRUE(Photos("attachment_name = 'data_100%.csv'"));
  EXPECT_FALSE(Photos("attachment_name != 'photo.JPG'"));
  EXPECT_TRUE(Photos("attachment_name IN ('a.pdf', 'data_100%.csv')"));
  EXPECT_FALSE(Greek("attachment_name LIKE '%'"));
  EXPECT_TRUE(Greek("attachment_name != 'x'"));

  EXPECT_TRUE(Invoice("attachment_type = 'application/pdf'"));
  EXPECT_TRUE(Invoice("attachment_type = 'Application/PDF'"));  // MIME types ignore case
  EXPECT_TRUE(Photos("attachment_type LIKE 'image/%'"));
  EXPECT_TRUE(Photos("attachment_type CONTAINS 'CSV'"));
  EXPECT_TRUE(Photos("attachment_type IN ('text/csv')"));
  EXPECT_FALSE(Photos("attachment_type = 'application/pdf'"));
  EXPECT_FALSE(Greek("attachment_type CONTAINS ''"));
}

TEST_F(EvaluatorTest, Defects) {
  // The unreadable date is a defect; CONTAINS searches the defect texts.
  ASSERT_FALSE(photos_record_.defects.empty());
  EXPECT_TRUE(Photos("defects CONTAINS 'DATE'"));
  EXPECT_FALSE(Photos("defects CONTAINS 'no such defect'"));
  EXPECT_FALSE(Photos("defects IN ('x')"));
}

TEST_F(EvaluatorTest, BooleanLogic) {
  EXPECT_TRUE(Invoice("seen AND uid = 42"));
  EXPECT_FALSE(Invoice("seen AND uid = 41"));
  EXPECT_TRUE(Invoice("answered OR uid = 42"));
  EXPECT_FALSE(Invoice("answered OR uid = 41"));
  EXPECT_TRUE(Invoice("NOT answered"));
  EXPECT_TRUE(Invoice("NOT NOT seen"));
  EXPECT_TRUE(
      Invoice("date >= '2024-01-01' AND NOT answered AND "
              "(subject CONTAINS 'invoice' OR from LIKE '%@billing.example.com')"));
  EXPECT_FALSE(Greek("date >= '2024-01-01' AND NOT seen"));

  Expr empty_and;  // kAnd without children: true; kOr without: false
  EXPECT_EQ(Evaluate(empty_and, invoice_), absl::StatusOr<bool>(true));
  Expr empty_or;
  empty_or.kind = Expr::Kind::kOr;
  EXPECT_EQ(Evaluate(empty_or, invoice_), absl::StatusOr<bool>(false));
}

// ------------------------------------------------------------ errors

TEST_F(EvaluatorTest, MissingRecordIsAnErrorNamingTheField) {
  MessageFacts facts = invoice_;
  facts.record = nullptr;
  for (absl::string_view field : {"subject", "from", "date", "text_body", "body", "attachment_name",
                                  "has_attachment", "message_id", "references"}) {
    SCOPED_TRACE(field);
    Expr e;
    if (field == "date") {
      e = Where("date > '2024-01-01'");
    } else if (field == "has_attachment") {
      e = Where("has_attachment");
    } else if (field == "references") {
      e = Where("references CONTAINS 'x'");
    } else {
      e = Where(absl::StrCat(field, " CONTAINS 'x'"));
    }
    absl::StatusOr<bool> r = Evaluate(e, facts);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(r.status().message(), HasSubstr(absl::StrCat("cannot evaluate ", field, ":")));
  }
  absl::StatusOr<bool> r = Evaluate(Where("header('List-Id') = 'x'"), facts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "line 1, column 7: cannot evaluate header('List-Id'): the message "
            "(header or body) "
            "was not fetched");
  // What does not need the record still works.
  EXPECT_EQ(Evaluate(Where("seen AND uid = 42 AND size > 1 AND folder = 'INBOX'"), facts),
            absl::StatusOr<bool>(true));
}

TEST_F(EvaluatorTest, MissingSizeAndInternalDate) {
  MessageFacts facts = invoice_;
  facts.size.reset();
  facts.internal_date.reset();
  absl::StatusOr<bool> r = Evaluate(Where("size > 10"), facts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "line 1, column 7: cannot evaluate size: RFC822.SIZE was not fetched");
  r = Evaluate(Where("internal_date > '2024-01-01'"), facts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "line 1, column 7: cannot evaluate internal_date: INTERNALDATE was "
            "not fetched");
}

TEST_F(EvaluatorTest, MissingDataIsAnErrorEvenWhenShortCircuited) {
  // The check covers the whole expression, so the outcome does not depend on
  // the order of the operands or on the message's values.
  MessageFacts facts = invoice_;
  facts.record = nullptr;
  for (absl::string_view where :
       {"seen OR subject CONTAINS 'x'", "answered AND subject CONTAINS 'x'",
        "subject CONTAINS 'x' OR seen"}) {
    absl::StatusOr<bool> r = Evaluate(Where(where), facts);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << where;
    EXPECT_THAT(r.status().message(), HasSubstr("line 1, column ")) << where;
  }
}

TEST_F(EvaluatorTest, MalformedExpressionsAreInvalidArgument) {
  Expr e = Where("subject CONTAINS 'x'");
  e.field.name = "nonsense";
  absl::StatusOr<bool> r = Evaluate(e, invoice_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "line 1, column 7: cannot filter on 'nonsense'");

  e = Where("uid = 1");
  e.op = Operator::kContains;
  r = Evaluate(e, invoice_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "line 1, column 7: uid cannot be compared with CONTAINS");

  e = Where("uid = 1");
  e.values[0].kind = Literal::Kind::kString;
  r = Evaluate(e, invoice_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("wrong kind for uid"));

  e = Where("uid = 1");
  e.values.clear();
  r = Evaluate(e, invoice_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);

  Expr not_two;
  not_two.kind = Expr::Kind::kNot;
  not_two.children = {Where("seen"), Where("seen")};
  r = Evaluate(not_two, invoice_);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EvaluatorTest, FieldsUsed) {
  EXPECT_THAT(FieldsUsed(Where("seen AND (subject CONTAINS 'a' OR header('X') = 'b') AND "
                               "NOT subject = 'c' AND size > 1")),
              ElementsAre("flags", "header", "size", "subject"));
}

// ------------------------------------------------------------ properties

// Random conditions over the three messages: NOT is negation, and De
// Morgan's laws hold, with and without the parser in between.
TEST_F(EvaluatorTest, NegationAndDeMorganProperties) {
  static constexpr absl::string_view kAtoms[] = {
      "seen",
      "answered",
      "flagged",
      "deleted",
      "draft",
      "recent",
      "has_attachment",
      "uid > 41",
      "uid IN (7, 42)",
      "size >= 1MB",
      "uidvalidity = 3",
      "internal_date >= '2024-01-31'",
      "internal_date > '2024-01-31'",
      "internal_date = '2024-02-01T00:00:00Z'",
      "date = '2024-02-01'",
      "date != '2024-01-31'",
      "date < '2024-06-01T12:00:00+02:00'",
      "subject CONTAINS 'invoice'",
      "subject LIKE '%s'",
      "subject = 'photos'",
      "subject != 'photos'",
      "from LIKE '%@example.com'",
      "from = 'carol@example.net'",
      "to CONTAINS 'alice'",
      "to != 'Bob'",
      "cc IN ('zoe@example.se')",
      "bcc CONTAINS 'secret'",
      "body CONTAINS 'hello'",
      "text_body LIKE '%done%'",
      "html_body = ''",
      "header('X-Tag') = 'first'",
      "header('X-Tag') != 'first'",
      "attachment_name LIKE '%.pdf'",
      "attachment_type != 'image/png'",
      "keywords CONTAINS 'work'",
      "flags IN ('\\Seen', '\\Draft')",
      "folder = 'INBOX'",
      "references CONTAINS '<root@example.com>'",
      "message_id LIKE '<%'",
  };
  std::mt19937 rng(20240131);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };

  // A random condition, as text, of nesting depth at most `depth`.
  std::function<std::string(int)> random_text = [&](int depth) -> std::string {
    if (depth == 0 || pick(3) == 0) return std::string(kAtoms[pick(std::size(kAtoms))]);
    switch (pick(3)) {
      case 0:
        return absl::StrCat("NOT ", random_text(depth - 1));
      case 1:
        return absl::StrCat("(", random_text(depth - 1), " AND ", random_text(depth - 1), ")");
      default:
        return absl::StrCat("(", random_text(depth - 1), " OR ", random_text(depth - 1), ")");
    }
  };
  auto make = [](Expr::Kind kind, std::vector<Expr> children) {
    Expr e;
    e.kind = kind;
    e.children = std::move(children);
    return e;
  };
  auto eval = [](const Expr &e, const MessageFacts &f) {
    absl::StatusOr<bool> r = Evaluate(e, f);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && *r;
  };

  int true_count = 0;
  int false_count = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string a_text = random_text(4);
    const std::string b_text = random_text(4);
    const Expr a = Where(a_text);
    const Expr b = Where(b_text);
    const Expr not_a = make(Expr::Kind::kNot, {a});
    const Expr not_b = make(Expr::Kind::kNot, {b});
    for (const MessageFacts *facts : {&invoice_, &greek_, &photos_}) {
      SCOPED_TRACE(absl::StrCat("a = ", a_text, "\nb = ", b_text, "\nuid ", facts->uid));
      const bool va = eval(a, *facts);
      const bool vb = eval(b, *facts);
      (va ? true_count : false_count)++;
      EXPECT_EQ(eval(not_a, *facts), !va);
      EXPECT_EQ(eval(Where(absl::StrCat("NOT (", a_text, ")")), *facts), !va);
      EXPECT_EQ(eval(make(Expr::Kind::kAnd, {a, b}), *facts), va && vb);
      EXPECT_EQ(eval(make(Expr::Kind::kOr, {a, b}), *facts), va || vb);
      // NOT (a AND b) == NOT a OR NOT b; NOT (a OR b) == NOT a AND NOT b.
      EXPECT_EQ(eval(make(Expr::Kind::kNot, {make(Expr::Kind::kAnd, {a, b})}), *facts),
                eval(make(Expr::Kind::kOr, {not_a, not_b}), *facts));
      EXPECT_EQ(eval(make(Expr::Kind::kNot, {make(Expr::Kind::kOr, {a, b})}), *facts),
                eval(make(Expr::Kind::kAnd, {not_a, not_b}), *facts));
      EXPECT_EQ(eval(Where(absl::StrCat("NOT (", a_text, " OR ", b_text, ")")), *facts),
                eval(Where(absl::StrCat("NOT (", a_text, ") AND NOT (", b_text, ")")), *facts));
    }
  }
  // The generator must produce both outcomes, or the properties test little.
  EXPECT_GT(true_count, 100);
  EXPECT_GT(false_count, 100);
}

// `!=` is `NOT =` on every text and address field, with or without a value.
TEST_F(EvaluatorTest, NotEqualIsNotOfEqual) {
  for (absl::string_view field :
       {"subject", "from", "to", "cc", "bcc", "sender", "reply_to", "header('X-Tag')", "body",
        "attachment_name", "attachment_type", "folder", "message_id", "html_body"}) {
    for (absl::string_view value : {"", "first", "Bob", "photos", "application/pdf", "INBOX"}) {
      for (const MessageFacts *facts : {&invoice_, &greek_, &photos_}) {
        const std::string eq = absl::StrCat(field, " = '", value, "'");
        const std::string ne = absl::StrCat(field, " != '", value, "'");
        EXPECT_EQ(Eval(ne, *facts), !Eval(eq, *facts)) << eq << " on uid " << facts->uid;
      }
    }
  }
}

}  // namespace
}  // namespace imap::query
