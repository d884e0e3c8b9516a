#include "imap/mime/encoded_words.h"

#include <chrono>
#include <ostream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/util/utf8.h"

namespace imap::mime {

// Readable failure messages for defect lists.
void PrintTo(const Defect& d, std::ostream* os) { *os << "{" << d.where << ": " << d.what << "}"; }

namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kWhere[] = "header Subject";

std::string Text(absl::string_view raw, Defects* d) { return DecodeHeaderText(raw, d, kWhere); }

// RFC 2047 section 8: the examples of encoded words inside comments; in
// unstructured text the parentheses are plain characters around them.
TEST(DecodeHeaderTextTest, Rfc2047Section8SpacingExamples) {
  struct Case {
    const char* in;
    const char* out;
  };
  const Case cases[] = {
      {"(=?ISO-8859-1?Q?a?=)", "(a)"},
      {"(=?ISO-8859-1?Q?a?= b)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"},
      {"(=?ISO-8859-1?Q?a_b?=)", "(a b)"},
      {"(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Text(c.in, nullptr), c.out) << c.in;
  }
}

TEST(DecodeHeaderTextTest, Rfc2047Section8HeaderExamples) {
  Defects d;
  EXPECT_EQ(Text("=?US-ASCII?Q?Keith_Moore?=", &d), "Keith Moore");
  EXPECT_EQ(Text("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=", &d), "Keld Jørn Simonsen");
  EXPECT_EQ(Text("=?ISO-8859-1?Q?Andr=E9?= Pirard", &d), "André Pirard");
  EXPECT_EQ(Text("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
                 "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
                 &d),
            "If you can read this you understand the example.");
  EXPECT_EQ(Text("=?ISO-8859-1?Q?Olle_J=E4rnefors?=", &d), "Olle Järnefors");
  EXPECT_EQ(Text("=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?=", &d), "Patrik Fältström");
  // Visual-order Hebrew, as in the RFC.
  EXPECT_EQ(Text("=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=", &d), "םולש ןב ילטפנ");
  EXPECT_THAT(d, IsEmpty());
}

TEST(DecodeHeaderTextTest, Rfc2231LanguageSuffix) {
  Defects d;
  EXPECT_EQ(Text("=?US-ASCII*EN?Q?Keith_Moore?=", &d), "Keith Moore");
  EXPECT_EQ(Text("=?utf-8*de-CH?Q?Gr=C3=BCezi?=", &d), "Grüezi");
  EXPECT_THAT(d, IsEmpty());
}

TEST(DecodeHeaderTextTest, CharsetAndEncodingAreCaseInsensitive) {
  EXPECT_EQ(Text("=?utf-8?q?a?=", nullptr), "a");
  EXPECT_EQ(Text("=?UTF-8?b?YQ==?=", nullptr), "a");
  EXPECT_EQ(Text("=?Utf-8?B?YQ==?= =?UTF-8?Q?b?=", nullptr), "ab");
}

TEST(DecodeHeaderTextTest, CharacterSplitAcrossWordsIsJoined) {
  Defects d;
  // é is C3 A9; € is E2 82 AC, base64 "4oI=" + "rA==".
  EXPECT_EQ(Text("=?utf-8?Q?caf=C3?= =?UTF-8?Q?=A9?=", &d), "café");
  EXPECT_EQ(Text("=?UTF-8?B?4oI=?=\r\n =?UTF-8?B?rA==?=", &d), "€");
  EXPECT_THAT(d, IsEmpty());
  // Different charsets are converted separately.
  EXPECT_EQ(Text("=?utf-8?Q?=C3?= =?iso-8859-1?Q?=A9?=", &d), "\xEF\xBF\xBD©");
  EXPECT_THAT(d, SizeIs(1));
}

TEST(DecodeHeaderTextTest, WhitespaceBetweenWordAndTextIsKept) {
  EXPECT_EQ(Text("=?utf-8?q?a?= - =?utf-8?q?b?=", nullptr), "a - b");
  EXPECT_EQ(Text("Re:  =?utf-8?q?a?=  x", nullptr), "Re:  a  x");
  EXPECT_EQ(Text("a  b\t c", nullptr), "a  b\t c");
}

TEST(DecodeHeaderTextTest, UnfoldsLineBreaks) {
  EXPECT_EQ(Text("a\r\n b", nullptr), "a b");
  EXPECT_EQ(Text("a\n\tb", nullptr), "a\tb");
  EXPECT_EQ(Text("a\r\nb", nullptr), "a b");  // not a fold: words kept apart
}

TEST(DecodeHeaderTextTest, WordsGluedToTextAreDecodedWithDefect) {
  Defects d;
  EXPECT_EQ(Text("Re:=?utf-8?Q?caf=C3=A9?=", &d), "Re:café");
  EXPECT_EQ(Text("foo=?utf-8?Q?bar?=baz", &d), "foobarbaz");
  const Defect glued{kWhere, "encoded word not separated from text by whitespace"};
  EXPECT_THAT(d, ElementsAre(glued, glued));
  d.clear();
  EXPECT_EQ(Text("=?utf-8?Q?a?==?utf-8?Q?b?=", &d), "ab");  // two words, no gap
  EXPECT_THAT(d, IsEmpty());
}

TEST(DecodeHeaderTextTest, MalformedWordsStayAsText) {
  Defects d;
  EXPECT_EQ(Text("=?utf-8?Q?unterminated", &d), "=?utf-8?Q?unterminated");
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "unterminated encoded word kept as text"}));
  EXPECT_EQ(Text("=?utf-8?X?abc?=", nullptr), "=?utf-8?X?abc?=");
  EXPECT_EQ(Text("=??Q?abc?=", nullptr), "=??Q?abc?=");
  EXPECT_EQ(Text("=?*en?Q?abc?=", nullptr), "=?*en?Q?abc?=");
  EXPECT_EQ(Text("a =? b ?= c", nullptr), "a =? b ?= c");
  EXPECT_EQ(Text("=?utf 8?Q?a?=", nullptr), "=?utf 8?Q?a?=");
  EXPECT_EQ(Text("1+1=?", nullptr), "1+1=?");
}

