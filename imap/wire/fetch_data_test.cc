#include "imap/wire/fetch_data.h"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/util/error_kind.h"
#include "imap/wire/response_parser.h"

namespace imap::wire {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using namespace std::string_literals;  // "...\0..."s keeps NUL bytes

// ------------------------------------------------------------------ helpers

// Feeds `wire` (whole responses, CRLF-terminated) through ResponseParser and
// returns every response.
std::vector<Response> ParseAll(const std::string& wire, ParserLimits limits = ParserLimits()) {
  ResponseParser parser(limits);
  parser.Feed(wire);
  std::vector<Response> out;
  while (true) {
    absl::StatusOr<absl::optional<Response>> r = parser.Next();
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || !r->has_value()) break;
    out.push_back(**r);
  }
  EXPECT_EQ(parser.buffered(), 0u) << "an incomplete response in the test input";
  return out;
}

// Returns the one response `wire` holds.
Response ParseOne(const std::string& wire, ParserLimits limits = ParserLimits()) {
  std::vector<Response> all = ParseAll(wire, limits);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? Response() : all[0];
}

// Returns ParseFetch() of the FETCH response for message `seq` in a
// transcript; the other responses (e.g. "* OK [HIGHESTMODSEQ 7]") are
// ignored.
FetchAttributes FetchFor(const std::string& transcript, uint32_t seq) {
  for (const Response& r : ParseAll(transcript)) {
    if (r.keyword != "FETCH" || r.number != seq) continue;
    absl::StatusOr<FetchAttributes> f = ParseFetch(r);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? *std::move(f) : FetchAttributes();
  }
  ADD_FAILURE() << "no FETCH response for message " << seq;
  return FetchAttributes();
}

// ParseFetch() of a single response that must parse.
FetchAttributes Fetch(const std::string& line) {
  absl::StatusOr<FetchAttributes> f = ParseFetch(ParseOne(line));
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : FetchAttributes();
}

// ParseFetch()'s error for a single response that the parser accepts.
absl::Status FetchError(const std::string& line) {
  absl::StatusOr<FetchAttributes> f = ParseFetch(ParseOne(line));
  EXPECT_FALSE(f.ok()) << "parsed: " << line;
  return f.status();
}

// True if `s` is the documented protocol error and its message has `text`.
::testing::AssertionResult IsProtocolError(const absl::Status& s, const std::string& text) {
  if (s.code() != absl::StatusCode::kUnavailable || GetErrorKind(s) != ErrorKind::kMalformed) {
    return ::testing::AssertionFailure() << "not UNAVAILABLE/kProtocol: " << s;
  }
  if (s.message().find(text) == absl::string_view::npos) {
    return ::testing::AssertionFailure() << "\"" << s.message() << "\" lacks \"" << text << "\"";
  }
  return ::testing::AssertionSuccess();
}

// Matches an absl::StatusOr that is OK and whose value matches `m`.
MATCHER_P(IsOkAndHolds, m, "") {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(m, *arg, result_listener);
}

std::vector<std::string> Sections(const std::vector<PartRef>& parts) {
  std::vector<std::string> out;
  for (const PartRef& p : parts) out.push_back(p.section);
  return out;
}

std::string Media(const BodyStructure& b) { return b.type + "/" + b.subtype; }

