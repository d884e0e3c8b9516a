#include "imap/mime/charset.h"

#include <ostream>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/util/utf8.h"

namespace imap::mime {

// Readable failure messages for defect lists.
void PrintTo(const Defect& d, std::ostream* os) { *os << "{" << d.where << ": " << d.what << "}"; }

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kWhere[] = "header Subject";

// Converts and expects success.
std::string Conv(absl::string_view bytes, absl::string_view charset, Defects* defects) {
  absl::StatusOr<std::string> s = ToUtf8(bytes, charset, defects, kWhere);
  EXPECT_TRUE(s.ok()) << charset << ": " << s.status();
  return s.ok() ? *s : std::string("<error>");
}

TEST(ToUtf8Test, Utf8PassesThrough) {
  Defects d;
  EXPECT_EQ(Conv("caf\xc3\xa9 \xf0\x9f\x8e\x89", "UTF-8", &d), "café 🎉");
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, InvalidUtf8BecomesReplacementWithOneDefect) {
  Defects d;
  EXPECT_EQ(Conv("a\xff"
                 "b\xc3",
                 "utf-8", &d),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "invalid UTF-8 bytes replaced by U+FFFD"}));
}

TEST(ToUtf8Test, LabelsAreCaseInsensitiveTrimmedAndAliased) {
  Defects d;
  for (const char* label : {"utf8", "UTF8", " Utf-8 ", "\"utf-8\"", "'UTF-8'", "utf_8"}) {
    EXPECT_EQ(Conv("\xc3\xa9", label, &d), "é") << label;
  }
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, Latin1IsReadAsWindows1252) {
  Defects d;
  // 0x80 is the euro sign in windows-1252 and a C1 control in ISO-8859-1;
  // senders that write "iso-8859-1" mean the former (WHATWG).
  for (const char* label : {"iso-8859-1", "ISO_8859-1", "latin1", "l1", "windows-1252", "cp1252"}) {
    EXPECT_EQ(Conv("caf\xe9 \x80 \x93q\x94", label, &d), "café € “q”") << label;
  }
  // Bytes windows-1252 leaves undefined keep their Latin-1 meaning.
  EXPECT_EQ(Conv("\x81\x8d\x8f\x90\x9d", "iso-8859-1", &d),
            "\xc2\x81\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d");
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, UsAsciiWithEightBitBytesIsGuessed) {
  Defects d;
  EXPECT_EQ(Conv("plain", "us-ascii", &d), "plain");
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(Conv("caf\xe9", "US-ASCII", &d), "café");
  EXPECT_EQ(Conv("caf\xc3\xa9", "ascii", &d), "café");
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].where, kWhere);
}

TEST(ToUtf8Test, UnknownEightBitLabelsAreGuessed) {
  Defects d;
  EXPECT_EQ(Conv("caf\xe9", "x-unknown", &d), "café");
  EXPECT_EQ(Conv("caf\xc3\xa9", "unknown-8bit", &d), "café");
  EXPECT_EQ(Conv("ascii only", "X-UNKNOWN", &d), "ascii only");
  EXPECT_EQ(d.size(), 2u);  // only where a guess was needed
}

TEST(ToUtf8Test, KoreanLabelsReadAsCp949) {
  Defects d;
  // "한국" is C7D1 B1B9 in KS C 5601 (EUC-KR).
  for (const char* label : {"ks_c_5601-1987", "KS_C_5601-1987", "euc-kr", "ksc5601"}) {
    EXPECT_EQ(Conv("\xc7\xd1\xb1\xb9", label, &d), "한국") << label;
  }
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, ChineseLabelsReadAsGb18030) {
  Defects d;
  // "中文" is D6D0 CEC4 in GB 2312.
  for (const char* label : {"gb2312", "GB2312", "gbk", "x-gbk", "GB18030"}) {
    EXPECT_EQ(Conv("\xd6\xd0\xce\xc4", label, &d), "中文") << label;
  }
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, ShiftJisLabelsReadAsCp932) {
  Defects d;
  // "日本" is 93FA 967B; "①" (NEC row 13, CP932 only) is 8740.
  for (const char* label : {"shift_jis", "Shift_JIS", "x-sjis", "sjis", "windows-31j"}) {
    EXPECT_EQ(Conv("\x93\xfa\x96\x7b\x87\x40", label, &d), "日本①") << label;
  }
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, Iso2022JpIsStateful) {
  Defects d;
  // ESC $ B switches to JIS X 0208: "F|" is 日, "K\" is 本; ESC ( B back.
  EXPECT_EQ(Conv("a\x1b$BF|K\\\x1b(Bb", "ISO-2022-JP", &d), "a日本b");
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, Iso2022JpFallsBackForHalfWidthKatakana) {
  Defects d;
  // ESC ( I (JIS X 0201 katakana) is not in plain ISO-2022-JP; 0x31 is U+FF71.
  EXPECT_EQ(Conv("\x1b(I1\x1b(B", "iso-2022-jp", &d), "ｱ");
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, HebrewLogicalOrderLabel) {
  Defects d;
  EXPECT_EQ(Conv("\xf9\xec\xe5\xed", "iso-8859-8-i", &d), "שלום");
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, IconvSpellingsOfCommonFamilies) {
  Defects d;
  EXPECT_EQ(Conv("\xa4", "iso8859_15", &d), "€");
  EXPECT_EQ(Conv("\xa4", "ISO-8859-15", &d), "€");
  for (const char* label : {"windows-1251", "cp1251", "windows1251", "win-1251", "CP-1251"}) {
    EXPECT_EQ(Conv("\xc0", label, &d), "А") << label;  // U+0410
  }
  EXPECT_EQ(Conv(absl::string_view("\xff\xfe"
                                   "A\0",
                                   4),
                 "utf-16", &d),
            "A");
  EXPECT_EQ(Conv("+AOk-", "utf-7", &d), "é");
  EXPECT_THAT(d, IsEmpty());
}

