#include "imap/mime/transfer_decoder.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imap::mime {

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Result {
  std::string out;
  std::vector<std::string> defects;  // the `what` of each

  bool operator==(const Result& o) const { return out == o.out && defects == o.defects; }
};

// Feeds `in` in pieces of `chunk` bytes (0: random sizes from `seed`).
Result DecodeChunked(TransferEncoding enc, absl::string_view in, size_t chunk, unsigned seed) {
  std::unique_ptr<TransferDecoder> d = TransferDecoder::For(enc, "part 1 body");
  std::mt19937 rng(seed);
  Result r;
  size_t i = 0;
  while (i < in.size()) {
    size_t n = chunk != 0 ? chunk : 1 + rng() % 7;
    n = std::min(n, in.size() - i);
    d->Feed(in.substr(i, n), &r.out);
    i += n;
  }
  d->Finish(&r.out);
  for (const Defect& defect : d->defects()) {
    EXPECT_EQ(defect.where, "part 1 body");
    r.defects.push_back(defect.what);
  }
  return r;
}

// Decodes whole, byte by byte and in random pieces; all must agree.
Result Decode(TransferEncoding enc, absl::string_view in) {
  Result whole = DecodeChunked(enc, in, in.size() + 1, 0);
  EXPECT_EQ(DecodeChunked(enc, in, 1, 0), whole) << "byte by byte: " << in;
  for (unsigned seed = 1; seed <= 5; ++seed) {
    EXPECT_EQ(DecodeChunked(enc, in, 0, seed), whole) << "seed " << seed << ": " << in;
  }
  return whole;
}

constexpr TransferEncoding kB64 = TransferEncoding::kBase64;
constexpr TransferEncoding kQp = TransferEncoding::kQuotedPrintable;

// ------------------------------------------------------------ base64

TEST(Base64Test, Rfc4648Vectors) {
  EXPECT_EQ(Decode(kB64, "").out, "");
  EXPECT_EQ(Decode(kB64, "Zg==").out, "f");
  EXPECT_EQ(Decode(kB64, "Zm8=").out, "fo");
  EXPECT_EQ(Decode(kB64, "Zm9v").out, "foo");
  EXPECT_EQ(Decode(kB64, "Zm9vYg==").out, "foob");
  EXPECT_EQ(Decode(kB64, "Zm9vYmE=").out, "fooba");
  Result r = Decode(kB64, "Zm9vYmFy");
  EXPECT_EQ(r.out, "foobar");
  EXPECT_THAT(r.defects, IsEmpty());
}

TEST(Base64Test, AllByteValuesAcrossLines) {
  // `base64 -w 76` of the bytes 0..255.
  const char* encoded =
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n"
      "OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3Bx\r\n"
      "cnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmq\n"
      "q6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj\r\n"
      "5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==\r\n";
  std::string expected;
  for (int i = 0; i < 256; ++i) expected.push_back(static_cast<char>(i));
  Result r = Decode(kB64, encoded);
  EXPECT_EQ(r.out, expected);
  EXPECT_THAT(r.defects, IsEmpty());
}

TEST(Base64Test, IgnoresWhiteSpaceSilently) {
  Result r = Decode(kB64, " Zm9v\tYm\r\nFy \r\n\r\n");
  EXPECT_EQ(r.out, "foobar");
  EXPECT_THAT(r.defects, IsEmpty());
}

TEST(Base64Test, SkipsInvalidCharactersWithOneDefect) {
  Result r = Decode(kB64, "Zm9v!Ym*Fy\x80\r\n");
  EXPECT_EQ(r.out, "foobar");
  EXPECT_THAT(r.defects, ElementsAre("invalid base64 character ignored"));
}

TEST(Base64Test, StopsAtPaddingAndToleratesGarbageAfterIt) {
  Result r = Decode(kB64, "Zm8=\r\n-- \r\nmailing list footer\r\n");
  EXPECT_EQ(r.out, "fo");
  EXPECT_THAT(r.defects, ElementsAre("data after base64 padding ignored"));
  // Padding followed by more padding and white space is clean.
  r = Decode(kB64, "Zg====\r\n \r\n");
  EXPECT_EQ(r.out, "f");
  EXPECT_THAT(r.defects, IsEmpty());
  // A second encoded block after padding is not decoded.
  r = Decode(kB64, "Zg==Zm8=");
  EXPECT_EQ(r.out, "f");
  EXPECT_THAT(r.defects, ElementsAre("data after base64 padding ignored"));
}