TEST(DecodeHeaderTextTest, BadQAndBase64AreTolerated) {
  Defects d;
  EXPECT_EQ(Text("=?utf-8?Q?a=ZZb=4?=", &d), "a=ZZb=4");
  EXPECT_THAT(
      d, ElementsAre(Defect{kWhere, "'=' not followed by two hex digits in Q encoded word kept"}));
  d.clear();
  EXPECT_EQ(Text("=?utf-8?B?Y*Q?=", &d), "a");
  EXPECT_THAT(d, Contains(Field(&Defect::what, HasSubstr("invalid characters in base64"))));
  d.clear();
  EXPECT_EQ(Text("=?utf-8?B?YWJj?=", &d), "abc");
  EXPECT_EQ(Text("=?utf-8?B?YWI?=", &d), "ab");  // padding missing
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "base64 encoded word with incorrect padding"}));
  d.clear();
  EXPECT_EQ(Text("=?utf-8?B?\?=", &d), "");
  EXPECT_EQ(Text("=?utf-8?Q?\?=", &d), "");
  EXPECT_THAT(d, IsEmpty());
}

TEST(DecodeHeaderTextTest, UnknownCharsetIsGuessed) {
  Defects d;
  EXPECT_EQ(Text("=?x-foo?Q?caf=E9?=", &d), "café");
  EXPECT_THAT(
      d, ElementsAre(Defect{
             kWhere, "encoded word in unknown charset 'x-foo' read as UTF-8 or windows-1252"}));
}

TEST(DecodeHeaderTextTest, RawEightBitText) {
  Defects d;
  EXPECT_EQ(Text("J\xc3\xb8rn St\xc3\xb8ylen", &d), "Jørn Støylen");  // RFC 6532
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(Text("J\xf8rn =?utf-8?q?St=C3=B8ylen?=", &d), "Jørn Støylen");
  EXPECT_THAT(
      d, ElementsAre(Defect{kWhere, "8-bit header bytes that are not UTF-8 read as windows-1252"}));
}

