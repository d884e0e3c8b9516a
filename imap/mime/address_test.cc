#include "imap/mime/address.h"

#include <chrono>
#include <ostream>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/util/utf8.h"

namespace imap::mime {

void PrintTo(const Mailbox& m, std::ostream* os) {
  *os << "{name=\"" << m.name << "\" address=\"" << m.address << "\" group=\"" << m.group << "\"}";
}
void PrintTo(const Defect& d, std::ostream* os) { *os << "{" << d.where << ": " << d.what << "}"; }

namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kWhere[] = "header To";

std::vector<Mailbox> Parse(absl::string_view raw, Defects* d = nullptr) {
  return ParseAddressList(raw, d, kWhere);
}

Mailbox M(std::string name, std::string address, std::string group = "") {
  return Mailbox{std::move(name), std::move(address), std::move(group)};
}

// RFC 5322 Appendix A.1 and A.2.
TEST(ParseAddressListTest, Rfc5322AddressingExamples) {
  Defects d;
  EXPECT_THAT(Parse("John Doe <jdoe@machine.example>", &d),
              ElementsAre(M("John Doe", "jdoe@machine.example")));
  EXPECT_THAT(Parse("\"Joe Q. Public\" <john.q.public@example.com>", &d),
              ElementsAre(M("Joe Q. Public", "john.q.public@example.com")));
  EXPECT_THAT(Parse("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>", &d),
              ElementsAre(M("Mary Smith", "mary@x.test"), M("", "jdoe@example.org"),
                          M("Who?", "one@y.test")));
  EXPECT_THAT(
      Parse("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>", &d),
      ElementsAre(M("", "boss@nil.test"), M("Giant; \"Big\" Box", "sysservices@example.net")));
  EXPECT_THAT(Parse("\"Mary Smith: Personal Account\" <smith@home.example>", &d),
              ElementsAre(M("Mary Smith: Personal Account", "smith@home.example")));
  EXPECT_THAT(d, IsEmpty());
}

// RFC 5322 Appendix A.1.3.
TEST(ParseAddressListTest, Groups) {
  Defects d;
  EXPECT_THAT(Parse("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", &d),
              ElementsAre(M("Ed Jones", "c@a.test", "A Group"), M("", "joe@where.test", "A Group"),
                          M("John", "jdoe@one.test", "A Group")));
  EXPECT_THAT(Parse("Undisclosed recipients:;", &d), IsEmpty());
  EXPECT_THAT(Parse("a@x.test, G: b@y.test; c@z.test", &d),
              ElementsAre(M("", "a@x.test"), M("", "b@y.test", "G"), M("", "c@z.test")));
  EXPECT_THAT(Parse("=?utf-8?Q?Gr=C3=BCppe?=: a@x.test;", &d),
              ElementsAre(M("", "a@x.test", "Grüppe")));
  EXPECT_THAT(d, IsEmpty());
  // From the corpus: mikel-mail__error_emails_empty_group_lists.eml and
  // mimekit__samples_xamarin3.msg (no ';').
  EXPECT_THAT(Parse("undisclosed recipients: ;", &d), IsEmpty());
  EXPECT_THAT(d, IsEmpty());
  EXPECT_THAT(Parse("undisclosed-recipients: ", &d), IsEmpty());
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "group without closing ';'"}));
}

// RFC 5322 Appendix A.5: comments everywhere.
TEST(ParseAddressListTest, WhiteSpaceAndComments) {
  Defects d;
  EXPECT_THAT(Parse("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>", &d),
              ElementsAre(M("Pete", "pete@silly.test")));
  EXPECT_THAT(
      Parse("A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
            "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); "
            "(the end of the group)",
            &d),
      ElementsAre(M("Chris Jones", "c@public.example", "A Group"),
                  M("", "joe@example.org", "A Group"), M("John", "jdoe@one.test", "A Group")));
  EXPECT_THAT(Parse("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;", &d),
              IsEmpty());
  EXPECT_THAT(d, IsEmpty());
}