TEST(Base64Test, MissingPadding) {
  Result r = Decode(kB64, "Zm8");
  EXPECT_EQ(r.out, "fo");
  EXPECT_THAT(r.defects, ElementsAre("base64 input without padding"));
  r = Decode(kB64, "Zm9vYg\r\n");
  EXPECT_EQ(r.out, "foob");
  EXPECT_THAT(r.defects, ElementsAre("base64 input without padding"));
}

TEST(Base64Test, TruncatedInput) {
  Result r = Decode(kB64, "Zm9vY");
  EXPECT_EQ(r.out, "foo");
  EXPECT_THAT(r.defects, ElementsAre("truncated base64 input: last 6 bits dropped"));
}

TEST(Base64Test, MisplacedPadding) {
  Result r = Decode(kB64, "=Z=m9v");
  EXPECT_EQ(r.out, "foo");
  EXPECT_THAT(r.defects, ElementsAre("misplaced base64 padding ignored"));
}

TEST(Base64Test, FinishIsIdempotentAndFeedAfterFinishIgnored) {
  std::unique_ptr<TransferDecoder> d = TransferDecoder::For(kB64);
  std::string out;
  d->Feed("Zm8", &out);
  d->Finish(&out);
  d->Finish(&out);
  d->Feed("Zm9v", &out);
  EXPECT_EQ(out, "fo");
  ASSERT_EQ(d->defects().size(), 1u);
  EXPECT_EQ(d->defects()[0].where, "body");
}

// ------------------------------------------------------------ base64 fast paths

constexpr absl::string_view kB64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Base64 decoding as the header describes it, one byte at a time and with
// no fast path: what the decoder must produce, byte for byte and defect
// for defect, however its input is split.
Result ReferenceBase64(absl::string_view in) {
  Result r;
  const auto defect = [&r](const std::string& what) {
    for (const std::string& d : r.defects) {
      if (d == what) return;
    }
    r.defects.push_back(what);
  };
  uint32_t bits = 0;
  int count = 0;
  bool padded = false;
  const auto flush = [&] {
    if (count == 2) r.out.push_back(static_cast<char>(bits >> 4));
    if (count == 3) {
      r.out.push_back(static_cast<char>(bits >> 10));
      r.out.push_back(static_cast<char>(bits >> 2));
    }
    bits = 0;
    count = 0;
  };
  for (const char c : in) {
    const size_t sextet = kB64Alphabet.find(c);
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
    if (padded) {
      if (!space && c != '=') defect("data after base64 padding ignored");
    } else if (sextet != absl::string_view::npos) {
      bits = (bits << 6) | static_cast<uint32_t>(sextet);
      if (++count == 4) {
        r.out.push_back(static_cast<char>(bits >> 16));
        r.out.push_back(static_cast<char>(bits >> 8));
        r.out.push_back(static_cast<char>(bits));
        bits = 0;
        count = 0;
      }
    } else if (c == '=') {
      if (count < 2) {
        defect("misplaced base64 padding ignored");
      } else {
        flush();
        padded = true;
      }
    } else if (!space) {
      defect("invalid base64 character ignored");
    }
  }
  if (!padded && count == 1) defect("truncated base64 input: last 6 bits dropped");
  if (!padded && count > 1) {
    defect("base64 input without padding");
    flush();
  }
  return r;
}

// Encodes `data` in lines of `width` characters (the last one may be
// shorter), each ended by `eol`, with or without '=' padding.
std::string EncodeBase64(absl::string_view data, size_t width, absl::string_view eol, bool pad) {
  std::string chars;
  for (size_t i = 0; i < data.size(); i += 3) {
    const size_t n = std::min<size_t>(3, data.size() - i);
    uint32_t v = 0;
    for (size_t k = 0; k < 3; ++k) {
      v = (v << 8) | (k < n ? static_cast<uint8_t>(data[i + k]) : 0u);
    }
    for (size_t k = 0; k < 4; ++k) {
      if (k <= n) {
        chars.push_back(kB64Alphabet[(v >> (18 - 6 * k)) & 63]);
      } else if (pad) {
        chars.push_back('=');
      }
    }
  }
  std::string out;
  for (size_t i = 0; i < chars.size(); i += width) {
    out.append(chars, i, width);
    out.append(eol.data(), eol.size());
  }
  return out;
}