// "type/subtype" of the part `section` names, or the error text.
std::string MediaAt(const BodyStructure& root, const std::string& section) {
  absl::StatusOr<const BodyStructure*> p = FindPart(root, section);
  return p.ok() ? Media(**p) : std::string(p.status().message());
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

// ----------------------------------------------- captured Dovecot responses
//
// Everything below up to the next rule was sent by Dovecot 2.3.19.1
// (scripts/dovecot-sandbox, seeded with tests/data/mailbox, plus three
// messages APPENDed to INBOX: 5 has groups, 6 nests multipart/alternative
// and a message/rfc822 in multipart/mixed, 7 is a bare message/rfc822
// without Date), byte for byte; only the tagged completions are left out.

// S: x UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE)
const std::string kRaw0 =
    "* 1 FETCH (UID 1 FLAGS (\\Seen) INTERNALDATE \"27-Nov-2026 17:41:42 +0000\" RFC822.SIZE "
    "361 ENVELOPE (\"Mon, 06 Jan 2025 09:00:00 +0100\" \"Welcome to the sample mailbox\" "
    "((\"Ada Lovelace\" NIL \"ada\" \"example.com\")) ((\"Ada Lovelace\" NIL \"ada\" "
    "\"example.com\")) ((\"Ada Lovelace\" NIL \"ada\" \"example.com\")) ((\"Alice Example\" "
    "NIL \"alice\" \"example.com\")) NIL NIL NIL \"<welcome-0001@example.com>\") BODYSTRUCTURE "
    "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 103 5 NIL NIL NIL NIL))\r\n"
    "* 2 FETCH (UID 2 FLAGS () INTERNALDATE \"27-Nov-2026 17:41:42 +0000\" RFC822.SIZE 657 "
    "ENVELOPE (\"Tue, 07 Jan 2025 14:30:00 +0000\" \"=?utf-8?q?Rechnung_f=C3=BCr_Januar?=\" "
    "((\"Billing\" NIL \"billing\" \"billing.example.com\")) ((\"Billing\" NIL \"billing\" "
    "\"billing.example.com\")) ((\"Billing\" NIL \"billing\" \"billing.example.com\")) ((NIL "
    "NIL \"alice\" \"example.com\")) NIL NIL NIL \"<invoice-2025-01@billing.example.com>\") "
    "BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" "
    "40 0 NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \"invoice-2025-01.pdf\") NIL NIL "
    "\"base64\" 72 NIL (\"attachment\" (\"filename\" \"invoice-2025-01.pdf\")) NIL NIL) "
    "\"mixed\" (\"boundary\" \"b1\") NIL NIL NIL))\r\n"
    "* 3 FETCH (UID 3 FLAGS (\\Seen) INTERNALDATE \"27-Nov-2026 17:41:42 +0000\" RFC822.SIZE "
    "588 ENVELOPE (\"Wed, 08 Jan 2025 07:15:00 -0500\" \"This week: IMAP tips\" ((\"Weekly "
    "News\" NIL \"news\" \"lists.example.org\")) ((\"Weekly News\" NIL \"news\" "
    "\"lists.example.org\")) ((\"Weekly News\" NIL \"news\" \"lists.example.org\")) ((NIL NIL "
    "\"alice\" \"example.com\")) NIL NIL NIL \"<news-2025-02@lists.example.org>\") "
    "BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 80 0 NIL "
    "NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 94 0 NIL NIL "
    "NIL NIL) \"alternative\" (\"boundary\" \"alt\") NIL NIL NIL))\r\n"
    "* 4 FETCH (UID 4 FLAGS (\\Seen) INTERNALDATE \"27-Nov-2026 17:41:42 +0000\" RFC822.SIZE "
    "439 ENVELOPE (\"Thu, 09 Jan 2025 18:45:00 +0100\" \"Re: Welcome to the sample mailbox\" "
    "((\"Bob Example\" NIL \"bob\" \"example.com\")) ((\"Bob Example\" NIL \"bob\" "
    "\"example.com\")) ((\"Bob Example\" NIL \"bob\" \"example.com\")) ((\"Alice Example\" NIL "
    "\"alice\" \"example.com\")) ((\"Ada Lovelace\" NIL \"ada\" \"example.com\")) NIL "
    "\"<welcome-0001@example.com>\" \"<reply-0002@example.com>\") BODYSTRUCTURE (\"text\" "
    "\"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 63 3 NIL NIL NIL NIL))\r\n"
    "* 5 FETCH (UID 5 FLAGS (\\Flagged $Custom) INTERNALDATE \"06-Jan-2024 07:05:09 +0000\" "
    "RFC822.SIZE 300 ENVELOPE (\"Sat, 06 Jan 2024 08:05:09 +0100\" \"\" ((\"Mary Smith\" NIL "
    "\"mary\" \"x.test\")) ((\"Mary Smith\" NIL \"mary\" \"x.test\")) ((\"Mary Smith\" NIL "
    "\"mary\" \"x.test\")) ((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")(NIL "
    "NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL)(NIL NIL "
    "\"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)) ((\"Quoted, Name\" NIL \"q\" "
    "\"example.com\")) NIL NIL NIL) BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" "
    "\"us-ascii\") NIL NIL \"7bit\" 18 1 NIL NIL NIL NIL))\r\n"
    "* 6 FETCH (UID 6 FLAGS () INTERNALDATE \"07-Jan-2024 10:00:00 +0000\" RFC822.SIZE 1300 "
    "ENVELOPE (\"Sun, 07 Jan 2024 10:00:00 +0000\" \"Fwd: nested\" ((\"Carol\" NIL \"carol\" "
    "\"example.com\")) ((\"Carol\" NIL \"carol\" \"example.com\")) ((\"Carol\" NIL \"carol\" "
    "\"example.com\")) ((NIL NIL \"alice\" \"example.com\")) NIL NIL NIL "
    "\"<fwd-1@example.com>\") BODYSTRUCTURE (((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL "
    "NIL \"7bit\" 26 0 NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL "
    "\"7bit\" 33 0 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"alt\") NIL NIL "
    "NIL)(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 474 (\"Sat, 06 Jan 2024 "
    "09:00:00 +0000\" \"inner\" ((\"Dave\" NIL \"dave\" \"example.com\")) ((\"Dave\" NIL "
    "\"dave\" \"example.com\")) ((\"Dave\" NIL \"dave\" \"example.com\")) ((NIL NIL \"carol\" "
    "\"example.com\")) NIL NIL NIL \"<inner-1@example.com>\") ((\"text\" \"plain\" "
    "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0 NIL NIL NIL NIL)(\"image\" \"png\" "
    "(\"name\" \"dot.png\") \"<dot@example.com>\" NIL \"base64\" 12 NIL (\"inline\" "
    "(\"filename\" \"dot.png\")) NIL NIL) \"mixed\" (\"boundary\" \"inner\") NIL NIL NIL) 20 "
    "NIL NIL NIL NIL)(\"application\" \"octet-stream\" (\"name\" \"data.bin\") NIL NIL "
    "\"base64\" 8 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" \"data.bin\" "
    "\"size\" \"4\")) (\"en\" \"de\") \"http://example.com/data.bin\") \"mixed\" (\"boundary\" "
    "\"outer\") NIL NIL NIL))\r\n"
    "* 7 FETCH (UID 7 FLAGS () INTERNALDATE \"09-Jan-2024 07:59:59 +0000\" RFC822.SIZE 239 "
    "ENVELOPE (NIL {18}\r\n"
    "\"quoted\" \\ subject ((\"Eve\" NIL \"eve\" \"example.com\")) ((\"Eve\" NIL \"eve\" "
    "\"example.com\")) ((\"Eve\" NIL \"eve\" \"example.com\")) NIL NIL NIL NIL NIL) "
    "BODYSTRUCTURE (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 130 (\"Mon, 08 Jan 2024 "
    "11:00:00 -0800\" \"only a message\" ((\"Frank\" NIL \"frank\" \"example.com\")) "
    "((\"Frank\" NIL \"frank\" \"example.com\")) ((\"Frank\" NIL \"frank\" \"example.com\")) "
    "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 31 1 "
    "NIL NIL NIL NIL) 5 NIL NIL NIL NIL))\r\n"s;

// S: x FETCH 1:* (BODY)
const std::string kRaw1 =
    "* 1 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 103 5))\r\n"
    "* 2 FETCH (BODY ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" "
    "40 0)(\"application\" \"pdf\" (\"name\" \"invoice-2025-01.pdf\") NIL NIL \"base64\" 72) "
    "\"mixed\"))\r\n"
    "* 3 FETCH (BODY ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 80 "
    "0)(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 94 0) "
    "\"alternative\"))\r\n"
    "* 4 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 63 3))\r\n"
    "* 5 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 18 1))\r\n"
    "* 6 FETCH (BODY (((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 26 "
    "0)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 33 0) "
    "\"alternative\")(\"message\" \"rfc822\" NIL NIL \"forwarded\" \"7bit\" 474 (\"Sat, 06 Jan "
    "2024 09:00:00 +0000\" \"inner\" ((\"Dave\" NIL \"dave\" \"example.com\")) ((\"Dave\" NIL "
    "\"dave\" \"example.com\")) ((\"Dave\" NIL \"dave\" \"example.com\")) ((NIL NIL \"carol\" "
    "\"example.com\")) NIL NIL NIL \"<inner-1@example.com>\") ((\"text\" \"plain\" "
    "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0)(\"image\" \"png\" (\"name\" "
    "\"dot.png\") \"<dot@example.com>\" NIL \"base64\" 12) \"mixed\") 20)(\"application\" "
    "\"octet-stream\" (\"name\" \"data.bin\") NIL NIL \"base64\" 8) \"mixed\"))\r\n"
    "* 7 FETCH (BODY (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 130 (\"Mon, 08 Jan 2024 "
    "11:00:00 -0800\" \"only a message\" ((\"Frank\" NIL \"frank\" \"example.com\")) "
    "((\"Frank\" NIL \"frank\" \"example.com\")) ((\"Frank\" NIL \"frank\" \"example.com\")) "
    "NIL NIL NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 31 "
    "1) 5))\r\n"s;

// S: x UID FETCH 6 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[1.2]<0.10>
//                  BINARY.PEEK[3] BODY.PEEK[2.HEADER] MODSEQ)
const std::string kRaw2 =
    "* OK [HIGHESTMODSEQ 7] Highest\r\n"
    "* 6 FETCH (UID 6 MODSEQ (7) BODY[HEADER.FIELDS (SUBJECT FROM)] {57}\r\n"
    "From: Carol <carol@example.com>\r\n"
    "Subject: Fwd: nested\r\n"
    "\r\n"
    " BODY[1.2]<0> {10}\r\n"
    "<p>See the BINARY[3] ~{4}\r\n"
    "\000\001\002\003 BODY[2.HEADER] {214}\r\n"
    "From: Dave <dave@example.com>\r\n"
    "To: carol@example.com\r\n"
    "Subject: inner\r\n"
    "Date: Sat, 06 Jan 2024 09:00:00 +0000\r\n"
    "Message-ID: <inner-1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"inner\"\r\n"
    "\r\n"
    ")\r\n"s;

// S: x FETCH 1 (RFC822.HEADER RFC822.TEXT)
const std::string kRaw3 =
    "* 1 FETCH (RFC822.HEADER {258}\r\n"
    "From: Ada Lovelace <ada@example.com>\r\n"
    "To: Alice Example <alice@example.com>\r\n"
    "Subject: Welcome to the sample mailbox\r\n"
    "Date: Mon, 06 Jan 2025 09:00:00 +0100\r\n"
    "Message-ID: <welcome-0001@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    " RFC822.TEXT {103}\r\n"
    "Hello Alice,\r\n"
    "\r\n"
    "this mailbox ships with imap-connector so that the demo has something to read.\r\n"
    "\r\n"
    "Ada\r\n"
    ")\r\n"s;

// S: x FETCH 7 (BODY.PEEK[1] BODY.PEEK[TEXT] BODY.PEEK[1.TEXT] BINARY.SIZE[1] BODY.PEEK[1.1])
const std::string kRaw4 =
    "* 7 FETCH (BODY[1] {130}\r\n"
    "From: Frank <frank@example.com>\r\n"
    "Subject: only a message\r\n"
    "Date: Mon, 08 Jan 2024 11:00:00 -0800\r\n"
    "\r\n"
    "Body of the attached message.\r\n"
    " BODY[TEXT] {130}\r\n"
    "From: Frank <frank@example.com>\r\n"
    "Subject: only a message\r\n"
    "Date: Mon, 08 Jan 2024 11:00:00 -0800\r\n"
    "\r\n"
    "Body of the attached message.\r\n"
    " BODY[1.TEXT] {31}\r\n"
    "Body of the attached message.\r\n"
    " BINARY.SIZE[1] 130 BODY[1.1] {31}\r\n"
    "Body of the attached message.\r\n"
    ")\r\n"s;

// S: x FETCH 6 (BODY.PEEK[1.1] BODY.PEEK[1.2] BODY.PEEK[2.1] BODY.PEEK[2.2] BODY.PEEK[3]
//              BODY.PEEK[2] BODY.PEEK[99] BODY.PEEK[]<1290>)
const std::string kRaw5 =
    "* 6 FETCH (BODY[1.1] {26}\r\n"
    "See the forwarded message. BODY[1.2] {33}\r\n"
    "<p>See the forwarded message.</p> BODY[2.1] {11}\r\n"
    "Inner text. BODY[2.2] {12}\r\n"
    "iVBORw0KGgo= BODY[3] {8}\r\n"
    "AAECAw== BODY[2] {474}\r\n"
    "From: Dave <dave@example.com>\r\n"
    "To: carol@example.com\r\n"
    "Subject: inner\r\n"
    "Date: Sat, 06 Jan 2024 09:00:00 +0000\r\n"
    "Message-ID: <inner-1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Inner text.\r\n"
    "--inner\r\n"
    "Content-Type: image/png; name=\"dot.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "Content-Disposition: inline; filename=\"dot.png\"\r\n"
    "Content-ID: <dot@example.com>\r\n"
    "\r\n"
    "iVBORw0KGgo=\r\n"
    "--inner--\r\n"
    " BODY[99] {0}\r\n"
    " BODY[]<1290> {10}\r\n"
    "-outer--\r\n"
    ")\r\n"s;

// S: x FETCH 2 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[HEADER.FIELDS.NOT (Date Message-ID
//              MIME-Version Content-Type Content-Transfer-Encoding)])
const std::string kRaw6 =
    "* 2 FETCH (BODY[1] {40}\r\n"
    "Ihre Rechnung f=C3=BCr Januar liegt bei. BODY[2] {72}\r\n"
    "JVBERi0xLjQKJcK1wrYKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK "
    "BODY[HEADER.FIELDS.NOT (DATE MESSAGE-ID MIME-VERSION CONTENT-TYPE "
    "CONTENT-TRANSFER-ENCODING)] {117}\r\n"
    "From: Billing <billing@billing.example.com>\r\n"
    "To: alice@example.com\r\n"
    "Subject: =?utf-8?q?Rechnung_f=C3=BCr_Januar?=\r\n"
    "\r\n"
    ")\r\n"s;

// S: x STORE 2 +FLAGS (\Seen)   and then   x STORE 2 -FLAGS (\Seen)   (CONDSTORE on)
const std::string kRaw8 = "* 2 FETCH (MODSEQ (8) FLAGS (\\Seen))\r\n"s;
const std::string kRaw9 = "* 2 FETCH (MODSEQ (9) FLAGS ())\r\n"s;

// ------------------------------------------------------- Dovecot: ENVELOPE

TEST(FetchDataDovecotTest, TextPlainMessage) {
  const FetchAttributes f = FetchFor(kRaw0, 1);
  EXPECT_EQ(f.seq, 1u);
  EXPECT_THAT(f.uid, Optional(1u));
  EXPECT_THAT(f.flags, Optional(ElementsAre("\\Seen")));
  EXPECT_THAT(f.internal_date, Optional(Utc(2026, 11, 27, 17, 41, 42)));
  EXPECT_THAT(f.rfc822_size, Optional(361u));
  EXPECT_FALSE(f.modseq.has_value());
  EXPECT_THAT(f.sections, IsEmpty());

  ASSERT_TRUE(f.envelope.has_value());
  const Envelope& e = *f.envelope;
  EXPECT_THAT(e.date, Optional("Mon, 06 Jan 2025 09:00:00 +0100"s));
  EXPECT_THAT(e.subject, Optional("Welcome to the sample mailbox"s));
  ASSERT_EQ(e.from.size(), 1u);
  EXPECT_EQ(e.from[0].name, "Ada Lovelace");
  EXPECT_EQ(e.from[0].adl, "");
  EXPECT_EQ(e.from[0].mailbox, "ada");
  EXPECT_EQ(e.from[0].host, "example.com");
  EXPECT_EQ(e.from[0].Email(), "ada@example.com");
  EXPECT_FALSE(e.from[0].group.has_value());
  EXPECT_EQ(e.sender.size(), 1u);
  EXPECT_EQ(e.reply_to.size(), 1u);
  ASSERT_EQ(e.to.size(), 1u);
  EXPECT_EQ(e.to[0].Email(), "alice@example.com");
  EXPECT_THAT(e.cc, IsEmpty());
  EXPECT_THAT(e.bcc, IsEmpty());
  EXPECT_FALSE(e.in_reply_to.has_value());
  EXPECT_THAT(e.message_id, Optional("<welcome-0001@example.com>"s));

  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  EXPECT_EQ(Media(b), "text/plain");
  ASSERT_EQ(b.params.size(), 1u);
  EXPECT_EQ(b.params[0].name, "charset");
  EXPECT_EQ(b.params[0].value, "utf-8");
  EXPECT_FALSE(b.id.has_value());
  EXPECT_FALSE(b.description.has_value());
  EXPECT_EQ(b.encoding, "7bit");
  EXPECT_EQ(b.size, 103u);
  EXPECT_THAT(b.lines, Optional(5u));
  EXPECT_FALSE(b.md5.has_value());
  EXPECT_FALSE(b.disposition.has_value());
  EXPECT_THAT(b.language, IsEmpty());
  EXPECT_FALSE(b.location.has_value());
  EXPECT_THAT(b.extensions, IsEmpty());
  EXPECT_THAT(b.children, IsEmpty());
  EXPECT_FALSE(b.IsMultipart());
  EXPECT_FALSE(b.IsMessage());
  EXPECT_THAT(Sections(LeafParts(b)), ElementsAre("1"));
  EXPECT_THAT(FindPart(b, "1"), IsOkAndHolds(&b));
}

TEST(FetchDataDovecotTest, EncodedWordsStayRawAndNilNamesAreEmpty) {
  const FetchAttributes f = FetchFor(kRaw0, 2);
  EXPECT_THAT(f.flags, Optional(IsEmpty()));  // FLAGS () is present, just empty
  ASSERT_TRUE(f.envelope.has_value());
  EXPECT_THAT(f.envelope->subject, Optional("=?utf-8?q?Rechnung_f=C3=BCr_Januar?="s));
  ASSERT_EQ(f.envelope->to.size(), 1u);
  EXPECT_EQ(f.envelope->to[0].name, "");
  EXPECT_EQ(f.envelope->to[0].Email(), "alice@example.com");
}

TEST(FetchDataDovecotTest, GroupsAndEmptyStrings) {
  // To: A Group: Ed Jones <c@a.test>, joe@where.test, John <jdoe@one.test>;,
  //     Undisclosed recipients:;
  const FetchAttributes f = FetchFor(kRaw0, 5);
  EXPECT_THAT(f.uid, Optional(5u));
  EXPECT_THAT(f.flags, Optional(ElementsAre("\\Flagged", "$Custom")));
  // APPENDed as " 6-Jan-2024 08:05:09 +0100"; Dovecot answers in UTC.
  EXPECT_THAT(f.internal_date, Optional(Utc(2024, 1, 6, 7, 5, 9)));
  ASSERT_TRUE(f.envelope.has_value());
  const Envelope& e = *f.envelope;
  EXPECT_THAT(e.subject, Optional(""s));   // "Subject: " present but empty
  EXPECT_FALSE(e.message_id.has_value());  // no Message-ID header: NIL
  ASSERT_EQ(e.to.size(), 4u);
  EXPECT_EQ(e.to[0].name, "Ed Jones");
  EXPECT_EQ(e.to[0].Email(), "c@a.test");
  EXPECT_THAT(e.to[0].group, Optional("A Group"s));
  EXPECT_EQ(e.to[1].Email(), "joe@where.test");
  EXPECT_THAT(e.to[1].group, Optional("A Group"s));
  EXPECT_EQ(e.to[2].name, "John");
  EXPECT_THAT(e.to[2].group, Optional("A Group"s));
  EXPECT_FALSE(e.to[2].IsEmptyGroup());
  EXPECT_TRUE(e.to[3].IsEmptyGroup());
  EXPECT_THAT(e.to[3].group, Optional("Undisclosed recipients"s));
  ASSERT_EQ(e.cc.size(), 1u);
  EXPECT_EQ(e.cc[0].name, "Quoted, Name");
  EXPECT_FALSE(e.cc[0].group.has_value());
}

TEST(FetchDataDovecotTest, NilDateAndSubjectAsLiteral) {
  const FetchAttributes f = FetchFor(kRaw0, 7);
  ASSERT_TRUE(f.envelope.has_value());
  EXPECT_FALSE(f.envelope->date.has_value());
  // Dovecot sent this subject as a literal because of its quote and backslash.
  EXPECT_THAT(f.envelope->subject, Optional("\"quoted\" \\ subject"s));
  EXPECT_THAT(f.envelope->to, IsEmpty());
  EXPECT_EQ(f.envelope->sender.size(), 1u);  // the server fills in From
}

// -------------------------------------------------- Dovecot: BODYSTRUCTURE

TEST(FetchDataDovecotTest, MultipartMixedWithAttachment) {
  const FetchAttributes f = FetchFor(kRaw0, 2);
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  EXPECT_EQ(Media(b), "multipart/mixed");
  EXPECT_TRUE(b.IsMultipart());
  EXPECT_THAT(b.Param("BOUNDARY"), Optional("b1"s));  // case-insensitive name
  EXPECT_FALSE(b.Param("charset").has_value());
  ASSERT_EQ(b.children.size(), 2u);
  EXPECT_EQ(b.children[0].encoding, "quoted-printable");
  EXPECT_THAT(b.children[0].lines, Optional(0u));
  const BodyStructure& pdf = b.children[1];
  EXPECT_EQ(Media(pdf), "application/pdf");
  EXPECT_FALSE(pdf.lines.has_value());
  EXPECT_EQ(pdf.size, 72u);
  ASSERT_TRUE(pdf.disposition.has_value());
  EXPECT_EQ(pdf.disposition->type, "attachment");
  ASSERT_EQ(pdf.disposition->params.size(), 1u);
  EXPECT_EQ(pdf.disposition->params[0].name, "filename");
  EXPECT_EQ(pdf.disposition->params[0].value, "invoice-2025-01.pdf");
  EXPECT_THAT(Sections(LeafParts(b)), ElementsAre("1", "2"));
}

TEST(FetchDataDovecotTest, AlternativeInMixedWithNestedMessage) {
  const FetchAttributes f = FetchFor(kRaw0, 6);
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  EXPECT_EQ(Media(b), "multipart/mixed");
  EXPECT_THAT(b.Param("boundary"), Optional("outer"s));
  ASSERT_EQ(b.children.size(), 3u);

  const BodyStructure& alt = b.children[0];
  EXPECT_EQ(Media(alt), "multipart/alternative");
  EXPECT_THAT(alt.Param("boundary"), Optional("alt"s));
  ASSERT_EQ(alt.children.size(), 2u);
  EXPECT_EQ(Media(alt.children[1]), "text/html");

  const BodyStructure& msg = b.children[1];
  EXPECT_EQ(Media(msg), "message/rfc822");
  EXPECT_TRUE(msg.IsMessage());
  EXPECT_THAT(msg.description, Optional("forwarded"s));
  EXPECT_EQ(msg.size, 474u);
  EXPECT_THAT(msg.lines, Optional(20u));
  ASSERT_TRUE(msg.envelope.has_value());
  EXPECT_THAT(msg.envelope->subject, Optional("inner"s));
  EXPECT_EQ(msg.envelope->from.at(0).Email(), "dave@example.com");
  const BodyStructure* inner = msg.MessageBody();
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(Media(*inner), "multipart/mixed");
  ASSERT_EQ(inner->children.size(), 2u);
  const BodyStructure& png = inner->children[1];
  EXPECT_EQ(Media(png), "image/png");
  EXPECT_THAT(png.id, Optional("<dot@example.com>"s));
  EXPECT_EQ(png.encoding, "base64");
  ASSERT_TRUE(png.disposition.has_value());
  EXPECT_EQ(png.disposition->type, "inline");

  const BodyStructure& bin = b.children[2];
  EXPECT_EQ(Media(bin), "application/octet-stream");
  EXPECT_THAT(bin.md5, Optional("Q2hlY2sgSW50ZWdyaXR5IQ=="s));
  ASSERT_TRUE(bin.disposition.has_value());
  ASSERT_EQ(bin.disposition->params.size(), 2u);
  EXPECT_EQ(bin.disposition->params[1].name, "size");
  EXPECT_EQ(bin.disposition->params[1].value, "4");
  EXPECT_THAT(bin.language, ElementsAre("en", "de"));
  EXPECT_THAT(bin.location, Optional("http://example.com/data.bin"s));

  EXPECT_THAT(Sections(LeafParts(b)), ElementsAre("1.1", "1.2", "2.1", "2.2", "3"));
  EXPECT_THAT(Sections(LeafParts(b, NestedMessages::kAsLeaf)), ElementsAre("1.1", "1.2", "2", "3"));
  EXPECT_EQ(MediaAt(b, "1"), "multipart/alternative");
  EXPECT_EQ(MediaAt(b, "1.2"), "text/html");
  EXPECT_EQ(MediaAt(b, "2"), "message/rfc822");
  EXPECT_EQ(MediaAt(b, "2.1"), "text/plain");
  EXPECT_EQ(MediaAt(b, "2.2"), "image/png");
  EXPECT_EQ(MediaAt(b, "3"), "application/octet-stream");
}

TEST(FetchDataDovecotTest, TopLevelMessageRfc822) {
  const FetchAttributes f = FetchFor(kRaw0, 7);
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  EXPECT_EQ(Media(b), "message/rfc822");
  EXPECT_THAT(b.lines, Optional(5u));
  ASSERT_TRUE(b.IsMessage());
  EXPECT_THAT(b.envelope->date, Optional("Mon, 08 Jan 2024 11:00:00 -0800"s));
  EXPECT_EQ(Media(*b.MessageBody()), "text/plain");
  EXPECT_THAT(b.MessageBody()->lines, Optional(1u));
  // Part 1 is the message/rfc822 body itself; 1.1 is the body inside it.
  EXPECT_THAT(Sections(LeafParts(b)), ElementsAre("1.1"));
  EXPECT_THAT(Sections(LeafParts(b, NestedMessages::kAsLeaf)), ElementsAre("1"));
  EXPECT_EQ(MediaAt(b, "1"), "message/rfc822");
  EXPECT_EQ(MediaAt(b, "1.1"), "text/plain");
}

// Every leaf part our numbering finds was fetched from Dovecot by that
// number, and the bytes it sent have the size BODYSTRUCTURE announced.
TEST(FetchDataDovecotTest, SectionNumbersAgreeWithTheServer) {
  struct Case {
    const std::string* structures;
    const std::string* bodies;
    uint32_t seq;
  };
  for (const Case& c :
       {Case{&kRaw0, &kRaw5, 6}, Case{&kRaw0, &kRaw4, 7}, Case{&kRaw0, &kRaw6, 2}}) {
    SCOPED_TRACE(c.seq);
    const FetchAttributes structure = FetchFor(*c.structures, c.seq);
    const FetchAttributes bodies = FetchFor(*c.bodies, c.seq);
    ASSERT_TRUE(structure.body_structure.has_value());
    const std::vector<PartRef> leaves = LeafParts(*structure.body_structure);
    ASSERT_FALSE(leaves.empty());
    for (const PartRef& leaf : leaves) {
      SCOPED_TRACE(leaf.section);
      const BodySection* s = bodies.FindSection(leaf.section);
      ASSERT_NE(s, nullptr);
      ASSERT_TRUE(s->data.has_value());
      EXPECT_EQ(s->data->size(), leaf.part->size);
      EXPECT_THAT(FindPart(*structure.body_structure, leaf.section), IsOkAndHolds(leaf.part));
    }
  }
  // The message/rfc822 part itself: BODY[2] is the whole forwarded message.
  const FetchAttributes structure = FetchFor(kRaw0, 6);
  const FetchAttributes bodies = FetchFor(kRaw5, 6);
  const BodySection* forwarded = bodies.FindSection("2");
  ASSERT_NE(forwarded, nullptr);
  EXPECT_EQ(forwarded->data->size(), (*FindPart(*structure.body_structure, "2"))->size);
}

TEST(FetchDataDovecotTest, BodyIsBodyStructureWithoutExtensionData) {
  for (uint32_t seq = 1; seq <= 7; ++seq) {
    SCOPED_TRACE(seq);
    const FetchAttributes full = FetchFor(kRaw0, seq);
    const FetchAttributes basic = FetchFor(kRaw1, seq);
    ASSERT_TRUE(full.body_structure.has_value());
    ASSERT_TRUE(basic.body_structure.has_value());
    const std::vector<PartRef> a = LeafParts(*full.body_structure);
    const std::vector<PartRef> b = LeafParts(*basic.body_structure);
    ASSERT_EQ(Sections(a), Sections(b));
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(Media(*a[i].part), Media(*b[i].part));
      EXPECT_EQ(a[i].part->size, b[i].part->size);
      EXPECT_EQ(a[i].part->lines, b[i].part->lines);
      EXPECT_EQ(a[i].part->id, b[i].part->id);
      EXPECT_FALSE(b[i].part->disposition.has_value());
    }
    // The multipart's boundary is extension data: only in BODYSTRUCTURE.
    if (full.body_structure->IsMultipart()) {
      EXPECT_TRUE(full.body_structure->Param("boundary").has_value());
      EXPECT_THAT(basic.body_structure->params, IsEmpty());
    }
  }
}