// RFC 5322 Appendix A.6.1 and A.6.3: obsolete syntax.
TEST(ParseAddressListTest, ObsoleteSyntax) {
  Defects d;
  EXPECT_THAT(Parse("Joe Q. Public <john.q.public@example.com>", &d),
              ElementsAre(M("Joe Q. Public", "john.q.public@example.com")));
  EXPECT_THAT(Parse("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example", &d),
              ElementsAre(M("Mary Smith", "mary@example.net"), M("", "jdoe@test.example")));
  EXPECT_THAT(Parse("John Doe <jdoe@machine(comment).  example>", &d),
              ElementsAre(M("John Doe", "jdoe@machine.example")));
  EXPECT_THAT(Parse("Mary Smith\r\n  \r\n     <mary@example.net>", &d),
              ElementsAre(M("Mary Smith", "mary@example.net")));
  EXPECT_THAT(Parse("<@a.test,@b.test:x@y.test>", &d), ElementsAre(M("", "x@y.test")));
  EXPECT_THAT(d, Contains(Defect{kWhere, "obsolete route removed"}));
}

// RFC 2047 section 8.
TEST(ParseAddressListTest, EncodedWordNames) {
  Defects d;
  EXPECT_THAT(Parse("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", &d),
              ElementsAre(M("Keith Moore", "moore@cs.utk.edu")));
  EXPECT_THAT(Parse("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", &d),
              ElementsAre(M("André Pirard", "PIRARD@vm1.ulg.ac.be")));
  EXPECT_THAT(Parse("Nathaniel Borenstein <nsb@thumper.bellcore.com>\r\n"
                    "    (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)",
                    &d),
              ElementsAre(M("Nathaniel Borenstein", "nsb@thumper.bellcore.com")));
  EXPECT_THAT(
      Parse("Greg Vaudreuil <gvaudre@NRI.Reston.VA.US>, Ned Freed\r\n      <ned@innosoft.com>, "
            "Keith Moore <moore@cs.utk.edu>",
            &d),
      ElementsAre(M("Greg Vaudreuil", "gvaudre@NRI.Reston.VA.US"),
                  M("Ned Freed", "ned@innosoft.com"), M("Keith Moore", "moore@cs.utk.edu")));
  EXPECT_THAT(d, IsEmpty());
  // mikel-mail__error_emails_invalid_subject_characters.eml: encoded word
  // inside a quoted string, as senders write it.
  EXPECT_THAT(Parse("\"=?Windows-1252?B?Rm9ybWHn428gRnJlbmV0aWtwb2xpcw==?=\" "
                    "<info@formacaofrenetik.info>"),
              ElementsAre(M("Formação Frenetikpolis", "info@formacaofrenetik.info")));
}

// RFC 5322 3.2.2: comments carry no meaning, so they never become a name.
TEST(ParseAddressListTest, CommentsAreNotNames) {
  Defects d;
  EXPECT_THAT(Parse("jdoe@example.org (John Doe)", &d), ElementsAre(M("", "jdoe@example.org")));
  EXPECT_THAT(Parse("<jdoe@example.org> (John Doe)", &d), ElementsAre(M("", "jdoe@example.org")));
  EXPECT_THAT(Parse("(John Doe) jdoe@example.org", &d), ElementsAre(M("", "jdoe@example.org")));
  EXPECT_THAT(Parse("a@x.test (=?utf-8?Q?J=C3=B6rn?=), b@y.test", &d),
              ElementsAre(M("", "a@x.test"), M("", "b@y.test")));
  // mikel-mail__multipart_report_emails_multi_address_bounce1.eml
  EXPECT_THAT(Parse("MAILER-DAEMON@lvmail01.LL.com (Mail Delivery System)", &d),
              ElementsAre(M("", "MAILER-DAEMON@lvmail01.LL.com")));
  EXPECT_THAT(Parse("Real Name (comment) <r@x.test>", &d), ElementsAre(M("Real Name", "r@x.test")));
  EXPECT_THAT(d, IsEmpty());
}

