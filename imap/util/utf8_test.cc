#include "imap/util/utf8.h"

#include <cstddef>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace imap {
namespace {

// IsValidUtf8() the slow way: one DecodeUtf8() per code point.
bool ValidByDecoding(absl::string_view s, size_t* bad_offset) {
  size_t i = 0;
  while (i < s.size()) {
    if (DecodeUtf8(s, &i) < 0) {
      *bad_offset = i;
      return false;
    }
  }
  return true;
}

TEST(SkipAsciiTest, StopsAtTheFirstHighByteFromAnyStart) {
  for (size_t run = 0; run < 40; ++run) {
    const std::string ascii(run, '~');
    for (size_t from = 0; from <= run; ++from) {
      EXPECT_EQ(SkipAscii(ascii, from), run) << run << " " << from;
      EXPECT_EQ(SkipAscii(ascii + "\x80" + ascii, from), run) << run << " " << from;
      EXPECT_EQ(SkipAscii(ascii + "\xff\x01", from), run) << run << " " << from;
    }
  }
  EXPECT_EQ(SkipAscii("\xc3\xa9", 1), 1u);
}

TEST(IsValidUtf8Test, EmptyAsciiAndMultiByte) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII text that is longer than sixteen bytes"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  size_t bad = 99;
  EXPECT_FALSE(IsValidUtf8("caf\xe9", &bad));
  EXPECT_EQ(bad, 3u);
}

// ASCII is skipped many bytes at a time: a bad byte must be found, at its
// exact offset, wherever it falls relative to those blocks, and a valid
// sequence right after a block must not be taken for a bad one.
TEST(IsValidUtf8Test, BadByteAfterAsciiRunsOfEveryLength) {
  const char* const kBad[] = {"\x80",     "\xff",         "\xc3",
                              "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
  for (size_t run = 0; run < 70; ++run) {
    const std::string ascii(run, 'a');
    EXPECT_TRUE(IsValidUtf8(ascii + "\xc3\xa9" + ascii)) << run;
    EXPECT_TRUE(IsValidUtf8(ascii + "\xf0\x9f\x98\x80")) << run;
    for (const char* b : kBad) {
      size_t bad = 12345;
      EXPECT_FALSE(IsValidUtf8(ascii + b + "tail", &bad)) << run;
      EXPECT_EQ(bad, run) << run;
      bad = 12345;
      EXPECT_FALSE(IsValidUtf8(ascii + "\xc3\xa9" + ascii + b, &bad)) << run;
      EXPECT_EQ(bad, 2 * run + 2) << run;
    }
  }
}

TEST(IsValidUtf8Test, AgreesWithDecodingOnRandomInput) {
  std::mt19937 rng(20261207);
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const size_t len = rng() % 64;
    for (size_t k = 0; k < len; ++k) {
      // Mostly ASCII, as mail is, with some high bytes.
      const unsigned r = static_cast<unsigned>(rng() % 100);
      s.push_back(static_cast<char>(r < 85 ? 0x20 + rng() % 0x5f : 0x80 + rng() % 0x80));
    }
    size_t want_bad = 0;
    const bool want = ValidByDecoding(s, &want_bad);
    size_t got_bad = 0;
    ASSERT_EQ(IsValidUtf8(s, &got_bad), want) << s;
    if (!want) {
      ASSERT_EQ(got_bad, want_bad) << s;
    }
  }
}

}  // namespace
}  // namespace imap