// ------------------------------------------------ Dovecot: body sections

TEST(FetchDataDovecotTest, SectionsPartialBinaryAndModseq) {
  const FetchAttributes f = FetchFor(kRaw2, 6);
  EXPECT_THAT(f.uid, Optional(6u));
  EXPECT_THAT(f.modseq, Optional(7u));
  ASSERT_EQ(f.sections.size(), 4u);

  EXPECT_EQ(f.sections[0].item, "BODY[HEADER.FIELDS (SUBJECT FROM)]");
  EXPECT_EQ(f.sections[0].section, "HEADER.FIELDS (SUBJECT FROM)");
  EXPECT_FALSE(f.sections[0].binary);
  EXPECT_FALSE(f.sections[0].origin.has_value());
  EXPECT_THAT(f.sections[0].data,
              Optional("From: Carol <carol@example.com>\r\nSubject: Fwd: nested\r\n\r\n"s));
  EXPECT_EQ(f.FindSection("header.fields ( subject  from )"), &f.sections[0]);

  EXPECT_EQ(f.sections[1].section, "1.2");
  EXPECT_THAT(f.sections[1].origin, Optional(0u));
  EXPECT_THAT(f.sections[1].data, Optional("<p>See the"s));

  EXPECT_EQ(f.sections[2].item, "BINARY[3]");
  EXPECT_TRUE(f.sections[2].binary);
  EXPECT_THAT(f.sections[2].data, Optional("\0\1\2\3"s));  // a literal8 with NULs
  EXPECT_EQ(f.FindSection("3", /*binary=*/true), &f.sections[2]);
  EXPECT_EQ(f.FindSection("3"), nullptr);

  EXPECT_EQ(f.sections[3].section, "2.HEADER");
  EXPECT_EQ(f.sections[3].data->substr(0, 31), "From: Dave <dave@example.com>\r\n");
}