TEST(ParseAddressListTest, QuotedLocalPart) {
  Defects d;
  EXPECT_THAT(Parse("\"Big Bug bb\"@bug.com", &d), ElementsAre(M("", "\"Big Bug bb\"@bug.com")));
  EXPECT_THAT(Parse("<\"john.doe\"@example.com>", &d), ElementsAre(M("", "john.doe@example.com")));
  EXPECT_THAT(Parse("\"a\\\"b\"@example.com", &d), ElementsAre(M("", "\"a\\\"b\"@example.com")));
  EXPECT_THAT(Parse("jdoe@[192.0.2.1]", &d), ElementsAre(M("", "jdoe@[192.0.2.1]")));
  EXPECT_THAT(d, IsEmpty());
}

TEST(ParseAddressListTest, Utf8Addresses) {
  Defects d;
  // RFC 6532; mikel-mail__rfc6532_utf8_headers.eml.
  EXPECT_THAT(Parse("\"Jöhn Doe\" <jdöe@mächine.example>", &d),
              ElementsAre(M("Jöhn Doe", "jdöe@mächine.example")));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_THAT(Parse("J\xf6rg <j\xf6rg@x.test>", &d), ElementsAre(M("Jörg", "jörg@x.test")));
  EXPECT_THAT(d, SizeIs(2));  // name and address each guessed
}

// Broken input seen in real mail; each repair is a defect.
TEST(ParseAddressListTest, MissingAngleBracket) {
  Defects d;
  EXPECT_THAT(Parse("John <jd@x.test", &d), ElementsAre(M("John", "jd@x.test")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "missing '>'"}));
  EXPECT_THAT(Parse("John <jd@x.test, Mary <m@y.test>"),
              ElementsAre(M("John", "jd@x.test"), M("Mary", "m@y.test")));
}

TEST(ParseAddressListTest, AtSignInDisplayName) {
  Defects d;
  // mikel-mail__plain_emails_raw_email_with_at_display_name.eml
  EXPECT_THAT(Parse("smith@gmail.com, Mikel@Lindsaar <raasdnil@gmail.com>, tom@gmail.com", &d),
              ElementsAre(M("", "smith@gmail.com"), M("Mikel@Lindsaar", "raasdnil@gmail.com"),
                          M("", "tom@gmail.com")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "unquoted '@' in display name"}));
  // mimekit__messages_issue358.txt
  EXPECT_THAT(Parse("jang.abcdef@xyzlinu <jang.abcdef@xyzlinux12345678.it>"),
              ElementsAre(M("jang.abcdef@xyzlinu", "jang.abcdef@xyzlinux12345678.it")));
}

TEST(ParseAddressListTest, DoubleAtSign) {
  Defects d;
  EXPECT_THAT(Parse("foo@@bar.test", &d), ElementsAre(M("", "foo@bar.test")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "doubled '@' in address"}));
  d.clear();
  // mimekit__mbox_content-length.mbox.006.eml: a UUCP-era address, kept as seen.
  EXPECT_THAT(Parse("develop!nextmime@ebony@sblab.att.com", &d),
              ElementsAre(M("", "develop!nextmime@ebony@sblab.att.com")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "more than one '@' in address"}));
}

TEST(ParseAddressListTest, BareAddressesSeparatedBySpaces) {
  Defects d;
  // mikel-mail__plain_emails_raw_email_multiple_from.eml
  EXPECT_THAT(Parse("tim@powerupdev.com concierge@powerupdev.com", &d),
              ElementsAre(M("", "tim@powerupdev.com"), M("", "concierge@powerupdev.com")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "addresses separated by whitespace"}));
  EXPECT_THAT(Parse("a@x.test (Ann) b@y.test (Bob)"),
              ElementsAre(M("", "a@x.test"), M("", "b@y.test")));
}