// Header lines from the dev corpus (file names under /work/shared/corpus/dev).
TEST(DecodeHeaderTextTest, CorpusSubjects) {
  Defects d;
  // mikel-mail__attachment_emails_attachment_with_quoted_filename.eml
  EXPECT_EQ(Text("=?ISO-8859-1?Q?Eelanal=FC=FCsi_p=E4ring?=", &d), "Eelanalüüsi päring");
  // mikel-mail__plain_emails_raw_email.eml
  EXPECT_EQ(Text("=?EUC-KR?Q?NOTE:_=C7=D1=B1=B9=B8=BB=B7=CE_=C7=CF=B4=C2_=B0=CD?=", &d),
            "NOTE: 한국말로 하는 것");
  // mimekit__messages_japanese.txt: ISO-2022-JP split over two words.
  EXPECT_EQ(Text("=?ISO-2022-JP?B?GyRCRnxLXDhsJWEhPCVrJUYlOSVIGyhCICh0ZXN0aW5nIEph?=\n"
                 " =?ISO-2022-JP?B?cGFuZXNlIGVtYWlscyk=?=",
                 &d),
            "日本語メールテスト (testing Japanese emails)");
  // mikel-mail__multi_charset_japanese_iso_2022.eml
  EXPECT_EQ(Text("=?UTF-8?B?44G+44G/44KA44KB44KC?=", &d), "まみむめも");
  EXPECT_THAT(d, IsEmpty());
  // mikel-mail__error_emails_bad_encoded_subject.eml: unknown charset, bad padding.
  EXPECT_EQ(Text("=?NONE?B?VEVTVA=?=", &d), "TEST");
  EXPECT_THAT(d, SizeIs(2));
}

TEST(DecodeHeaderTextTest, HostileInputStaysLinearAndBounded) {
  std::string many_starts;
  for (int i = 0; i < 100000; ++i) many_starts += "=?a?q?x";
  Defects d;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Text(many_starts, &d), many_starts);
  std::string words;
  for (int i = 0; i < 20000; ++i) absl::StrAppend(&words, "=?x-cs", i, "?Q?=FF?= ");
  const std::string out = Text(words, &d);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(IsValidUtf8(out));
  EXPECT_LE(d.size(), 40u);  // each call reports at most 16
}

TEST(DecodeHeaderTextTest, RandomInputGivesValidUtf8) {
  std::mt19937 rng(11);
  const std::string alphabet = "=?QqBb_ \r\n\t()\"abc=C3=A9\xc3\xa9\xff";
  for (int n = 0; n < 3000; ++n) {
    std::string s;
    const size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    if (rng() % 2) s = "=?utf-8?" + s;
    EXPECT_TRUE(IsValidUtf8(Text(s, nullptr))) << s;
    EXPECT_TRUE(IsValidUtf8(DecodePhrase(s, nullptr, kWhere))) << s;
  }
}

TEST(DecodePhraseTest, QuotedStringsAndComments) {
  Defects d;
  EXPECT_EQ(DecodePhrase("\"Joe Q. Public\"", &d, kWhere), "Joe Q. Public");
  EXPECT_EQ(DecodePhrase("Joe Q. Public", &d, kWhere), "Joe Q. Public");
  EXPECT_EQ(DecodePhrase("\"Giant; \\\"Big\\\" Box\"", &d, kWhere), "Giant; \"Big\" Box");
  EXPECT_EQ(DecodePhrase("Pete(A nice \\) chap)", &d, kWhere), "Pete");
  EXPECT_EQ(DecodePhrase("  John \r\n   Doe (x (nested) y)  ", &d, kWhere), "John Doe");
  EXPECT_EQ(DecodePhrase("\"Mary  Smith: Personal\"", &d, kWhere), "Mary  Smith: Personal");
  EXPECT_EQ(DecodePhrase("\"a\"\"b\" c", &d, kWhere), "ab c");
  EXPECT_THAT(d, IsEmpty());
}

