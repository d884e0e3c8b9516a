#include "imap/mime/line_scan.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace imap::mime {
namespace {

// The plain definitions the scans must agree with.
size_t FindLineStartByByte(absl::string_view in, size_t from, char c) {
  for (size_t p = from == 0 ? 1 : from; p < in.size(); ++p) {
    if (in[p - 1] == '\n' && in[p] == c) return p;
  }
  return absl::string_view::npos;
}

std::string CompactLineEndsByByte(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\r') {
      out.push_back(in[i]);
      continue;
    }
    out.push_back('\n');
    if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
  }
  return out;
}

// Random text over a small alphabet in which line ends and the searched
// bytes are frequent, of every length up to a few vectors.
std::string RandomText(std::mt19937* rng, size_t size) {
  static constexpr char kAlphabet[] = "\r\n-b-bxx\r\n\n ";
  std::string s;
  for (size_t i = 0; i < size; ++i) s.push_back(kAlphabet[(*rng)() % (sizeof(kAlphabet) - 1)]);
  return s;
}

TEST(LineScanTest, FindLineStartExamples) {
  EXPECT_EQ(FindLineStart("ab\n-x\n", 0, '-'), 3u);
  EXPECT_EQ(FindLineStart("-ab", 0, '-'), absl::string_view::npos);  // in[0] is not counted
  EXPECT_EQ(FindLineStart("a-b-c\n", 0, '-'), absl::string_view::npos);
  EXPECT_EQ(FindLineStart("\n", 0, '-'), absl::string_view::npos);
  EXPECT_EQ(FindLineStart("", 0, '-'), absl::string_view::npos);
  // Past the first vector, and exactly at the end.
  const std::string far = std::string(40, 'x') + "\nbegin";
  EXPECT_EQ(FindLineStart(far, 0, 'b'), 41u);
  EXPECT_EQ(FindLineStart(far, 42, 'b'), absl::string_view::npos);
  const std::string last = std::string(31, 'x') + "\nb";
  EXPECT_EQ(FindLineStart(last, 5, 'b'), 32u);
}

TEST(LineScanTest, FindLineStartAgreesWithByteByByteSearch) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    const std::string s = RandomText(&rng, rng() % 80);
    const size_t from = s.empty() ? 0 : rng() % (s.size() + 1);
    for (char c : {'-', 'b'}) {
      ASSERT_EQ(FindLineStart(s, from, c), FindLineStartByByte(s, from, c))
          << "from " << from << " in \"" << s << "\"";
    }
  }
  // Long text with rare hits, so that the vector loop runs far.
  for (int trial = 0; trial < 200; ++trial) {
    std::string s(rng() % 300, 'x');
    for (int k = 0; k < 3 && !s.empty(); ++k) s[rng() % s.size()] = k == 0 ? '\n' : '-';
    for (size_t from = 0; from <= s.size(); from += 7) {
      ASSERT_EQ(FindLineStart(s, from, '-'), FindLineStartByByte(s, from, '-'));
    }
  }
}

TEST(LineScanTest, CompactLineEndsExamples) {
  const auto compact = [](std::string s) {
    s.resize(CompactLineEnds(&s[0], s.size()));
    return s;
  };
  EXPECT_EQ(compact(""), "");
  EXPECT_EQ(compact("no line ends"), "no line ends");
  EXPECT_EQ(compact("a\r\nb\rc\nd\r"), "a\nb\nc\nd\n");
  EXPECT_EQ(compact("\r\r\n\n\r"), "\n\n\n\n");
  // CRs in the middle and at both ends of 16-byte blocks.
  const std::string line(15, 'x');
  EXPECT_EQ(compact(line + "\r\n" + line + "\r" + line + line + "\r\n"),
            line + "\n" + line + "\n" + line + line + "\n");
  // A CR at the end of a block whose LF starts the next one, CRs at both
  // ends of a block, and one block of nothing but line ends.
  EXPECT_EQ(compact(std::string(15, 'a') + "\r\n" + std::string(20, 'b')),
            std::string(15, 'a') + "\n" + std::string(20, 'b'));
  EXPECT_EQ(compact("\r" + std::string(14, 'c') + "\r" + std::string(20, 'd')),
            "\n" + std::string(14, 'c') + "\n" + std::string(20, 'd'));
  std::string ends;
  for (int i = 0; i < 8; ++i) ends += "\r\n";
  EXPECT_EQ(compact(ends + ends + "x"), std::string(16, '\n') + "x");
#if defined(__x86_64__)
  if (internal::CpuHasSsse3()) {
    // The block path ran (it needs 17 bytes) and agrees with the SSE2 one.
    std::string text;
    for (int i = 0; i < 50; ++i) text += std::string(static_cast<size_t>(i % 23), 'x') + "\r\n\r";
    std::string sse2 = text, ssse3 = text;
    sse2.resize(internal::CompactLineEndsSse2(&sse2[0], sse2.size()));
    size_t r = 0, w = 0;
    internal::CompactBlocksSsse3(&ssse3[0], ssse3.size(), &r, &w);
    EXPECT_GT(r, text.size() - 17);
    ssse3.resize(internal::CompactLineEndsFrom(&ssse3[0], ssse3.size(), r, w));
    EXPECT_EQ(ssse3, sse2);
  }
#endif
}

TEST(LineScanTest, CompactLineEndsAgreesWithByteByByteCopy) {
  std::mt19937 rng(8);
  for (int trial = 0; trial < 5000; ++trial) {
    std::string s = RandomText(&rng, rng() % 100);
    if (trial % 2 == 0) {
      // Mostly long lines, as in real text.
      for (char& c : s) {
        if ((c == '\r' || c == '\n') && rng() % 4 != 0) c = 'y';
      }
    }
    const std::string want = CompactLineEndsByByte(s);
    std::string sse2 = s;
    sse2.resize(internal::CompactLineEndsSse2(&sse2[0], sse2.size()));
    ASSERT_EQ(sse2, want) << "SSE2, input \"" << s << "\"";
    std::string best = s;  // SSSE3 where the CPU has it
    best.resize(CompactLineEnds(&best[0], best.size()));
    ASSERT_EQ(best, want) << "input \"" << s << "\"";
  }
}

}  // namespace
}  // namespace imap::mime