// Feeds `in` to a base64 decoder in pieces of next_size() bytes.
Result DecodeBase64InPieces(absl::string_view in, const std::function<size_t()>& next_size) {
  std::unique_ptr<TransferDecoder> d = TransferDecoder::For(kB64);
  Result r;
  for (size_t i = 0; i < in.size();) {
    const size_t n = std::min(std::max<size_t>(1, next_size()), in.size() - i);
    d->Feed(in.substr(i, n), &r.out);
    i += n;
  }
  d->Finish(&r.out);
  for (const Defect& defect : d->defects()) r.defects.push_back(defect.what);
  return r;
}

// Keeps the base64 decoders scalar while it lives.
class ScopedScalarBase64 {
 public:
  ScopedScalarBase64() { base64_internal::ForceScalar(true); }
  ~ScopedScalarBase64() { base64_internal::ForceScalar(false); }
  ScopedScalarBase64(const ScopedScalarBase64&) = delete;
  ScopedScalarBase64& operator=(const ScopedScalarBase64&) = delete;
};

TEST(Base64FastPathTest, ReferenceDecodesWhatTheEncoderWrites) {
  // The two test helpers against each other and RFC 4648's vectors, so a
  // mistake in them cannot hide one in the decoder.
  EXPECT_EQ(EncodeBase64("foobar", 4, "\r\n", true), "Zm9v\r\nYmFy\r\n");
  EXPECT_EQ(EncodeBase64("fooba", 76, "\n", true), "Zm9vYmE=\n");
  EXPECT_EQ(EncodeBase64("foob", 76, "\n", false), "Zm9vYg\n");
  EXPECT_EQ(ReferenceBase64("Zm9v\r\nYmE=\r\n").out, "fooba");
  EXPECT_THAT(ReferenceBase64("Zm9v\r\nYmE=\r\n").defects, IsEmpty());
  EXPECT_EQ(ReferenceBase64("Zm9vYg").out, "foob");
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    std::string data(rng() % 300, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    Result r = ReferenceBase64(EncodeBase64(data, 1 + rng() % 100, "\r\n", true));
    EXPECT_EQ(r.out, data);
    EXPECT_THAT(r.defects, IsEmpty());
  }
}