TEST(FetchDataDovecotTest, Rfc822HeaderAndText) {
  const FetchAttributes f = FetchFor(kRaw3, 1);
  ASSERT_EQ(f.sections.size(), 2u);
  EXPECT_EQ(f.sections[0].item, "RFC822.HEADER");
  EXPECT_EQ(f.sections[0].section, "HEADER");
  EXPECT_EQ(f.sections[0].data->size(), 258u);
  EXPECT_EQ(f.sections[1].item, "RFC822.TEXT");
  EXPECT_EQ(f.sections[1].section, "TEXT");
  EXPECT_EQ(f.sections[1].data->size(), 103u);  // BODYSTRUCTURE's size of the body
  EXPECT_EQ(f.FindSection("TEXT"), &f.sections[1]);
}

TEST(FetchDataDovecotTest, BinarySizeEmptyLiteralAndOrigin) {
  const FetchAttributes seven = FetchFor(kRaw4, 7);
  ASSERT_EQ(seven.binary_sizes.size(), 1u);
  EXPECT_EQ(seven.binary_sizes[0].section, "1");
  EXPECT_EQ(seven.binary_sizes[0].size, 130u);
  EXPECT_THAT(seven.FindSection("1.TEXT")->data, Optional("Body of the attached message.\r\n"s));

  const FetchAttributes six = FetchFor(kRaw5, 6);
  const BodySection* missing = six.FindSection("99");  // no part 99: "{0}"
  ASSERT_NE(missing, nullptr);
  EXPECT_THAT(missing->data, Optional(""s));
  const BodySection* tail = six.FindSection("");
  ASSERT_NE(tail, nullptr);
  EXPECT_EQ(tail->item, "BODY[]<1290>");
  EXPECT_THAT(tail->origin, Optional(1290u));
  EXPECT_THAT(tail->data, Optional("-outer--\r\n"s));
}

TEST(FetchDataDovecotTest, HeaderFieldsNotKeyIsNormalised) {
  const FetchAttributes f = FetchFor(kRaw6, 2);
  const BodySection* s = f.FindSection(
      "HEADER.FIELDS.NOT (Date Message-ID MIME-Version Content-Type Content-Transfer-Encoding)");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->section,
            "HEADER.FIELDS.NOT (DATE MESSAGE-ID MIME-VERSION CONTENT-TYPE "
            "CONTENT-TRANSFER-ENCODING)");
  EXPECT_EQ(s->data->size(), 117u);
}

TEST(FetchDataDovecotTest, StoreUpdatesCarryOnlyFlagsAndModseq) {
  const FetchAttributes set = FetchFor(kRaw8, 2);
  EXPECT_THAT(set.flags, Optional(ElementsAre("\\Seen")));
  EXPECT_THAT(set.modseq, Optional(8u));
  EXPECT_FALSE(set.uid.has_value());
  EXPECT_FALSE(set.envelope.has_value());
  const FetchAttributes cleared = FetchFor(kRaw9, 2);
  EXPECT_THAT(cleared.flags, Optional(IsEmpty()));
  EXPECT_THAT(cleared.modseq, Optional(9u));
}

TEST(FetchDataDovecotTest, RvalueOverloadMovesBodiesOut) {
  std::vector<Response> all = ParseAll(kRaw3);
  ASSERT_EQ(all.size(), 1u);
  const FetchAttributes copied = Fetch(kRaw3);
  absl::StatusOr<FetchAttributes> moved = ParseFetch(std::move(all[0]));
  ASSERT_TRUE(moved.ok()) << moved.status();
  ASSERT_EQ(moved->sections.size(), 2u);
  EXPECT_EQ(moved->sections[0].data, copied.sections[0].data);
  EXPECT_EQ(moved->sections[1].data, copied.sections[1].data);
}

// --------------------------------------------------------- RFC 3501 examples

TEST(FetchDataRfcTest, Rfc3501FetchExample) {
  // RFC 3501 section 8, the sample session.
  const FetchAttributes f = Fetch(
      "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
      "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
      "\"IMAP4rev1 WG mtg summary and minutes\" "
      "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
      "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
      "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
      "((NIL NIL \"imap\" \"cac.washington.edu\")) "
      "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
      "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
      "\"<B27397-0100000@cac.washington.edu>\") "
      "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n");
  EXPECT_EQ(f.seq, 12u);
  EXPECT_FALSE(f.uid.has_value());
  EXPECT_THAT(f.internal_date, Optional(Utc(1996, 7, 17, 9, 44, 25)));
  EXPECT_THAT(f.rfc822_size, Optional(4286u));
  ASSERT_TRUE(f.envelope.has_value());
  ASSERT_EQ(f.envelope->cc.size(), 2u);
  EXPECT_EQ(f.envelope->cc[1].name, "John Klensin");
  EXPECT_EQ(f.envelope->cc[1].Email(), "KLENSIN@MIT.EDU");  // raw case kept
  EXPECT_THAT(f.envelope->message_id, Optional("<B27397-0100000@cac.washington.edu>"s));
  ASSERT_TRUE(f.body_structure.has_value());
  EXPECT_EQ(Media(*f.body_structure), "text/plain");  // lower-cased
  EXPECT_EQ(f.body_structure->encoding, "7bit");
  EXPECT_EQ(f.body_structure->params[0].name, "CHARSET");  // parameters as sent
  EXPECT_THAT(f.body_structure->Param("charset"), Optional("US-ASCII"s));
  EXPECT_THAT(f.body_structure->lines, Optional(92u));
}