TEST(ToUtf8Test, InvalidAndTruncatedSequencesBecomeReplacement) {
  Defects d;
  // 93FA is 日; the final 0x93 is the first half of a character.
  const std::string out = Conv("a\x93\xfa\x93", "shift_jis", &d);
  EXPECT_EQ(out, "a日\xEF\xBF\xBD");
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "invalid shift_jis bytes replaced by U+FFFD"}));
}

TEST(ToUtf8Test, UnknownCharsetIsNotFound) {
  Defects d;
  for (const char* label :
       {"x-no-such-charset", "", "   ", "utf-8//TRANSLIT", "../../etc/passwd", "a b", "\xc3\xa9"}) {
    absl::StatusOr<std::string> s = ToUtf8("abc", label, &d, kWhere);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound) << label;
  }
  EXPECT_THAT(d, IsEmpty());
  EXPECT_FALSE(IsKnownCharset("x-no-such-charset"));
  EXPECT_TRUE(IsKnownCharset("ks_c_5601-1987"));
  EXPECT_TRUE(IsKnownCharset("KOI8-R"));
}

TEST(ToUtf8Test, NullDefectsIsAllowed) {
  EXPECT_EQ(ToUtf8("a\xff", "utf-8", nullptr, kWhere).value(), "a\xEF\xBF\xBD");
}

TEST(GuessToUtf8Test, KeepsValidUtf8) {
  EXPECT_EQ(GuessToUtf8(""), "");
  EXPECT_EQ(GuessToUtf8("plain"), "plain");
  EXPECT_EQ(GuessToUtf8("J\xc3\xb8rn"), "Jørn");
}

TEST(GuessToUtf8Test, ReadsOtherBytesAsWindows1252) {
  EXPECT_EQ(GuessToUtf8("J\xf8rn"), "Jørn");
  EXPECT_EQ(GuessToUtf8("\x80 \x9f"), "€ Ÿ");
  EXPECT_EQ(GuessToUtf8("\x81"), "\xc2\x81");
  // Corpus, error_emails/invalid_subject_characters.eml (raw Latin-1 Subject).
  EXPECT_EQ(GuessToUtf8("Forma\xe7\xe3o FrenetikPolis: Mega Campanha Final Ver\xe3o"),
            "Formação FrenetikPolis: Mega Campanha Final Verão");
}

TEST(GuessToUtf8Test, MixedTextKeepsItsUtf8Sequences) {
  EXPECT_EQ(GuessToUtf8("\xc3\xa9t\xe9"), "été");
}

TEST(GuessToUtf8Test, AlwaysReturnsValidUtf8) {
  std::mt19937 rng(7);
  for (int n = 0; n < 2000; ++n) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    EXPECT_TRUE(IsValidUtf8(GuessToUtf8(s)));
    absl::StatusOr<std::string> a = ToUtf8(s, "iso-2022-jp", nullptr, kWhere);
    ASSERT_TRUE(a.ok());
    EXPECT_TRUE(IsValidUtf8(*a));
    absl::StatusOr<std::string> b = ToUtf8(s, "utf-16", nullptr, kWhere);
    ASSERT_TRUE(b.ok());
    EXPECT_TRUE(IsValidUtf8(*b));
  }
}

// ASCII is skipped in blocks: bad or 8-bit bytes are found wherever they
// fall relative to those blocks.
TEST(ToUtf8Test, EightBitBytesAfterAsciiRunsOfEveryLength) {
  for (size_t run = 0; run < 40; ++run) {
    const std::string ascii(run, 'x');
    Defects d;
    EXPECT_EQ(Conv(ascii + "\xff" + ascii, "utf-8", &d), ascii + "\xEF\xBF\xBD" + ascii) << run;
    EXPECT_THAT(d, SizeIs(1)) << run;
    EXPECT_EQ(Conv(ascii + "\xc3\xa9" + ascii, "utf-8", nullptr), ascii + "\xc3\xa9" + ascii);
    EXPECT_EQ(Conv(ascii + "\xe9" + ascii, "iso-8859-1", nullptr), ascii + "\xc3\xa9" + ascii);
    EXPECT_EQ(GuessToUtf8(ascii + "\xe9"), ascii + "\xc3\xa9") << run;
  }
}

}  // namespace
}  // namespace imap::mime
