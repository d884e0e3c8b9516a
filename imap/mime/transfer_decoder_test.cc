#include "imap/mime/transfer_decoder.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

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

// Whole chunks take the decoders' fast paths (eight base64 quads at a time,
// quoted-printable text scanned 16 bytes at a time) while byte-by-byte
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