// Random binary data encoded as mailers write it (and as some write it
// oddly), often damaged, fed in pieces of every kind of size: the output
// and the defects must be the reference's, with and without AVX2.
TEST(Base64FastPathTest, MatchesReferenceOnRandomBodies) {
  const uint64_t blocks_before = base64_internal::Avx2BlocksDecoded();
  std::mt19937 rng(2024);
  const std::string odd_bytes("!-_.@[`{:*~\x00\x7f\x80\xc3\xff", 16);
  const std::string spaces = " \t\r\n\f\v";
  int damaged = 0;
  for (int round = 0; round < 1500; ++round) {
    std::string data(rng() % 2000, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    const size_t widths[] = {76, 76, 64, 72, 1 + rng() % 100};
    const size_t width = widths[rng() % 5];
    std::string in = EncodeBase64(data, width, rng() % 3 == 0 ? "\n" : "\r\n", rng() % 4 != 0);
    const int corruptions = rng() % 3 == 0 ? 0 : static_cast<int>(1 + rng() % 6);
    for (int k = 0; k < corruptions && !in.empty(); ++k) {
      const size_t at = rng() % in.size();
      switch (rng() % 7) {
        case 0:
          in.insert(at, 1, odd_bytes[rng() % odd_bytes.size()]);
          break;
        case 1:
          in[at] = odd_bytes[rng() % odd_bytes.size()];
          break;
        case 2:
          in.insert(at, rng() % 2 == 0 ? "=" : "==");
          break;
        case 3:
          in.insert(at, 1 + rng() % 3, spaces[rng() % spaces.size()]);
          break;
        case 4:
          in.erase(at, 1);
          break;
        case 5:
          in.resize(at);
          break;
        case 6:  // a second body after the padding
          in += EncodeBase64(data.substr(0, rng() % 100), width, "\r\n", true);
          break;
      }
      ++damaged;
    }
    const Result want = ReferenceBase64(in);
    if (corruptions == 0 && width % 4 == 0) {
      EXPECT_EQ(want.out, data) << "round " << round;
    }
    const std::function<size_t()> splits[] = {
        [&] { return in.size(); },                              // whole
        [] { return size_t{1}; },                               // byte by byte
        [&] { return 1 + rng() % 7; },                          // inside quads and line ends
        [&] { return 1 + rng() % 100; },                        // around a line
        [&] { return 1 + rng() % 5000; },                       // many lines
        [&] { return rng() % 2 == 0 ? 32 : 33 + rng() % 40; },  // near one block
    };
    for (size_t s = 0; s < sizeof(splits) / sizeof(splits[0]); ++s) {
      EXPECT_EQ(DecodeBase64InPieces(in, splits[s]), want)
          << "round " << round << ", split " << s << ": " << in;
    }
    ScopedScalarBase64 scalar;
    EXPECT_EQ(DecodeBase64InPieces(in, [&] { return in.size(); }), want)
        << "scalar, round " << round << ": " << in;
  }
  EXPECT_GT(damaged, 1000);
  if (base64_internal::Avx2PathAvailable()) {
    EXPECT_GT(base64_internal::Avx2BlocksDecoded() - blocks_before, 10000u);
  }
}

// Every byte value at every place in and around the first two vector
// blocks of a long run: anything the vector classification took for an
// alphabet character, or a wrong sextet, would change the output.
TEST(Base64FastPathTest, EveryByteValueAtEveryBlockPosition) {
  std::mt19937 rng(11);
  std::string base;
  for (int i = 0; i < 96; ++i) base.push_back(kB64Alphabet[rng() % 64]);
  for (int byte = 0; byte < 256; ++byte) {
    for (size_t at = 0; at < 72; ++at) {
      std::string in = base;
      in[at] = static_cast<char>(byte);
      const Result want = ReferenceBase64(in);
      EXPECT_EQ(DecodeBase64InPieces(in, [&] { return in.size(); }), want)
          << "byte " << byte << " at " << at;
    }
  }
}

// The vector path takes a line end like the one before as given once it
// has checked it is white space: one odd line end among regular ones, in
// each place a line can have in the input, must still decode as the
// reference does.
TEST(Base64FastPathTest, OneOddLineEndAmongRegularLines) {
  std::mt19937 rng(9);
  std::string data(57 * 12, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const absl::string_view odd_ends[] = {"==", "=\n",  "\r=",   "!\n",      "\r!",
                                        "  ", "\n\r", "\r\r",  "\r\n\r\n", "\r",
                                        "\n", "",     "A\r\n", "\r\n=",    "\r\n \t"};
  for (const absl::string_view eol : {absl::string_view("\r\n"), absl::string_view("\n")}) {
    for (const size_t width : {64, 72, 76}) {
      const std::string in = EncodeBase64(data, width, eol, true);
      for (size_t line = 0; line < 8; ++line) {
        const size_t at = (width + eol.size()) * line + width;  // that line's end
        for (const absl::string_view odd : odd_ends) {
          std::string changed = in;
          changed.replace(at, eol.size(), odd.data(), odd.size());
          const Result want = ReferenceBase64(changed);
          EXPECT_EQ(DecodeBase64InPieces(changed, [&] { return changed.size(); }), want)
              << "width " << width << ", line " << line << ", end \"" << absl::CEscape(odd) << "\"";
        }
      }
    }
  }
}

// Lines of 76 characters take the AVX2 path when the CPU has it (and never
// when it has not, or when the scalar code is forced); the output is the
// data either way.
TEST(Base64FastPathTest, LongLinesTakeTheAvx2Path) {
  std::mt19937 rng(5);
  std::string data(57 * 1000, '\0');  // 1000 full lines
  for (char& c : data) c = static_cast<char>(rng());
  const std::string in = EncodeBase64(data, 76, "\r\n", true);
  const auto whole = [&] { return in.size(); };

  uint64_t before = base64_internal::Avx2BlocksDecoded();
  Result r = DecodeBase64InPieces(in, whole);
  const uint64_t blocks = base64_internal::Avx2BlocksDecoded() - before;
  EXPECT_EQ(r.out, data);
  EXPECT_THAT(r.defects, IsEmpty());
  if (base64_internal::Avx2PathAvailable()) {
    // Two full blocks and one up to the line end per line, but for the
    // last 32 bytes, which are left to the scalar code.
    EXPECT_GE(blocks, 3u * 999);
    EXPECT_LE(blocks, 3u * 1000);
  } else {
    EXPECT_EQ(blocks, 0u);
  }

  ScopedScalarBase64 scalar;
  before = base64_internal::Avx2BlocksDecoded();
  r = DecodeBase64InPieces(in, whole);
  EXPECT_EQ(base64_internal::Avx2BlocksDecoded() - before, 0u);
  EXPECT_EQ(r.out, data);
  EXPECT_THAT(r.defects, IsEmpty());
}

// ------------------------------------------------------------ quoted-printable

TEST(QuotedPrintableTest, HexEscapesInEitherCase) {
  Result r = Decode(kQp, "caf=C3=A9 caf=c3=a9");
  EXPECT_EQ(r.out, "caf\xc3\xa9 caf\xc3\xa9");
  EXPECT_THAT(r.defects, IsEmpty());
}

TEST(QuotedPrintableTest, SoftLineBreaks) {
  Result r = Decode(kQp, "abc=\r\ndef=\nghi\r\njkl");
  EXPECT_EQ(r.out, "abcdefghi\r\njkl");
  EXPECT_THAT(r.defects, IsEmpty());
  // White space between '=' and the line break (added in transport).
  r = Decode(kQp, "abc= \t\r\ndef=  \nghi");
  EXPECT_EQ(r.out, "abcdefghi");
  EXPECT_THAT(r.defects, IsEmpty());
  // A soft line break at the very end.
  r = Decode(kQp, "abc=");
  EXPECT_EQ(r.out, "abc");
  EXPECT_THAT(r.defects, IsEmpty());
}

TEST(QuotedPrintableTest, KeepsLineBreaksAsWritten) {
  EXPECT_EQ(Decode(kQp, "a\r\nb\nc\r\n").out, "a\r\nb\nc\r\n");
}

TEST(QuotedPrintableTest, RemovesTrailingWhiteSpace) {
  Result r = Decode(kQp, "abc  \r\ndef \t\nghi \t ");
  EXPECT_EQ(r.out, "abc\r\ndef\nghi");
  EXPECT_THAT(r.defects, IsEmpty());
  // Encoded and inner white space stays.
  EXPECT_EQ(Decode(kQp, "a  b=20\r\n=09\r\n").out, "a  b \r\n\t\r\n");
  // White space before a soft line break is text.
  EXPECT_EQ(Decode(kQp, "a  =\r\nb").out, "a  b");
}

TEST(QuotedPrintableTest, LongWhiteSpaceRunsAreText) {
  // More than a line's worth of white space cannot be transport padding;
  // each full 76 bytes are passed on, the rest is trailing white space.
  std::string spaces(100, ' ');
  EXPECT_EQ(Decode(kQp, "a" + spaces + "b").out, "a" + spaces + "b");
  EXPECT_EQ(Decode(kQp, "a" + spaces + "\r\nb").out, "a" + std::string(76, ' ') + "\r\nb");
}

TEST(QuotedPrintableTest, InvalidEscapesKeptLiterally) {
  Result r = Decode(kQp, "100=XY =G1 =4\r\n=");
  EXPECT_EQ(r.out, "100=XY =G1 =4\r\n");
  EXPECT_THAT(r.defects, ElementsAre("invalid quoted-printable escape kept literally"));
  r = Decode(kQp, "a=4");
  EXPECT_EQ(r.out, "a=4");
  EXPECT_THAT(r.defects, ElementsAre("invalid quoted-printable escape kept literally"));
  r = Decode(kQp, "a= b");
  EXPECT_EQ(r.out, "a= b");
  EXPECT_THAT(r.defects, ElementsAre("invalid quoted-printable escape kept literally"));
  r = Decode(kQp, "a=\rb");
  EXPECT_EQ(r.out, "a=\rb");
  EXPECT_THAT(r.defects, ElementsAre("invalid quoted-printable escape kept literally"));
}

TEST(QuotedPrintableTest, LoneCrIsText) {
  Result r = Decode(kQp, "a\rb \rc\r");
  EXPECT_EQ(r.out, "a\rb \rc\r");
  EXPECT_THAT(r.defects, IsEmpty());
}

TEST(QuotedPrintableTest, EightBitAndControlBytesPassThrough) {
  EXPECT_EQ(Decode(kQp, std::string("\x00\xff\x01", 3)).out, std::string("\x00\xff\x01", 3));
}

TEST(QuotedPrintableTest, LineEndsPassThroughWholeRunsAtAnySplit) {
  // Long lines (so that whole chunks are scanned 16 bytes at a time) with
  // every kind of line end, white space before them (dropped before CRLF
  // and LF, kept before a lone CR) and escapes; split in two at every
  // byte, so that a CR, a blank or an escape ends a chunk somewhere.
  std::string in, want;
  const char* const ends[] = {"\r\n", "\n", "\r"};
  for (int i = 0; i < 9; ++i) {
    const std::string text = "line " + std::string(static_cast<size_t>(20 + i), 'x') + " ok";
    const std::string blanks = i % 3 == 1 ? " \t " : i % 3 == 2 ? " " : "";
    const std::string end = ends[i % 3 == 0 ? 0 : (i / 3) % 3];
    in += text + "=3D" + blanks + end;
    want += text + "=" + (end == "\r" ? blanks : "") + end;
  }
  in += "tail \t";  // trailing white space at the very end goes too
  want += "tail";
  EXPECT_EQ(Decode(kQp, in).out, want);
  for (size_t a = 0; a <= in.size(); ++a) {
    std::unique_ptr<TransferDecoder> d = TransferDecoder::For(kQp);
    std::string out;
    d->Feed(absl::string_view(in).substr(0, a), &out);
    d->Feed(absl::string_view(in).substr(a), &out);
    d->Finish(&out);
    ASSERT_EQ(out, want) << "split at " << a;
    EXPECT_THAT(d->defects(), IsEmpty());
  }
}

// ------------------------------------------------------------ identity

TEST(IdentityTest, PassesEverythingThrough) {
  const std::string body("a\r\n\x00\xff=41 \r\n", 11);
  for (TransferEncoding e :
       {TransferEncoding::k7Bit, TransferEncoding::k8Bit, TransferEncoding::kBinary}) {
    Result r = Decode(e, body);
    EXPECT_EQ(r.out, body);
    EXPECT_THAT(r.defects, IsEmpty());
  }
}

// ------------------------------------------------------------ uuencode

constexpr TransferEncoding kUu = TransferEncoding::kUuencode;

// The bytes 0 to 255, as Python's binascii.b2a_uu encodes them in lines of
// 45 bytes: zero bits as spaces ...
constexpr absl::string_view kAllBytesSpaces =
    "M  $\" P0%!@<(\"0H+# T.#Q 1$A,4%187&!D:&QP='A\\@(2(C)\"4F)R@I*BLL\n"
    "M+2XO,#$R,S0U-C<X.3H[/#T^/T!!0D-$149'2$E*2TQ-3D]045)35%565UA9\n"
    "M6EM<75Y?8&%B8V1E9F=H:6IK;&UN;W!Q<G-T=79W>'EZ>WQ]?G^ @8*#A(6&\n"
    "MAXB)BHN,C8Z/D)&2DY25EI>8F9J;G)V>GZ\"AHJ.DI::GJ*FJJZRMKJ^PL;*S\n"
    "MM+6VM[BYNKN\\O;Z_P,'\"P\\3%QL?(R<K+S,W.S]#1TM/4U=;7V-G:V]S=WM_@\n"
    "?X>+CY.7FY^CIZNOL[>[O\\/'R\\_3U]O?X^?K[_/W^_P  \n";
// ... and as backticks (backtick=True).
constexpr absl::string_view kAllBytesBackticks =
    "M``$\"`P0%!@<(\"0H+#`T.#Q`1$A,4%187&!D:&QP='A\\@(2(C)\"4F)R@I*BLL\n"
    "M+2XO,#$R,S0U-C<X.3H[/#T^/T!!0D-$149'2$E*2TQ-3D]045)35%565UA9\n"
    "M6EM<75Y?8&%B8V1E9F=H:6IK;&UN;W!Q<G-T=79W>'EZ>WQ]?G^`@8*#A(6&\n"
    "MAXB)BHN,C8Z/D)&2DY25EI>8F9J;G)V>GZ\"AHJ.DI::GJ*FJJZRMKJ^PL;*S\n"
    "MM+6VM[BYNKN\\O;Z_P,'\"P\\3%QL?(R<K+S,W.S]#1TM/4U=;7V-G:V]S=WM_@\n"
    "?X>+CY.7FY^CIZNOL[>[O\\/'R\\_3U]O?X^?K[_/W^_P``\n";

std::string AllBytes() {
  std::string out;
  for (int i = 0; i < 256; ++i) out.push_back(static_cast<char>(i));
  return out;
}

std::string WithCrlf(absl::string_view lf) {
  std::string out;
  for (char c : lf) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

TEST(UuencodeTest, DecodesWhatAnEncoderWrites) {
  for (absl::string_view lines : {kAllBytesSpaces, kAllBytesBackticks}) {
    const std::string body = absl::StrCat("begin 644 all bytes.bin\n", lines, "`\nend\n");
    for (const std::string& b : {body, WithCrlf(body)}) {
      Result r = Decode(kUu, b);
      EXPECT_EQ(r.out, AllBytes());
      EXPECT_THAT(r.defects, IsEmpty());
    }
  }
  std::unique_ptr<TransferDecoder> d = TransferDecoder::For(kUu);
  std::string out;
  EXPECT_EQ(d->file_name(), "");
  d->Feed("\r\n\r\nbegin 0755   run me.sh  \r\n#0V%T\r\n`\r\nend", &out);
  d->Finish(&out);
  EXPECT_EQ(out, "Cat");
  EXPECT_EQ(d->file_name(), "run me.sh");
  EXPECT_THAT(d->defects(), IsEmpty());
}

TEST(UuencodeTest, RestoresTrailingSpacesLostInTransport) {
  // b2a_uu of 45 zero bytes and "AB" is "M" and 60 spaces, then "\"04( ";
  // a relay that strips trailing white space leaves "M" and "\"04(".
  Result r = Decode(kUu, "begin 644 z\nM\n\"04(\n \nend\n");
  EXPECT_EQ(r.out, std::string(45, '\0') + "AB");
  EXPECT_THAT(r.defects, IsEmpty());
  // A checksum character after the data is ignored.
  EXPECT_EQ(Decode(kUu, "begin 644 c\n#0V%TX\nend\n").out, "Cat");
}

TEST(UuencodeTest, MalformedInputIsDecodedAsFarAsPossibleWithDefects) {
  Result r = Decode(kUu, "Here it is:\nbegin 644 c\n#0V%T\n");
  EXPECT_EQ(r.out, "Cat");
  EXPECT_THAT(r.defects, ElementsAre("text before the uuencode 'begin' line ignored",
                                     "uuencoded body without an 'end' line"));
  r = Decode(kUu, "begin 644 c\n#0V\x01T\nend\n");
  EXPECT_EQ(r.out, "C`4");  // the 0x01 read as zero bits, where "%" gives "Cat"
  EXPECT_THAT(r.defects, ElementsAre("invalid uuencode character read as zero bits"));
  r = Decode(kUu, "begin 644 c\nhello\n#0V%T\nend\nbye\n\n");
  EXPECT_EQ(r.out, "Cat");
  EXPECT_THAT(r.defects, ElementsAre("line that is not uuencoded data ignored",
                                     "data after the uuencode 'end' line ignored"));
  r = Decode(kUu, absl::StrCat("begin 644 c\n", std::string(2000, 'M'), "\n#0V%T\nend\n"));
  EXPECT_EQ(r.out, "Cat");
  EXPECT_THAT(r.defects, ElementsAre("line that is not uuencoded data ignored"));
}

TEST(UuencodeTest, BodyWithoutBeginIsPassedThrough) {
  Result r = Decode(kUu, "Just text,\r\nnot uuencoded.\r\n");
  EXPECT_EQ(r.out, "Just text,\r\nnot uuencoded.\r\n");
  EXPECT_THAT(r.defects,
              ElementsAre("no uuencode 'begin' line; the body is passed through undecoded"));
  EXPECT_THAT(Decode(kUu, "").defects, IsEmpty());
  // Past the bound the decoder stops waiting and streams the rest.
  const std::string big =
      std::string(TransferDecoder::kMaxUuencodePreamble, 'x') + "\nbegin 644 c\n";
  std::unique_ptr<TransferDecoder> d = TransferDecoder::For(kUu);
  std::string out;
  for (size_t i = 0; i < big.size(); i += 1000) {
    d->Feed(absl::string_view(big).substr(i, 1000), &out);
  }
  d->Finish(&out);
  EXPECT_EQ(out, big);
  ASSERT_EQ(d->defects().size(), 1u);
  EXPECT_EQ(
      d->defects()[0].what,
      "no uuencode 'begin' line in the first 65536 bytes; the body is passed through undecoded");
}

TEST(UuencodeTest, LineFunctions) {
  EXPECT_EQ(uuencode::BeginLineFileName("begin 644 report.pdf"), "report.pdf");
  EXPECT_EQ(uuencode::BeginLineFileName("begin\t0\tmy file.txt \t"), "my file.txt");
  EXPECT_EQ(uuencode::BeginLineFileName("begin 644 "), absl::nullopt);
  EXPECT_EQ(uuencode::BeginLineFileName("begin 648 a"), absl::nullopt);    // not octal
  EXPECT_EQ(uuencode::BeginLineFileName("begin 00644 a"), absl::nullopt);  // five digits
  EXPECT_EQ(uuencode::BeginLineFileName("begin-base64 644 a"), absl::nullopt);
  EXPECT_EQ(uuencode::BeginLineFileName("begin 644 a\x01"), absl::nullopt);
  EXPECT_EQ(uuencode::BeginLineFileName("Begin 644 a"), absl::nullopt);
  EXPECT_TRUE(uuencode::IsEndLine("end"));
  EXPECT_TRUE(uuencode::IsEndLine("end  "));
  EXPECT_FALSE(uuencode::IsEndLine("ending"));
  EXPECT_FALSE(uuencode::IsEndLine(" end"));
  EXPECT_TRUE(uuencode::IsWellFormedDataLine("#0V%T"));
  EXPECT_TRUE(uuencode::IsWellFormedDataLine("#0V%TX"));  // checksum character
  EXPECT_TRUE(uuencode::IsWellFormedDataLine("\"04("));   // a space lost
  EXPECT_FALSE(uuencode::IsWellFormedDataLine("M"));      // 60 lost: could be, but unproven
  EXPECT_FALSE(uuencode::IsWellFormedDataLine("Hello there"));
  EXPECT_FALSE(uuencode::IsWellFormedDataLine("`"));
  EXPECT_FALSE(uuencode::IsWellFormedDataLine("#0v%T"));  // 'v' is outside the alphabet
  std::string out;
  EXPECT_EQ(uuencode::DecodeLine("a", &out), uuencode::LineResult::kNotData);
  EXPECT_EQ(uuencode::DecodeLine("", &out), uuencode::LineResult::kDecoded);
  EXPECT_EQ(out, "");
}

// ------------------------------------------------------------ robustness

TEST(TransferDecoderTest, RandomInputNeverBreaksChunkIndependence) {
  std::mt19937 rng(42);
  const std::string alphabet = "AZaz09+/= \t\r\n=-.!\x80\xff";
  for (int round = 0; round < 300; ++round) {
    std::string in;
    size_t len = rng() % 60;
    for (size_t i = 0; i < len; ++i) in.push_back(alphabet[rng() % alphabet.size()]);
    Decode(kB64, in);
    Decode(kQp, in);
  }
  const std::string uu_alphabet = "begin 644 x\nend`M#0V%T\r\n \x01";
  for (int round = 0; round < 300; ++round) {
    std::string in = round % 2 == 0 ? "begin 644 x\n" : "";
    size_t len = rng() % 80;
    for (size_t i = 0; i < len; ++i) in.push_back(uu_alphabet[rng() % uu_alphabet.size()]);
    Decode(kUu, in);
  }
}

// Whole chunks take the decoders' fast paths (base64 in blocks of 32
// characters or eight quads at a time, quoted-printable text scanned and
// copied 16 or 32 bytes at a time) while byte-by-byte
// feeding never does: long, realistic lines with rare odd bytes, runs of
// white space longer than a line, escapes and line ends in every position.
TEST(TransferDecoderTest, FastPathsAgreeWithByteByByteOnLongLines) {
  std::mt19937 rng(7);
  const std::string qp_alphabet = "abcXYZ09 \t=3DFf\r\n.";
  for (int round = 0; round < 400; ++round) {
    std::string in;
    const size_t len = 100 + rng() % 400;
    while (in.size() < len) {
      const size_t pick = rng() % 100;
      if (pick < 3) {
        in.append(1 + rng() % 100, rng() % 2 == 0 ? ' ' : '\t');  // long blank runs
      } else if (pick < 8) {
        in.append(rng() % 2 == 0 ? "=\r\n" : "=C3=A9");
      } else if (pick < 12) {
        in.append(rng() % 3 == 0 ? "\n" : "\r\n");
      } else {
        in.push_back(qp_alphabet[rng() % qp_alphabet.size()]);
      }
    }
    Decode(kQp, in);
  }
  const std::string b64_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int round = 0; round < 300; ++round) {
    std::string in;
    const size_t lines = 1 + rng() % 8;
    for (size_t l = 0; l < lines; ++l) {
      const size_t width = 4 * (1 + rng() % 25) + (rng() % 5 == 0 ? rng() % 4 : 0);
      for (size_t k = 0; k < width; ++k) in.push_back(b64_alphabet[rng() % 64]);
      if (rng() % 10 == 0) in.insert(in.size() - rng() % width, 1, "!=- "[rng() % 4]);
      in.append(rng() % 4 == 0 ? "\n" : "\r\n");
    }
    Decode(kB64, in);
  }
}

TEST(TransferDecoderTest, LargeInputKeepsDefectListSmall) {
  std::string in;
  for (int i = 0; i < 10000; ++i) in += "=ZZ!*";
  std::unique_ptr<TransferDecoder> b = TransferDecoder::For(kB64);
  std::unique_ptr<TransferDecoder> q = TransferDecoder::For(kQp);
  std::string out;
  b->Feed(in, &out);
  q->Feed(in, &out);
  EXPECT_LE(b->defects().size(), 3u);
  EXPECT_EQ(q->defects().size(), 1u);
}

}  // namespace
}  // namespace imap::mime