TEST(ParseAddressListTest, NameWithoutAngleBrackets) {
  Defects d;
  // mikel-mail__plain_emails_mix_caps_content_type.eml
  EXPECT_THAT(Parse("Big Bug bb@bug.com", &d), ElementsAre(M("Big Bug", "bb@bug.com")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "display name without angle brackets"}));
}

TEST(ParseAddressListTest, StrayCommasSemicolonsAndNewlines) {
  Defects d;
  // mikel-mail__error_emails_weird_to_header.eml
  EXPECT_THAT(Parse(", user-example@aol.com, e-s-a-s-2200@app.ar.com", &d),
              ElementsAre(M("", "user-example@aol.com"), M("", "e-s-a-s-2200@app.ar.com")));
  EXPECT_THAT(Parse("a@x.test,,b@y.test,", &d), ElementsAre(M("", "a@x.test"), M("", "b@y.test")));
  // mikel-mail__error_emails_new_line_in_to_header.eml (folded, with a blank fold)
  EXPECT_THAT(
      Parse("leads@sg.dc.com,\r\n\t sag@leads.gs.ry.com,\r\n\t\r\n\tcc@c-l-example.com", &d),
      ElementsAre(M("", "leads@sg.dc.com"), M("", "sag@leads.gs.ry.com"),
                  M("", "cc@c-l-example.com")));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_THAT(Parse("a@x.test; b@y.test", &d), ElementsAre(M("", "a@x.test"), M("", "b@y.test")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "';' used to separate addresses"}));
}

TEST(ParseAddressListTest, MissingCommaBetweenAngleAddresses) {
  Defects d;
  EXPECT_THAT(Parse("A <a@x.test> B <b@y.test>", &d),
              ElementsAre(M("A", "a@x.test"), M("B", "b@y.test")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "missing ',' between addresses"}));
}

TEST(ParseAddressListTest, AddressesWithoutDomainOrWithoutAddress) {
  Defects d;
  // mimekit__benchmarks_startrek.eml: local users of one host.
  EXPECT_THAT(Parse("abel, bianchi, stornett@flash", &d),
              ElementsAre(M("", "abel"), M("", "bianchi"), M("", "stornett@flash")));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "address without domain"}));
  // mikel-mail__mime_emails_raw_email11.eml
  EXPECT_THAT(Parse("\"xxxxx@xxxxx\" <matmail>"), ElementsAre(M("xxxxx@xxxxx", "matmail")));
  // mimekit__mbox_content-length.mbox.006.eml: route without angle brackets.
  EXPECT_THAT(Parse("@develop:sblab!att!thumper.bellcore.com!nsb"),
              ElementsAre(M("", "sblab!att!thumper.bellcore.com!nsb")));
  d.clear();
  EXPECT_THAT(Parse("<>", &d), IsEmpty());
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "empty address dropped"}));
  d.clear();
  EXPECT_THAT(Parse("Undisclosed recipients", &d), IsEmpty());
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "text without an address dropped"}));
  // mikel-mail__error_emails_missing_body.eml: a group inside angle brackets.
  EXPECT_THAT(Parse("<Undisclosed-Recipient:@mailman.enron.com;>"), IsEmpty());
}

TEST(ParseAddressListTest, MailboxHiddenInEncodedWords) {
  Defects d;
  // mikel-mail__error_emails_must_supply_encoding.eml: the whole mailbox
  // encoded, with a UTF-8 character split across the two words.
  EXPECT_THAT(Parse("=?unknown-8bit?q?Biz_Phone_Systems_from_EclipseMediaOnline=EF=BF=BD=EF?=\n "
                    "=?unknown-8bit?q?=BF=BD__=3Cinfo=40here2there-travelers-msgs=2Enet=3E?=",
                    &d),
              ElementsAre(M("Biz Phone Systems from EclipseMediaOnline\xEF\xBF\xBD\xEF\xBF\xBD",
                            "info@here2there-travelers-msgs.net")));
  EXPECT_THAT(d, Contains(Field(&Defect::what, "address inside encoded words")));
}