TEST(DecodePhraseTest, EncodedWordsEvenInsideQuotes) {
  Defects d;
  EXPECT_EQ(DecodePhrase("=?ISO-8859-1?Q?Andr=E9?= Pirard", &d, kWhere), "André Pirard");
  // mikel-mail__error_emails_invalid_subject_characters.eml, From.
  EXPECT_EQ(DecodePhrase("\"=?Windows-1252?B?Rm9ybWHn428gRnJlbmV0aWtwb2xpcw==?=\"", &d, kWhere),
            "Formação Frenetikpolis");
  // mikel-mail__plain_emails_raw_email_bad_time.eml, From.
  EXPECT_EQ(DecodePhrase("\"=?windows-1251?B?wPLo6u7iYQ==?=\"", &d, kWhere), "Атиковa");
  EXPECT_EQ(DecodePhrase("=?utf-8?q?a?= \"=?utf-8?q?b?=\"", &d, kWhere), "ab");
  // mikel-mail__error_emails_bad_subject.eml, From: four words, one name.
  EXPECT_EQ(DecodePhrase("=?UTF-8?B?TXlTdXJ2ZXk=?=\r\n =?UTF-8?B?LmNvbSAmIEM=?=\r\n "
                         "=?UTF-8?B?YXJvbCBBZGE=?=\r\n =?UTF-8?B?bXM=?=",
                         &d, kWhere),
            "MySurvey.com & Carol Adams");
  EXPECT_THAT(d, IsEmpty());
}

TEST(DecodePhraseTest, UnterminatedQuoteOrComment) {
  Defects d;
  EXPECT_EQ(DecodePhrase("\"John Doe", &d, kWhere), "John Doe");
  EXPECT_EQ(DecodePhrase("John (Doe", &d, kWhere), "John");
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "unterminated quoted string"},
                             Defect{kWhere, "unterminated comment"}));
}

// Text without encoded words that is already UTF-8 comes back as it is,
// without defects; anything else still takes the full path.
TEST(DecodeHeaderTextTest, PlainTextIsReturnedUnchanged) {
  Defects d;
  EXPECT_EQ(Text("  Re: plain  ASCII\tsubject ", &d), "  Re: plain  ASCII\tsubject ");
  EXPECT_EQ(Text("R\xc3\xa9union \xe2\x82\xac 5", &d), "R\xc3\xa9union \xe2\x82\xac 5");
  EXPECT_EQ(Text("a =? b ?= c", &d), "a =? b ?= c");
  EXPECT_EQ(Text("", &d), "");
  EXPECT_THAT(d, IsEmpty());
  // Unfolded first: a line break never survives.
  EXPECT_EQ(Text("two\r\n lines", &d), "two lines");
  EXPECT_EQ(Text("glued\r\nlines", &d), "glued lines");
  EXPECT_THAT(d, IsEmpty());
  // Not UTF-8: guessed, with the defect.
  EXPECT_EQ(Text("caf\xe9 au lait", &d), "caf\xc3\xa9 au lait");
  EXPECT_THAT(
      d, ElementsAre(Defect{kWhere, "8-bit header bytes that are not UTF-8 read as windows-1252"}));
}

TEST(DecodePhraseTest, LineBreaksInQuotedPairsAreUnfolded) {
  Defects d;
  EXPECT_EQ(DecodePhrase("\"a\\\r\\\nb\" c", &d, kWhere), "a b c");
  EXPECT_EQ(DecodePhrase("\"Doe,\r\n John\"", &d, kWhere), "Doe, John");
  EXPECT_EQ(DecodePhrase("\"=?utf-8?q?J=C3=B6rg?=\" X", &d, kWhere), "J\xc3\xb6rg X");
  EXPECT_THAT(d, IsEmpty());
}

// Adjacent words join when their charsets match in any case.
TEST(DecodeHeaderTextTest, AdjacentWordsJoinWhateverTheCharsetCase) {
  Defects d;
  EXPECT_EQ(Text("=?UTF-8?Q?=E2=82?= =?utf-8?Q?=AC?=", &d), "\xe2\x82\xac");
  EXPECT_THAT(d, IsEmpty());
  // Different charsets are converted one by one.
  EXPECT_EQ(Text("=?utf-8?Q?=C3=A9?= =?iso-8859-1?Q?=E9?=", &d), "\xc3\xa9\xc3\xa9");
  EXPECT_THAT(d, IsEmpty());
}

}  // namespace
}  // namespace imap::mime