TEST(FetchDataRfcTest, Rfc3501BodyStructureExample) {
  // RFC 3501 section 7.4.2, BODYSTRUCTURE.
  const FetchAttributes f = Fetch(
      "* 3 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL "
      "\"7BIT\" 1152 23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
      "\"<960723163407.20117h@cac.washington.edu>\" \"Compiled diff\" \"BASE64\" 4554 73) "
      "\"MIXED\"))\r\n");
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  EXPECT_EQ(Media(b), "multipart/mixed");
  ASSERT_EQ(b.children.size(), 2u);
  const BodyStructure& diff = b.children[1];
  EXPECT_THAT(diff.Param("name"), Optional("cc.diff"s));
  EXPECT_THAT(diff.id, Optional("<960723163407.20117h@cac.washington.edu>"s));
  EXPECT_THAT(diff.description, Optional("Compiled diff"s));
  EXPECT_EQ(diff.encoding, "base64");
  EXPECT_EQ(diff.size, 4554u);
  EXPECT_THAT(diff.lines, Optional(73u));
}

TEST(FetchDataRfcTest, Rfc3501FlagExamples) {
  // RFC 3501 sections 6.4.6 (STORE) and 7.4.2.
  EXPECT_THAT(Fetch("* 2 FETCH (FLAGS (\\Deleted \\Seen))\r\n").flags,
              Optional(ElementsAre("\\Deleted", "\\Seen")));
  const FetchAttributes f = Fetch("* 23 FETCH (FLAGS (\\Seen) RFC822.SIZE 44827)\r\n");
  EXPECT_EQ(f.seq, 23u);
  EXPECT_THAT(f.rfc822_size, Optional(44827u));
}

// The example of RFC 3501 section 6.4.5, as a BODYSTRUCTURE: every part
// number it lists must find the part it describes.
TEST(FetchDataRfcTest, Rfc3501SectionNumbering) {
  const std::string env = "(NIL \"s\" NIL NIL NIL NIL NIL NIL NIL NIL)";
  const std::string text = "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1)";
  const std::string octets = "(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"BASE64\" 20)";
  const FetchAttributes f =
      Fetch("* 1 FETCH (BODYSTRUCTURE (" + text + octets +
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 300 " + env + " (" + text + octets +
            " \"MIXED\") 12)"
            "((\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" 40)"
            "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 500 " +
            env + " (" + text + "(" + text +
            "(\"TEXT\" \"RICHTEXT\" NIL NIL NIL \"7BIT\" 10 1) \"ALTERNATIVE\") "
            "\"MIXED\") 20) \"MIXED\") \"MIXED\"))\r\n");
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  EXPECT_EQ(MediaAt(b, "1"), "text/plain");
  EXPECT_EQ(MediaAt(b, "2"), "application/octet-stream");
  EXPECT_EQ(MediaAt(b, "3"), "message/rfc822");
  EXPECT_EQ(MediaAt(b, "3.1"), "text/plain");
  EXPECT_EQ(MediaAt(b, "3.2"), "application/octet-stream");
  EXPECT_EQ(MediaAt(b, "4"), "multipart/mixed");
  EXPECT_EQ(MediaAt(b, "4.1"), "image/gif");
  EXPECT_EQ(MediaAt(b, "4.2"), "message/rfc822");
  EXPECT_EQ(MediaAt(b, "4.2.1"), "text/plain");
  EXPECT_EQ(MediaAt(b, "4.2.2"), "multipart/alternative");
  EXPECT_EQ(MediaAt(b, "4.2.2.1"), "text/plain");
  EXPECT_EQ(MediaAt(b, "4.2.2.2"), "text/richtext");
  EXPECT_THAT(Sections(LeafParts(b)),
              ElementsAre("1", "2", "3.1", "3.2", "4.1", "4.2.1", "4.2.2.1", "4.2.2.2"));
  EXPECT_THAT(Sections(LeafParts(b, NestedMessages::kAsLeaf)),
              ElementsAre("1", "2", "3", "4.1", "4.2"));
}