TEST(ParseAddressListTest, EmptyInput) {
  Defects d;
  EXPECT_THAT(Parse("", &d), IsEmpty());
  EXPECT_THAT(Parse("  \r\n ", &d), IsEmpty());
  EXPECT_THAT(Parse("(just a comment)", &d), IsEmpty());
  EXPECT_THAT(d, IsEmpty());
}

TEST(ParseSingleTest, FirstMailbox) {
  Defects d;
  EXPECT_EQ(ParseSingle("Jane <jane@x.test>", &d, "header Sender"), M("Jane", "jane@x.test"));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(ParseSingle("a@x.test, b@y.test", &d, "header Sender"), M("", "a@x.test"));
  EXPECT_THAT(d,
              ElementsAre(Defect{"header Sender", "more than one address where one is expected"}));
  EXPECT_EQ(ParseSingle("", nullptr, "header Sender"), Mailbox());
}

TEST(ParseAddressListTest, LargeAndHostileInputs) {
  const auto start = std::chrono::steady_clock::now();
  std::string list;
  for (int i = 0; i < 20000; ++i) list += "u" + std::to_string(i) + "@x.test, ";
  EXPECT_THAT(Parse(list), SizeIs(20000));
  Defects d;
  EXPECT_THAT(Parse(std::string(100000, '('), &d), IsEmpty());
  EXPECT_THAT(Parse(std::string(100000, '<'), &d), IsEmpty());
  EXPECT_THAT(Parse(std::string(100000, '"'), &d), IsEmpty());
  EXPECT_THAT(Parse(std::string(100000, '@'), &d), IsEmpty());
  EXPECT_THAT(Parse(std::string(100000, ':'), &d), IsEmpty());
  std::string words;
  for (int i = 0; i < 20000; ++i) words += "=?a?q?x ";
  EXPECT_THAT(Parse(words, &d), IsEmpty());
  // Shapes that would be quadratic if elements were rescanned.
  std::string phrase_then_colons;
  for (int i = 0; i < 30000; ++i) phrase_then_colons += "a ";
  phrase_then_colons += "@ " + std::string(30000, ':');
  // The last word and the dangling '@' make a local part; the rest a name.
  const std::vector<Mailbox> one = Parse(phrase_then_colons, &d);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].address, "a");
  std::string no_commas;
  for (int i = 0; i < 20000; ++i) no_commas += "A <a@x.test> ";
  EXPECT_THAT(Parse(no_commas, &d), SizeIs(20000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_LE(d.size(), 9 * 16u);
}

TEST(ParseAddressListTest, RandomInputNeverCrashesAndStaysUtf8) {
  std::mt19937 rng(3);
  const std::string alphabet = "<>@,;:.\"()[]\\ \r\nab=?Q_\xc3\xa9\xff";
  for (int n = 0; n < 5000; ++n) {
    std::string s;
    const size_t len = rng() % 48;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    for (const Mailbox& m : Parse(s)) {
      EXPECT_FALSE(m.address.empty()) << s;
      EXPECT_TRUE(IsValidUtf8(m.name) && IsValidUtf8(m.address) && IsValidUtf8(m.group)) << s;
    }
  }
}

// Atoms end only at whitespace and specials: '=' that starts no encoded
// word, 8-bit bytes and stray ']' or '\' stay inside them.
TEST(ParseAddressListTest, AtomCharacters) {
  Defects d;
  EXPECT_THAT(Parse("a=b?c@x.test, J\xc3\xb6rg=?\xc3\xa9 <j@x.test>", &d),
              ElementsAre(M("", "a=b?c@x.test"), M("J\xc3\xb6rg=?\xc3\xa9", "j@x.test")));
  EXPECT_THAT(d, IsEmpty());
  EXPECT_THAT(Parse("=?utf-8?Q?Doe,_John?= <d@x.test>", &d),
              ElementsAre(M("Doe, John", "d@x.test")));
  EXPECT_THAT(d, IsEmpty());
}

}  // namespace
}  // namespace imap::mime