TEST(FetchDataTest, FindPartRejectsBadAndMissingSections) {
  const FetchAttributes f = FetchFor(kRaw0, 6);
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  for (const char* missing :
       {"4", "1.3", "2.3", "1.1.1", "3.1", "2.2.1", "999999999", "1.99999999999999999999999"}) {
    EXPECT_EQ(FindPart(b, missing).status().code(), absl::StatusCode::kNotFound) << missing;
  }
  for (const char* bad : {"", "0", "1.0", "1..2", "1.", ".1", "a", "01", "1.2a", "1 2", "HEADER",
                          "1.MIME", "-1", "+1"}) {
    const absl::Status s = FindPart(b, bad).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(std::string(FindPart(b, "2.3").status().message()), HasSubstr("\"2.3\""));
  // A single-part message has part 1 only.
  const FetchAttributes one = FetchFor(kRaw0, 1);
  ASSERT_TRUE(one.body_structure.has_value());
  const BodyStructure& plain = *one.body_structure;
  EXPECT_EQ(FindPart(plain, "2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FindPart(plain, "1.1").status().code(), absl::StatusCode::kNotFound);
}

// ---------------------------------------------------- extension data, quirks

TEST(FetchDataTest, ExtensionDataOfEveryKind) {
  const FetchAttributes f = Fetch(
      "* 9 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" "
      "12 2 \"bWQ1\" (\"Attachment\" (\"filename\" \"a.txt\" \"creation-date\" \"x\")) "
      "\"de\" \"a/b.txt\" \"ext1\" 42 (\"nested\" (1 2)) NIL)"
      "(\"image\" \"jpeg\" NIL NIL NIL \"base64\" 30 NIL NIL (\"en\" \"fr\"))"
      "(\"audio\" \"ogg\" () NIL NIL \"base64\" 40 NIL NIL NIL NIL) \"MIXED\" "
      "(\"boundary\" \"==x==\" \"type\" \"text/plain\") (\"inline\" NIL) \"en\" \"loc\" "
      "\"more\"))\r\n");
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  EXPECT_THAT(b.Param("boundary"), Optional("==x=="s));
  EXPECT_THAT(b.Param("type"), Optional("text/plain"s));
  ASSERT_TRUE(b.disposition.has_value());
  EXPECT_EQ(b.disposition->type, "inline");
  EXPECT_THAT(b.disposition->params, IsEmpty());
  EXPECT_THAT(b.language, ElementsAre("en"));
  EXPECT_THAT(b.location, Optional("loc"s));
  ASSERT_EQ(b.extensions.size(), 1u);
  EXPECT_EQ(b.extensions[0].text, "more");
  ASSERT_EQ(b.children.size(), 3u);

  const BodyStructure& text = b.children[0];
  EXPECT_EQ(text.encoding, "8bit");
  EXPECT_THAT(text.md5, Optional("bWQ1"s));
  ASSERT_TRUE(text.disposition.has_value());
  EXPECT_EQ(text.disposition->type, "attachment");  // lower-cased
  ASSERT_EQ(text.disposition->params.size(), 2u);
  EXPECT_EQ(text.disposition->params[1].name, "creation-date");
  EXPECT_THAT(text.language, ElementsAre("de"));  // a single string
  EXPECT_THAT(text.location, Optional("a/b.txt"s));
  ASSERT_EQ(text.extensions.size(), 4u);
  EXPECT_EQ(text.extensions[0].DebugString(), "\"ext1\"");
  EXPECT_EQ(text.extensions[1].DebugString(), "42");
  EXPECT_EQ(text.extensions[2].DebugString(), "(\"nested\" (1 2))");
  EXPECT_TRUE(text.extensions[3].IsNil());

  // Extension data may stop after any field.
  const BodyStructure& jpeg = b.children[1];
  EXPECT_FALSE(jpeg.md5.has_value());
  EXPECT_FALSE(jpeg.disposition.has_value());
  EXPECT_THAT(jpeg.language, ElementsAre("en", "fr"));
  EXPECT_FALSE(jpeg.location.has_value());
  EXPECT_THAT(jpeg.extensions, IsEmpty());
  EXPECT_THAT(b.children[2].params, IsEmpty());  // "()" as well as NIL
}

TEST(FetchDataTest, MultipartWithoutPartsAsSomeServersSendIt) {
  // A multipart with no parts is invalid IMAP, but has been seen as ("MIXED")
  // and, inside a message/rfc822, with its extension data.
  const FetchAttributes bare = Fetch("* 1038 FETCH (BODY (\"MIXED\"))\r\n");
  ASSERT_TRUE(bare.body_structure.has_value());
  EXPECT_EQ(Media(*bare.body_structure), "multipart/mixed");
  EXPECT_THAT(bare.body_structure->children, IsEmpty());
  EXPECT_THAT(LeafParts(*bare.body_structure), IsEmpty());
  EXPECT_EQ(FindPart(*bare.body_structure, "1").status().code(), absl::StatusCode::kNotFound);

  const FetchAttributes nested = Fetch(
      "* 2 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 200 4 NIL NIL NIL)"
      "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 2177 (NIL \"Re: x\" NIL NIL NIL NIL NIL "
      "NIL NIL NIL) (\"MIXED\" (\"BOUNDARY\" \"0e0c\") NIL NIL) 37 NIL NIL NIL) \"REPORT\" "
      "(\"BOUNDARY\" \"16Du\" \"REPORT-TYPE\" \"delivery-status\") NIL NIL))\r\n");
  ASSERT_TRUE(nested.body_structure.has_value());
  const BodyStructure* inner = (*FindPart(*nested.body_structure, "2"))->MessageBody();
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(Media(*inner), "multipart/mixed");
  EXPECT_THAT(inner->Param("boundary"), Optional("0e0c"s));
  EXPECT_THAT(Sections(LeafParts(*nested.body_structure)), ElementsAre("1"));
}

TEST(FetchDataTest, MessageRfc822WithoutEnvelopeIsABasicPart) {
  // Some servers send message/rfc822 as body-type-basic, without envelope,
  // body and lines, with or without extension data.
  const FetchAttributes f = Fetch(
      "* 5441 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"QUOTED-PRINTABLE\" 69 1)"
      "(\"MESSAGE\" \"RFC822\" (\"NAME\" \"ATT00026.eml\") NIL NIL \"7BIT\" 4079755)"
      "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 1980 NIL (\"ATTACHMENT\" "
      "(\"FILENAME\" \"fw.eml\")) NIL) \"MIXED\"))\r\n");
  ASSERT_TRUE(f.body_structure.has_value());
  const BodyStructure& b = *f.body_structure;
  ASSERT_EQ(b.children.size(), 3u);
  for (size_t i : {1u, 2u}) {
    EXPECT_EQ(Media(b.children[i]), "message/rfc822");
    EXPECT_FALSE(b.children[i].IsMessage());
    EXPECT_EQ(b.children[i].MessageBody(), nullptr);
    EXPECT_FALSE(b.children[i].lines.has_value());
  }
  EXPECT_EQ(b.children[1].size, 4079755u);
  EXPECT_EQ(b.children[2].disposition->type, "attachment");
  EXPECT_THAT(Sections(LeafParts(b)), ElementsAre("1", "2", "3"));
}

TEST(FetchDataTest, NilEncodingIsEmpty) {
  const FetchAttributes f =
      Fetch("* 1 FETCH (BODY (\"application\" \"x-y\" NIL NIL NIL NIL 5))\r\n");
  ASSERT_TRUE(f.body_structure.has_value());
  EXPECT_EQ(f.body_structure->encoding, "");
  EXPECT_EQ(f.body_structure->size, 5u);
}

// ------------------------------------------------------------------ groups

TEST(FetchDataTest, GroupEdgeCases) {
  const FetchAttributes f = Fetch(
      "* 1 FETCH (ENVELOPE (NIL NIL "
      // from: a group that is never closed, its member keeps the name
      "((NIL NIL \"open\" NIL)(\"A\" NIL \"a\" \"x.test\")) "
      // sender: a stray end marker, then an empty group named ""
      "((NIL NIL NIL NIL)(\"B\" NIL \"b\" \"x.test\")(NIL NIL \"\" NIL)(NIL NIL NIL NIL)) "
      // reply-to: RFC 3501's undisclosed recipients, then an address after it
      "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)(NIL NIL \"c\" \"y.test\")) "
      // to: a group start inside a group closes the first; empty lists
      "((NIL NIL \"g1\" NIL)(NIL NIL \"g2\" NIL)(NIL NIL \"d\" \"z.test\")(NIL NIL NIL NIL)) "
      "() NIL NIL NIL))\r\n");
  ASSERT_TRUE(f.envelope.has_value());
  const Envelope& e = *f.envelope;
  ASSERT_EQ(e.from.size(), 1u);
  EXPECT_THAT(e.from[0].group, Optional("open"s));
  EXPECT_EQ(e.from[0].Email(), "a@x.test");

  ASSERT_EQ(e.sender.size(), 2u);
  EXPECT_FALSE(e.sender[0].group.has_value());
  EXPECT_TRUE(e.sender[1].IsEmptyGroup());
  EXPECT_THAT(e.sender[1].group, Optional(""s));

  ASSERT_EQ(e.reply_to.size(), 2u);
  EXPECT_TRUE(e.reply_to[0].IsEmptyGroup());
  EXPECT_THAT(e.reply_to[0].group, Optional("undisclosed-recipients"s));
  EXPECT_FALSE(e.reply_to[1].group.has_value());
  EXPECT_EQ(e.reply_to[1].Email(), "c@y.test");

  ASSERT_EQ(e.to.size(), 2u);
  EXPECT_TRUE(e.to[0].IsEmptyGroup());
  EXPECT_THAT(e.to[0].group, Optional("g1"s));
  EXPECT_THAT(e.to[1].group, Optional("g2"s));
  EXPECT_EQ(e.to[1].Email(), "d@z.test");
  EXPECT_THAT(e.cc, IsEmpty());
  EXPECT_THAT(e.bcc, IsEmpty());
}

// ------------------------------------------------------------ INTERNALDATE

TEST(InternalDateTest, AcceptsThePaddings) {
  const absl::Time want = Utc(2024, 1, 6, 7, 5, 9);
  EXPECT_THAT(ParseInternalDate(" 6-Jan-2024 08:05:09 +0100"), IsOkAndHolds(want));
  EXPECT_THAT(ParseInternalDate("06-Jan-2024 08:05:09 +0100"), IsOkAndHolds(want));
  EXPECT_THAT(ParseInternalDate("6-Jan-2024 08:05:09 +0100"), IsOkAndHolds(want));
  EXPECT_THAT(ParseInternalDate("06-JAN-2024 08:05:09 +0100"), IsOkAndHolds(want));
  EXPECT_THAT(ParseInternalDate("06-jan-2024 07:05:09 +0000"), IsOkAndHolds(want));
  EXPECT_THAT(ParseInternalDate("05-Jan-2024 21:35:09 -0930"), IsOkAndHolds(want));
  EXPECT_THAT(ParseInternalDate("29-Feb-2024 00:00:00 +0000"),
              IsOkAndHolds(Utc(2024, 2, 29, 0, 0, 0)));
  EXPECT_THAT(ParseInternalDate("31-Dec-2023 23:59:60 +0000"),
              IsOkAndHolds(Utc(2024, 1, 1, 0, 0, 0)));
}

TEST(InternalDateTest, SpacePaddedDayThroughFetch) {
  const FetchAttributes f = Fetch("* 4 FETCH (INTERNALDATE \" 6-Jan-2024 08:05:09 +0100\")\r\n");
  EXPECT_THAT(f.internal_date, Optional(Utc(2024, 1, 6, 7, 5, 9)));
}

TEST(InternalDateTest, RejectsGarbage) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "does not start with a day"},
      {"garbage", "does not start with a day"},
      {"  6-Jan-2024 08:05:09 +0100", "does not start with a day"},
      {"123-Jan-2024 08:05:09 +0100", "month"},
      {"06 Jan 2024 08:05:09 +0100", "month"},
      {"06-Foo-2024 08:05:09 +0100", "month"},
      {"06-Ja", "month"},
      {"06-Jan-24 08:05:09 +0100", "4-digit year"},
      {"06-Jan-2024T08:05:09 +0100", "4-digit year"},
      {"06-Jan-2024 8:05:09 +0100", "hh:mm:ss"},
      {"06-Jan-2024 08:05 +0100", "hh:mm:ss"},
      {"06-Jan-2024 08:05:09", "hh:mm:ss"},
      {"06-Jan-2024 08:05:09 0100", "zone"},
      {"06-Jan-2024 08:05:09 +100", "zone"},
      {"06-Jan-2024 08:05:09 +0100 ", "after the zone"},
      {"06-Jan-2024 08:05:09 +01000", "after the zone"},
      {"06-Jan-2024 24:00:00 +0100", "out of range"},
      {"06-Jan-2024 08:60:00 +0100", "out of range"},
      {"06-Jan-2024 08:05:61 +0100", "out of range"},
      {"06-Jan-2024 08:05:09 +0160", "out of range"},
      {"00-Jan-2024 08:05:09 +0100", "does not exist"},
      {"32-Jan-2024 08:05:09 +0100", "does not exist"},
      {"29-Feb-2023 08:05:09 +0100", "does not exist"},
      {"31-Apr-2024 08:05:09 +0100", "does not exist"},
  };
  for (const auto& [text, why] : cases) {
    const absl::Status s = ParseInternalDate(text).status();
    EXPECT_TRUE(IsProtocolError(s, why)) << "\"" << text << "\"";
    EXPECT_TRUE(IsProtocolError(s, "dd-Mon-yyyy hh:mm:ss +zzzz")) << "\"" << text << "\"";
  }
  // Control bytes are escaped and long text is cut short in the message.
  const absl::Status s = ParseInternalDate("\x01" + std::string(200, 'x')).status();
  EXPECT_TRUE(IsProtocolError(s, "\"\\x01xxx"));
  EXPECT_LT(s.message().size(), 200u);
}

// -------------------------------------------------------- items in general

TEST(FetchDataTest, ItemNamesAreCaseInsensitive) {
  const FetchAttributes f = Fetch(
      "* 1 FETCH (uid 5 flags (\\Seen) Rfc822.Size 3 internaldate \"01-Feb-2024 00:00:00 "
      "+0000\" body[text] {3}\r\nabc Body[Header.Fields (subject)] NIL binary[1]<5> \"x\" "
      "rfc822.text NIL ModSeq (12345678901234) envelope (NIL NIL NIL NIL NIL NIL NIL NIL NIL "
      "NIL) bodystructure (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1))\r\n");
  EXPECT_THAT(f.uid, Optional(5u));
  EXPECT_THAT(f.flags, Optional(ElementsAre("\\Seen")));
  EXPECT_THAT(f.rfc822_size, Optional(3u));
  EXPECT_THAT(f.internal_date, Optional(Utc(2024, 2, 1, 0, 0, 0)));
  EXPECT_THAT(f.modseq, Optional(12345678901234u));
  EXPECT_TRUE(f.envelope.has_value());
  EXPECT_TRUE(f.body_structure.has_value());
  ASSERT_EQ(f.sections.size(), 4u);
  EXPECT_EQ(f.sections[0].section, "TEXT");
  EXPECT_THAT(f.sections[0].data, Optional("abc"s));
  EXPECT_EQ(f.sections[1].item, "Body[Header.Fields (subject)]");
  EXPECT_EQ(f.sections[1].section, "HEADER.FIELDS (SUBJECT)");
  EXPECT_FALSE(f.sections[1].data.has_value());  // NIL
  EXPECT_TRUE(f.sections[2].binary);
  EXPECT_THAT(f.sections[2].origin, Optional(5u));
  EXPECT_EQ(f.sections[3].section, "TEXT");
  EXPECT_FALSE(f.sections[3].data.has_value());
}

TEST(FetchDataTest, UnknownItemsAreSkipped) {
  const FetchAttributes f = Fetch(
      "* 7 FETCH (X-GM-LABELS (\\Inbox \"Work\") UID 9 X-GM-THRID 1278455344230334865 "
      "PREVIEW \"Hello there\" EMAILID (M6d99ac3275bb4e) SAVEDATE NIL BODY.PEEK[1] \"odd\" "
      "FLAGS (\\Answered))\r\n");
  EXPECT_THAT(f.uid, Optional(9u));
  EXPECT_THAT(f.flags, Optional(ElementsAre("\\Answered")));
  EXPECT_THAT(f.sections, IsEmpty());
}

TEST(FetchDataTest, EmptyItemListAndLargestNumbers) {
  const FetchAttributes empty = Fetch("* 4294967295 FETCH ()\r\n");
  EXPECT_EQ(empty.seq, 4294967295u);
  EXPECT_FALSE(empty.uid.has_value());
  EXPECT_FALSE(empty.flags.has_value());
  const FetchAttributes big = Fetch(
      "* 1 FETCH (UID 4294967295 RFC822.SIZE 18446744073709551615 MODSEQ "
      "(9223372036854775807))\r\n");
  EXPECT_THAT(big.uid, Optional(4294967295u));
  EXPECT_THAT(big.rfc822_size, Optional(18446744073709551615u));
  EXPECT_THAT(big.modseq, Optional(9223372036854775807u));
}

TEST(FetchDataTest, NormalizeSectionKey) {
  EXPECT_EQ(NormalizeSectionKey(""), "");
  EXPECT_EQ(NormalizeSectionKey("1.2.mime"), "1.2.MIME");
  EXPECT_EQ(NormalizeSectionKey("header.fields ( Subject  From)"), "HEADER.FIELDS (SUBJECT FROM)");
  EXPECT_EQ(NormalizeSectionKey("  header.fields\t(a)  "), "HEADER.FIELDS (A)");
}

// ---------------------------------------------------------------- malformed

TEST(FetchDataErrorTest, WrongTypesNameTheItem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"UID \"5\"", "item \"UID\": value: expected a number, got a string"},
      {"UID 0", "item \"UID\": 0 is not a valid UID"},
      {"UID 4294967296", "4294967296 is not a valid UID"},
      {"UID 99999999999999999999", "item \"UID\": value: expected a number, got an atom"},
      {"FLAGS NIL", "item \"FLAGS\": expected a list of flags, got NIL"},
      {"FLAGS (\\Seen (x))", "item \"FLAGS\": flag 2: expected a string, got a list"},
      {"RFC822.SIZE \"12\"", "item \"RFC822.SIZE\": value: expected a number, got a string"},
      {"MODSEQ 7", "item \"MODSEQ\": expected a list of one number, got a number"},
      {"MODSEQ ()", "item \"MODSEQ\": expected a list of one number, got a list of 0"},
      {"MODSEQ (\"7\")", "item \"MODSEQ\": value: expected a number, got a string"},
      {"INTERNALDATE NIL", "item \"INTERNALDATE\": value: expected a string, got NIL"},
      {"INTERNALDATE \"yesterday\"", "item \"INTERNALDATE\": INTERNALDATE \"yesterday\""},
      {"ENVELOPE NIL", "item \"ENVELOPE\": expected a list of 10 fields, got NIL"},
      {"ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL)", "expected 10 fields"},
      {"ENVELOPE (NIL (\"x\") NIL NIL NIL NIL NIL NIL NIL NIL)",
       "item \"ENVELOPE\": subject: expected a string or NIL, got a list"},
      {"ENVELOPE (NIL NIL \"a@b\" NIL NIL NIL NIL NIL NIL NIL)",
       "item \"ENVELOPE\": from: expected a list of addresses or NIL, got a string"},
      {"ENVELOPE (NIL NIL NIL NIL NIL ((NIL NIL \"a\" \"b\")(NIL \"a\" \"b\")) NIL NIL NIL NIL)",
       "to address 2: expected 4 fields (name adl mailbox host), got 3"},
      {"ENVELOPE (NIL NIL NIL NIL NIL NIL (NIL) NIL NIL NIL)",
       "cc address 1: expected a list, got NIL"},
      {"ENVELOPE (NIL NIL NIL NIL NIL NIL NIL ((NIL NIL (\"a\") \"b\")) NIL NIL)",
       "bcc address 1 mailbox: expected a string or NIL, got a list"},
      {"BODY[] (a b)", "item \"BODY[]\": expected a string or NIL, got a list"},
      {"BODY[]<x> \"a\"", "item \"BODY[]<x>\": bad origin \"<x>\""},
      {"BODY[]<> \"a\"", "unexpected \"<>\" after the section"},
      {"BODY[]junk \"a\"", "unexpected \"junk\" after the section"},
      {"BODY[]<99999999999999999999> \"a\"", "is too large"},
      {"BINARY.SIZE[1]<0> 5", "item \"BINARY.SIZE[1]<0>\": unexpected \"<0>\""},
      {"BINARY.SIZE[1] NIL", "item \"BINARY.SIZE[1]\": value: expected a number, got NIL"},
      {"RFC822 (x)", "item \"RFC822\": expected a string or NIL, got a list"},
      {"UID", "item \"UID\": no value"},
      {"UID 5 FLAGS", "item \"FLAGS\": no value"},
      {"\"UID\" 5", "element 1: expected an item name, got a string"},
      {"5 UID", "element 1: expected an item name, got a number"},
      {"UID 5 (FLAGS) ()", "element 3: expected an item name, got a list"},
  };
  for (const auto& [items, want] : cases) {
    const absl::Status s = FetchError("* 3 FETCH (" + items + ")\r\n");
    EXPECT_TRUE(IsProtocolError(s, "FETCH response for message 3: ")) << items;
    EXPECT_TRUE(IsProtocolError(s, want)) << items;
  }
}

TEST(FetchDataErrorTest, MalformedBodyStructureNamesThePart) {
  const std::string text = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)";
  const std::string env = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"NIL", "part 1: expected a non-empty body list, got NIL"},
      {"()", "part 1: expected a non-empty body list, got ()"},
      {"\"text\"", "part 1: expected a non-empty body list, got a string"},
      {"(\"text\" \"plain\" NIL)", "part 1: expected at least 7 fields"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10)",
       "part 1: \"text/plain\" part without a "
       "line count"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" \"10\" 1)",
       "part 1: size: expected a number, got a string"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 NIL)",
       "part 1: lines: expected a number, got NIL"},
      // A string then a list reads as a multipart without parts (see below).
      {"(\"text\" (\"plain\") NIL NIL NIL \"7bit\" 10 1)",
       "top-level multipart: parameters: expected name/value pairs, got 1 elements"},
      {"(\"text\" \"plain\" (\"charset\") NIL NIL \"7bit\" 10 1)",
       "part 1: parameters: expected name/value pairs, got 1 elements"},
      {"(\"text\" \"plain\" \"charset\" NIL NIL \"7bit\" 10 1)",
       "part 1: parameters: expected a parameter list or NIL, got a string"},
      {"(\"text\" \"plain\" NIL (\"id\") NIL \"7bit\" 10 1)",
       "part 1: id: expected a string or NIL, got a list"},
      {"(\"text\" \"plain\" NIL NIL NIL (\"7bit\") 10 1)", "part 1: encoding: expected a string"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL \"inline\")",
       "part 1: disposition: expected a list or NIL, got a string"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL (\"inline\"))",
       "part 1: disposition: expected 2 fields (type parameters), got 1"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL (\"inline\" (\"a\")))",
       "part 1: disposition parameters: expected name/value pairs"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL NIL (\"en\" (\"x\")))",
       "part 1: language 2: expected a string, got a list"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 NIL NIL NIL (\"loc\"))",
       "part 1: location: expected a string or NIL, got a list"},
      {"(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1 (\"md5\"))",
       "part 1: md5: expected a string or NIL, got a list"},
      {"(" + text + text + ")", "top-level multipart: multipart without a subtype"},
      {"(" + text + "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10) \"mixed\")",
       "part 2: \"text/plain\" part without a line count"},
      {"(" + text + "(" + text + "(\"a\" \"b\" NIL NIL NIL \"7bit\" x) \"alternative\") \"mixed\")",
       "part 2.2: size: expected a number, got an atom"},
      {"(" + text + " \"mixed\" \"boundary\")",
       "top-level multipart: parameters: expected a parameter list or NIL, got a string"},
      {"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 " + env + ")",
       "part 1: \"message/rfc822\" part needs envelope, body and line count; got 8 fields"},
      {"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 " + env + " " + text + ")", "got 9 fields"},
      {"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 (NIL) " + text + " 1)",
       "part 1: envelope: expected 10 fields"},
      {"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 " + env + " NIL 1)",
       "part 1.1: expected a non-empty body list, got NIL"},
      {"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 " + env + " " + text + " NIL)",
       "part 1: lines: expected a number, got NIL"},
      {"(" + text + "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 " + env + " (" + text +
           "(\"x\" \"y\" NIL NIL NIL \"7bit\" -1) \"mixed\") 3) \"mixed\")",
       "part 2.2: size: expected a number, got an atom"},
      {"(" + text + "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 10 " + env + " (" + text + text +
           ") 3) \"mixed\")",
       "multipart body of part 2: multipart without a subtype"},
  };
  for (const auto& [structure, want] : cases) {
    const absl::Status s = FetchError("* 8 FETCH (UID 1 BODYSTRUCTURE " + structure + ")\r\n");
    EXPECT_TRUE(IsProtocolError(s, "FETCH response for message 8: item \"BODYSTRUCTURE\": "))
        << structure;
    EXPECT_TRUE(IsProtocolError(s, want)) << structure;
  }
}

TEST(FetchDataErrorTest, NotAFetchResponse) {
  EXPECT_EQ(ParseFetch(ParseOne("* 3 EXISTS\r\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseFetch(ParseOne("a1 OK done\r\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsProtocolError(ParseFetch(ParseOne("* FETCH (UID 1)\r\n")).status(),
                              "without a message sequence number"));
  EXPECT_TRUE(IsProtocolError(ParseFetch(ParseOne("* 0 FETCH (UID 1)\r\n")).status(),
                              "without a message sequence number"));
  EXPECT_TRUE(IsProtocolError(FetchError("* 3 FETCH\r\n"),
                              "message 3: expected one parenthesised list of items, got 0 values"));
  EXPECT_TRUE(
      IsProtocolError(FetchError("* 3 FETCH UID 5\r\n"), "got 2 values, the first an atom"));
  EXPECT_TRUE(IsProtocolError(FetchError("* 3 FETCH (UID 5) (FLAGS ())\r\n"), "got 2 values"));
}

// Gmail's FETCH items (X-GM-EXT-1) as Gmail writes them: system labels as
// quoted strings with an escaped backslash, plain labels as atoms, labels
// with spaces quoted, non-ASCII labels in modified UTF-7, 64-bit ids.
TEST(FetchDataTest, GmailLabelsAndIds) {
  const FetchAttributes f = FetchFor(
      "* 7 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 18446744073709551615 "
      "X-GM-LABELS (\"\\\\Inbox\" \"\\\\Important\" Work \"Two words\" &AMk-t&AOk- {4}\r\nLit1) "
      "UID 41)\r\n",
      7);
  EXPECT_THAT(f.uid, Optional(41u));
  EXPECT_THAT(f.gmail_msgid, Optional(uint64_t{18446744073709551615u}));
  EXPECT_THAT(f.gmail_thrid, Optional(uint64_t{1278455344230334865u}));
  ASSERT_TRUE(f.gmail_labels.has_value());
  EXPECT_THAT(*f.gmail_labels,
              ElementsAre("\\Inbox", "\\Important", "Work", "Two words", "&AMk-t&AOk-", "Lit1"));
  // Lower-case item names; an empty list and NIL both mean no labels.
  const FetchAttributes empty = FetchFor("* 1 FETCH (x-gm-labels () UID 1)\r\n", 1);
  EXPECT_THAT(empty.gmail_labels, Optional(IsEmpty()));
  const FetchAttributes nil = FetchFor("* 1 FETCH (X-GM-LABELS NIL)\r\n", 1);
  EXPECT_THAT(nil.gmail_labels, Optional(IsEmpty()));
  // Not asked for: not there.
  const FetchAttributes none = FetchFor("* 1 FETCH (UID 1)\r\n", 1);
  EXPECT_FALSE(none.gmail_labels.has_value());
  EXPECT_FALSE(none.gmail_msgid.has_value());
  EXPECT_FALSE(none.gmail_thrid.has_value());
}

TEST(FetchDataErrorTest, MalformedGmailItems) {
  EXPECT_TRUE(IsProtocolError(FetchError("* 2 FETCH (X-GM-LABELS Work)\r\n"),
                              "item \"X-GM-LABELS\": expected a list of labels, got an atom"));
  EXPECT_TRUE(IsProtocolError(FetchError("* 2 FETCH (X-GM-LABELS (Work (nested)))\r\n"),
                              "item \"X-GM-LABELS\": label 2: expected a string, got a list"));
  EXPECT_TRUE(IsProtocolError(FetchError("* 2 FETCH (X-GM-MSGID \"12\")\r\n"),
                              "item \"X-GM-MSGID\": value: expected a number, got a string"));
  // Beyond 64 bits the parser leaves an atom, which is not a number.
  EXPECT_TRUE(IsProtocolError(FetchError("* 2 FETCH (X-GM-THRID 18446744073709551616)\r\n"),
                              "item \"X-GM-THRID\": value: expected a number, got an atom"));
  EXPECT_TRUE(IsProtocolError(FetchError("* 2 FETCH (X-GM-MSGID)\r\n"),
                              "item \"X-GM-MSGID\": no value"));
}

// Parts nested deeper than kMaxBodyDepth are refused, not recursed into,
// whether the parser let them through (its depth limit raised) or the value
// tree was built by hand.
TEST(FetchDataErrorTest, DeepNestingIsRefused) {
  const std::string leaf = "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)";
  std::string deep = leaf;
  for (int i = 0; i < 150; ++i) deep = "(" + deep + " \"mixed\")";
  ParserLimits limits;
  limits.max_list_depth = 1000;
  const absl::StatusOr<FetchAttributes> f =
      ParseFetch(ParseOne("* 1 FETCH (BODYSTRUCTURE " + deep + ")\r\n", limits));
  EXPECT_TRUE(IsProtocolError(f.status(), "nested deeper than 100 levels"));

  // Just inside the limit parses.
  std::string ok = leaf;
  for (int i = 0; i < kMaxBodyDepth; ++i) ok = "(" + ok + " \"mixed\")";
  const absl::StatusOr<FetchAttributes> g =
      ParseFetch(ParseOne("* 1 FETCH (BODYSTRUCTURE " + ok + ")\r\n", limits));
  ASSERT_TRUE(g.ok()) << g.status();
  const std::vector<PartRef> leaves = LeafParts(*g->body_structure);
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].section.size(), 2u * kMaxBodyDepth - 1);  // "1.1.1...1"
  EXPECT_THAT(FindPart(*g->body_structure, leaves[0].section), IsOkAndHolds(leaves[0].part));

  // Messages in messages, built by hand 1000 deep. (Moved in, not listed in
  // braces: an initializer_list would copy the whole tree each time.)
  Value v = ParseOne("* 1 X " + leaf + "\r\n").values[0];
  const Value env = ParseOne("* 1 X (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)\r\n").values[0];
  for (int i = 0; i < 1000; ++i) {
    std::vector<Value> fields;
    for (const char* s : {"message", "rfc822"}) fields.push_back(Value::String(s));
    for (int k = 0; k < 3; ++k) fields.push_back(Value::Nil());
    fields.push_back(Value::String("7bit"));
    fields.push_back(Value::Number(1, "1"));
    fields.push_back(env);
    fields.push_back(std::move(v));
    fields.push_back(Value::Number(1, "1"));
    v = Value::List(std::move(fields));
  }
  EXPECT_TRUE(IsProtocolError(ParseBodyStructure(v).status(), "nested deeper than"));
}

// LeafParts() and FindPart() walk without recursion.
TEST(FetchDataTest, WalkingADeepTreeDoesNotRecurse) {
  BodyStructure root;
  root.type = "text";
  root.subtype = "plain";
  std::string section = "1";
  for (int i = 0; i < 2000; ++i) {
    BodyStructure m;
    m.type = "message";
    m.subtype = "rfc822";
    m.envelope = Envelope();
    m.children.push_back(std::move(root));
    root = std::move(m);
    section += ".1";
  }
  const std::vector<PartRef> leaves = LeafParts(root);
  ASSERT_EQ(leaves.size(), 1u);
  EXPECT_EQ(leaves[0].section, section);
  EXPECT_EQ(Media(*leaves[0].part), "text/plain");
  EXPECT_THAT(FindPart(root, section), IsOkAndHolds(leaves[0].part));
}

// Every captured Dovecot response, damaged one node at a time (dropped,
// replaced by NIL, a number, a string, an atom, an empty list, or its list
// cut short), must parse or fail with the documented error, never crash.
TEST(FetchDataErrorTest, DamagedDovecotResponsesNeverCrash) {
  std::vector<Response> responses;
  for (const std::string* t : {&kRaw0, &kRaw1, &kRaw2, &kRaw3, &kRaw4, &kRaw5, &kRaw6}) {
    for (Response& r : ParseAll(*t)) {
      if (r.keyword == "FETCH") responses.push_back(std::move(r));
    }
  }
  ASSERT_EQ(responses.size(), 19u);
  const std::vector<std::function<void(std::vector<Value>*, size_t)>> damages = {
      [](std::vector<Value>* l, size_t i) { l->erase(l->begin() + static_cast<long>(i)); },
      [](std::vector<Value>* l, size_t i) { (*l)[i] = Value::Nil(); },
      [](std::vector<Value>* l, size_t i) { (*l)[i] = Value::Number(7, "7"); },
      [](std::vector<Value>* l, size_t i) { (*l)[i] = Value::String("x"); },
      [](std::vector<Value>* l, size_t i) { (*l)[i] = Value::Atom("BODY[1]<"); },
      [](std::vector<Value>* l, size_t i) { (*l)[i] = Value::List({}); },
      [](std::vector<Value>* l, size_t i) { l->resize(i); },
  };
  size_t variants = 0, parsed = 0;
  for (const Response& original : responses) {
    // Every list in the tree, as a path of indices from values[0].
    std::vector<std::vector<size_t>> lists = {{}};
    for (size_t k = 0; k < lists.size(); ++k) {
      const Value* node = &original.values[0];
      for (size_t i : lists[k]) node = &node->list[i];
      for (size_t i = 0; i < node->list.size(); ++i) {
        if (!node->list[i].IsList()) continue;
        std::vector<size_t> child = lists[k];
        child.push_back(i);
        lists.push_back(std::move(child));
      }
    }
    for (const std::vector<size_t>& path : lists) {
      size_t size = 0;
      {
        const Value* node = &original.values[0];
        for (size_t i : path) node = &node->list[i];
        size = node->list.size();
      }
      for (size_t i = 0; i < size; ++i) {
        for (const auto& damage : damages) {
          Response r = original;
          Value* node = &r.values[0];
          for (size_t j : path) node = &node->list[j];
          damage(&node->list, i);
          ++variants;
          const absl::StatusOr<FetchAttributes> f = ParseFetch(r);
          if (f.ok()) {
            ++parsed;
            if (f->body_structure) {
              for (const PartRef& p : LeafParts(*f->body_structure)) {
                EXPECT_TRUE(FindPart(*f->body_structure, p.section).ok()) << p.section;
              }
            }
          } else {
            EXPECT_TRUE(IsProtocolError(f.status(), "FETCH response for message "))
                << original.DebugString();
          }
        }
      }
    }
  }
  EXPECT_GT(variants, 5000u);
  EXPECT_GT(parsed, 0u);
  EXPECT_LT(parsed, variants);
}

}  // namespace
}  // namespace imap::wire
