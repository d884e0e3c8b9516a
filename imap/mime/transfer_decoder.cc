#include "imap/mime/transfer_decoder.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace imap::mime {

void TransferDecoder::AddDefectOnce(absl::string_view what) {
  for (const Defect& d : defects_) {
    if (d.what == what) return;
  }
  defects_.push_back({where_, std::string(what)});
}

namespace {

class IdentityDecoder final : public TransferDecoder {
 public:
  explicit IdentityDecoder(absl::string_view where) : TransferDecoder(where) {}
  void Feed(absl::string_view in, std::string* out) override {
    if (!finished_) out->append(in.data(), in.size());
  }
  void Finish(std::string*) override { finished_ = true; }

 private:
  bool finished_ = false;
};

// ------------------------------------------------------------ base64

constexpr uint8_t kSpace = 64;    // skipped silently
constexpr uint8_t kPad = 65;      // '='
constexpr uint8_t kInvalid = 66;  // skipped with a defect

constexpr std::array<uint8_t, 256> MakeBase64Table() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (uint8_t i = 0; i < 64; ++i) t[static_cast<uint8_t>(alphabet[i])] = i;
  t[' '] = t['\t'] = t['\r'] = t['\n'] = t['\f'] = t['\v'] = kSpace;
  t['='] = kPad;
  return t;
}
constexpr std::array<uint8_t, 256> kBase64 = MakeBase64Table();

// The sextet of each character already shifted into its place in a quad
// (`shift` 18, 12, 6 or 0), with bit 31 set for anything that is not in
// the alphabet: OR-ing four lookups gives the 24 bits of a quad and tells
// in one test whether all four were plain characters.
constexpr uint32_t kNotSextet = 0x80000000u;
constexpr std::array<uint32_t, 256> MakeShiftedTable(int shift) {
  std::array<uint32_t, 256> t{};
  for (size_t c = 0; c < 256; ++c) {
    t[c] = kBase64[c] < 64 ? uint32_t{kBase64[c]} << shift : kNotSextet;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kSextet0 = MakeShiftedTable(18);
constexpr std::array<uint32_t, 256> kSextet1 = MakeShiftedTable(12);
constexpr std::array<uint32_t, 256> kSextet2 = MakeShiftedTable(6);
constexpr std::array<uint32_t, 256> kSextet3 = MakeShiftedTable(0);

inline uint32_t Quad(const uint8_t* p) {
  return kSextet0[p[0]] | kSextet1[p[1]] | kSextet2[p[2]] | kSextet3[p[3]];
}

// Decodes whole quads from p while they hold only alphabet characters,
// eight at a time; returns how far it got. Writes up to 2 bytes past the
// decoded output (the caller leaves that room).
inline const uint8_t* DecodePlainQuads(const uint8_t* p, const uint8_t* end, char** dst) {
  char* out = *dst;
  while (end - p >= 8) {
    const uint32_t a = Quad(p), b = Quad(p + 4);
    if (((a | b) & kNotSextet) != 0) break;
    // Six bytes, most significant first, stored as eight.
    const uint64_t bytes = ((uint64_t{a} << 24) | b) << 16;
    const uint64_t big_endian = __builtin_bswap64(bytes);
    std::memcpy(out, &big_endian, sizeof(big_endian));
    out += 6;
    p += 8;
  }
  if (end - p >= 4) {
    const uint32_t a = Quad(p);
    if ((a & kNotSextet) == 0) {
      out[0] = static_cast<char>(a >> 16);
      out[1] = static_cast<char>(a >> 8);
      out[2] = static_cast<char>(a);
      out += 3;
      p += 4;
    }
  }
  *dst = out;
  return p;
}

class Base64Decoder final : public TransferDecoder {
 public:
  explicit Base64Decoder(absl::string_view where) : TransferDecoder(where) {}

  void Feed(absl::string_view in, std::string* out) override {
    if (finished_) return;
    // Decode straight into the output's new tail (push_back per byte costs
    // more than the decoding itself), then trim it to what was written.
    const size_t old_size = out->size();
    // +3 for a partial quad completed here, +2 for DecodePlainQuads' overrun.
    out->resize(old_size + in.size() / 4 * 3 + 5);
    char* const begin = &(*out)[0];
    char* dst = begin + old_size;
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const auto* const end = p + in.size();
    while (p < end) {
      if (count_ == 0 && !padded_ && end - p >= 4) {
        // The common case: runs of alphabet characters (a whole line).
        const uint8_t* const before = p;
        p = DecodePlainQuads(p, end, &dst);
        if (p != before) continue;
      }
      const uint8_t v = kBase64[*p++];
      if (padded_) {
        // A second '=' belongs to the padding; anything else is after it.
        if (v != kSpace && v != kPad) AddDefectOnce("data after base64 padding ignored");
        continue;
      }
      if (v < 64) {
        bits_ = (bits_ << 6) | v;
        if (++count_ == 4) {
          *dst++ = static_cast<char>(bits_ >> 16);
          *dst++ = static_cast<char>(bits_ >> 8);
          *dst++ = static_cast<char>(bits_);
          bits_ = 0;
          count_ = 0;
        }
      } else if (v == kPad) {
        if (count_ < 2) {
          AddDefectOnce("misplaced base64 padding ignored");
          continue;
        }
        dst = Flush(dst);
        padded_ = true;
      } else if (v == kInvalid) {
        AddDefectOnce("invalid base64 character ignored");
      }
    }
    out->resize(static_cast<size_t>(dst - begin));
  }

  void Finish(std::string* out) override {
    if (finished_) return;
    finished_ = true;
    if (padded_) return;
    if (count_ == 1) {
      AddDefectOnce("truncated base64 input: last 6 bits dropped");
    } else if (count_ > 1) {
      AddDefectOnce("base64 input without padding");
      char tail[2];
      out->append(tail, static_cast<size_t>(Flush(tail) - tail));
    }
  }

 private:
  // Writes the bytes of a partial quad of 2 or 3 sextets at `dst`;
  // returns the end of what it wrote.
  char* Flush(char* dst) {
    if (count_ == 2) {
      *dst++ = static_cast<char>(bits_ >> 4);
    } else if (count_ == 3) {
      *dst++ = static_cast<char>(bits_ >> 10);
      *dst++ = static_cast<char>(bits_ >> 2);
    }
    bits_ = 0;
    count_ = 0;
    return dst;
  }

  uint32_t bits_ = 0;
  int count_ = 0;  // sextets in bits_
  bool padded_ = false;
  bool finished_ = false;
};

// ------------------------------------------------------------ quoted-printable

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

class QuotedPrintableDecoder final : public TransferDecoder {
 public:
  explicit QuotedPrintableDecoder(absl::string_view where) : TransferDecoder(where) {}

  void Feed(absl::string_view in, std::string* out) override {
    if (finished_) return;
    out->reserve(out->size() + in.size());
    size_t i = 0;
    while (i < in.size()) {
      if (state_ == State::kText && space_.empty()) {
        // Decoded text is never longer than its input: write in place.
        const size_t old_size = out->size();
        out->resize(old_size + (in.size() - i));
        char* const begin = &(*out)[0];
        char* dst = begin + old_size;
        i = FastText(in, i, &dst);
        out->resize(static_cast<size_t>(dst - begin));
        if (i == in.size()) break;
      }
      if (Step(in[i], out)) ++i;
    }
  }

  void Finish(std::string* out) override {
    if (finished_) return;
    finished_ = true;
    switch (state_) {
      case State::kText:
        break;  // white space at the end of the last line is dropped
      case State::kCr:
        out->append(space_);
        out->push_back('\r');
        break;
      case State::kEqHex:
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        out->push_back(hex1_);
        break;
      case State::kEq:
      case State::kEqSpace:
      case State::kEqCr:
        break;  // a soft line break at the very end
    }
    space_.clear();
  }

 private:
  // Longest run of white space held back while it may be trailing. No
  // conforming line is longer; a longer run is text and is passed on.
  static constexpr size_t kMaxSpace = 76;
  static constexpr absl::string_view kInvalidEscape =
      "invalid quoted-printable escape kept literally";

  enum class State {
    kText,     // in a line
    kCr,       // after CR in text (space_ may hold white space before it)
    kEq,       // after '='
    kEqHex,    // after '=' and one hex digit (hex1_)
    kEqSpace,  // after '=' and white space (space_)
    kEqCr,     // after '=', maybe white space, and CR
  };

  static bool Blank(char c) { return c == ' ' || c == '\t'; }

  // The index of the first '=', CR or LF at or after `i`, or in.size().
  static size_t FindEscapeOrLineEnd(absl::string_view in, size_t i) {
#ifdef __SSE2__
    const __m128i eq = _mm_set1_epi8('='), cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    while (i + 16 <= in.size()) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data() + i));
      const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, eq), _mm_cmpeq_epi8(v, cr)),
                                        _mm_cmpeq_epi8(v, lf));
      const int mask = _mm_movemask_epi8(hits);
      if (mask != 0) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
      i += 16;
    }
#endif
    while (i < in.size() && in[i] != '=' && in[i] != '\r' && in[i] != '\n') ++i;
    return i;
  }

  // The common cases, decided without the state machine because the bytes
  // after them are in this chunk: text (white space inside a line is
  // text), CRLF, "=XX" and a soft line break "=\r\n". Appends from in[i]
  // up to the first byte that needs the state machine (or the end) and
  // returns its index. White space that may be trailing (before a line end
  // or at the end of the chunk) is left to the state machine, as is
  // anything unusual, so Step() decides every byte this does not copy
  // plainly; the output is the same as feeding Step() byte by byte.
  // Writes at *dst, at most in.size() - i bytes, and advances it.
  // REQUIRES: state_ == kText, space_ empty.
  static size_t FastText(absl::string_view in, size_t i, char** dst) {
    char* out = *dst;
    const size_t n = in.size();
    size_t run = i;  // start of the bytes copied as they are
    size_t j = i;
    // Stops before the white space run that ends at `at` (never before `run`).
    const auto stop_before_blanks = [&](size_t at) {
      while (at > run && Blank(in[at - 1])) --at;
      return at;
    };
    while (true) {
      j = FindEscapeOrLineEnd(in, j);
      if (j == n) {
        j = stop_before_blanks(j);
        break;
      }
      const char c = in[j];
      if (c == '\n' || c == '\r') {
        const size_t text_end = stop_before_blanks(j);
        const bool crlf = c == '\r' && j + 1 < n && in[j + 1] == '\n';
        if (text_end != j || (c == '\r' && !crlf)) {
          j = text_end;
          break;
        }
        j += crlf ? 2 : 1;
        continue;
      }
      // c == '='
      if (j + 2 >= n) break;
      const int high = Hex(in[j + 1]), low = Hex(in[j + 2]);
      if (high < 0 || low < 0) {
        if (in[j + 1] != '\r' || in[j + 2] != '\n') break;  // not a soft line break
      }
      std::memcpy(out, in.data() + run, j - run);
      out += j - run;
      if (high >= 0 && low >= 0) *out++ = static_cast<char>(high * 16 + low);
      j += 3;
      run = j;
    }
    std::memcpy(out, in.data() + run, j - run);
    out += j - run;
    *dst = out;
    return j;
  }

  // Consumes `c` in the current state; returns false if `c` must be seen
  // again in the new state.
  bool Step(char c, std::string* out) {
    switch (state_) {
      case State::kText:
        if (c == ' ' || c == '\t') {
          if (space_.size() >= kMaxSpace) {
            out->append(space_);
            space_.clear();
          }
          space_.push_back(c);
        } else if (c == '\r') {
          state_ = State::kCr;
        } else if (c == '\n') {
          space_.clear();
          out->push_back('\n');
        } else {
          out->append(space_);
          space_.clear();
          if (c == '=') {
            state_ = State::kEq;
          } else {
            out->push_back(c);
          }
        }
        return true;
      case State::kCr:
        state_ = State::kText;
        if (c == '\n') {
          space_.clear();
          out->append("\r\n");
          return true;
        }
        out->append(space_);
        space_.clear();
        out->push_back('\r');
        return false;
      case State::kEq:
        if (Hex(c) >= 0) {
          hex1_ = c;
          state_ = State::kEqHex;
        } else if (c == '\r') {
          state_ = State::kEqCr;
        } else if (c == '\n') {
          state_ = State::kText;  // soft line break
        } else if (c == ' ' || c == '\t') {
          space_.push_back(c);
          state_ = State::kEqSpace;
        } else {
          AddDefectOnce(kInvalidEscape);
          out->push_back('=');
          state_ = State::kText;
          return false;
        }
        return true;
      case State::kEqHex:
        state_ = State::kText;
        if (Hex(c) >= 0) {
          out->push_back(static_cast<char>(Hex(hex1_) * 16 + Hex(c)));
          return true;
        }
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        out->push_back(hex1_);
        return false;
      case State::kEqSpace:
        if ((c == ' ' || c == '\t') && space_.size() < kMaxSpace) {
          space_.push_back(c);
          return true;
        }
        if (c == '\r') {
          state_ = State::kEqCr;
          return true;
        }
        state_ = State::kText;
        if (c == '\n') {  // "=  \n": a soft line break with trailing space
          space_.clear();
          return true;
        }
        // '=' then white space then text: the '=' was literal; the white
        // space is ordinary (maybe trailing) white space.
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        return false;
      case State::kEqCr:
        state_ = State::kText;
        if (c == '\n') {
          space_.clear();
          return true;
        }
        AddDefectOnce(kInvalidEscape);
        out->push_back('=');
        out->append(space_);
        space_.clear();
        out->push_back('\r');
        return false;
    }
    return true;
  }

  State state_ = State::kText;
  std::string space_;  // pending white space, at most kMaxSpace bytes
  char hex1_ = 0;
  bool finished_ = false;
};

// ------------------------------------------------------------ uuencode

bool IsBlank(absl::string_view line) { return absl::StripAsciiWhitespace(line).empty(); }

// One line of an x-uuencode body at a time; see the header for the rules.
class UuencodeDecoder final : public TransferDecoder {
 public:
  explicit UuencodeDecoder(absl::string_view where) : TransferDecoder(where) {}

  void Feed(absl::string_view in, std::string* out) override {
    if (finished_) return;
    while (!in.empty()) {
      if (state_ == State::kPassThrough) {
        out->append(in.data(), in.size());
        return;
      }
      const size_t lf = in.find('\n');
      const size_t n = lf == absl::string_view::npos ? in.size() : lf + 1;
      const absl::string_view piece = in.substr(0, n);
      in.remove_prefix(n);
      if (state_ == State::kBeforeBegin) {
        if (preamble_.size() + piece.size() > kMaxUuencodePreamble) {
          // Not waiting any longer: what was held and the rest go out as is.
          AddDefectOnce(absl::StrCat("no uuencode 'begin' line in the first ", kMaxUuencodePreamble,
                                     " bytes; the body is passed through undecoded"));
          out->append(preamble_);
          out->append(piece.data(), piece.size());
          preamble_.clear();
          preamble_.shrink_to_fit();
          line_.clear();
          state_ = State::kPassThrough;
          continue;
        }
        preamble_.append(piece.data(), piece.size());
      }
      if (!overlong_) {
        if (line_.size() + piece.size() > kMaxLine) {
          overlong_ = true;
          line_.clear();
        } else {
          line_.append(piece.data(), piece.size());
        }
      }
      if (lf != absl::string_view::npos) EndLine(out);
    }
  }

  void Finish(std::string* out) override {
    if (finished_) return;
    if (!line_.empty() || overlong_) EndLine(out);
    finished_ = true;
    switch (state_) {
      case State::kBeforeBegin:
        if (!preamble_.empty()) {
          AddDefectOnce("no uuencode 'begin' line; the body is passed through undecoded");
          out->append(preamble_);
          preamble_.clear();
        }
        break;
      case State::kData:
        AddDefectOnce("uuencoded body without an 'end' line");
        break;
      case State::kAfterEnd:
      case State::kPassThrough:
        break;
    }
  }

 private:
  // No encoder writes a data line longer than 1 + 84 characters; a longer
  // line can still be a "begin" line with a long file name.
  static constexpr size_t kMaxLine = 1024;

  enum class State {
    kBeforeBegin,  // waiting for "begin"; preamble_ holds what came so far
    kData,         // between "begin" and "end"
    kAfterEnd,     // after "end"
    kPassThrough,  // no "begin" came: the body is not uuencoded
  };

  // Handles line_ (with its line end, if any), then clears it.
  void EndLine(std::string* out) {
    absl::string_view line = line_;
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    switch (state_) {
      case State::kBeforeBegin:
        if (overlong_) {
          saw_text_ = true;
        } else if (absl::optional<std::string> name = uuencode::BeginLineFileName(line)) {
          if (saw_text_) AddDefectOnce("text before the uuencode 'begin' line ignored");
          set_file_name(*std::move(name));
          preamble_.clear();
          preamble_.shrink_to_fit();
          state_ = State::kData;
        } else if (!IsBlank(line)) {
          saw_text_ = true;
        }
        break;
      case State::kData:
        if (overlong_) {
          AddDefectOnce(kNotData);
        } else if (uuencode::IsEndLine(line)) {
          state_ = State::kAfterEnd;
        } else {
          switch (uuencode::DecodeLine(line, out)) {
            case uuencode::LineResult::kDecoded:
              break;
            case uuencode::LineResult::kDecodedWithDefects:
              AddDefectOnce("invalid uuencode character read as zero bits");
              break;
            case uuencode::LineResult::kNotData:
              AddDefectOnce(kNotData);
              break;
          }
        }
        break;
      case State::kAfterEnd:
        if (overlong_ || !IsBlank(line))
          AddDefectOnce("data after the uuencode 'end' line ignored");
        break;
      case State::kPassThrough:
        break;
    }
    line_.clear();
    overlong_ = false;
  }

  static constexpr absl::string_view kNotData = "line that is not uuencoded data ignored";

  State state_ = State::kBeforeBegin;
  std::string line_;       // the line being read, at most kMaxLine bytes
  bool overlong_ = false;  // the line being read is longer than kMaxLine
  std::string preamble_;   // kBeforeBegin: every byte so far, for passing through
  bool saw_text_ = false;  // kBeforeBegin: a line that is neither blank nor "begin"
  bool finished_ = false;
};

}  // namespace

namespace uuencode {

namespace {

bool IsSpaceOrTab(char c) { return c == ' ' || c == '\t'; }

// A data character's six bits, or -1 for a byte outside the alphabet.
int Sextet(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u > 0x60) return -1;
  return (u - 0x20) & 0x3f;
}

}  // namespace

absl::optional<std::string> BeginLineFileName(absl::string_view line) {
  if (!absl::StartsWith(line, "begin")) return absl::nullopt;
  size_t i = 5;
  if (i >= line.size() || !IsSpaceOrTab(line[i])) return absl::nullopt;
  while (i < line.size() && IsSpaceOrTab(line[i])) ++i;
  const size_t mode_start = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '7') ++i;
  const size_t mode_digits = i - mode_start;
  if (mode_digits == 0 || mode_digits > 4) return absl::nullopt;
  if (i >= line.size() || !IsSpaceOrTab(line[i])) return absl::nullopt;
  while (i < line.size() && IsSpaceOrTab(line[i])) ++i;
  const absl::string_view name = absl::StripTrailingAsciiWhitespace(line.substr(i));
  if (name.empty()) return absl::nullopt;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return absl::nullopt;
  }
  return std::string(name);
}

bool IsEndLine(absl::string_view line) { return absl::StripTrailingAsciiWhitespace(line) == "end"; }

LineResult DecodeLine(absl::string_view line, std::string* out) {
  if (line.empty()) return LineResult::kDecoded;
  const int n = Sextet(line[0]);
  if (n < 0) return LineResult::kNotData;
  bool bad = false;
  size_t pos = 1;
  for (int done = 0; done < n; done += 3) {
    uint32_t bits = 0;
    for (size_t j = 0; j < 4; ++j, ++pos) {
      int v = pos < line.size() ? Sextet(line[pos]) : 0;  // lost trailing spaces were zeros
      if (v < 0) {
        bad = true;
        v = 0;
      }
      bits = (bits << 6) | static_cast<uint32_t>(v);
    }
    const char bytes[3] = {static_cast<char>(bits >> 16), static_cast<char>(bits >> 8),
                           static_cast<char>(bits)};
    out->append(bytes, static_cast<size_t>(std::min(3, n - done)));
  }
  return bad ? LineResult::kDecodedWithDefects : LineResult::kDecoded;
}

bool IsWellFormedDataLine(absl::string_view line) {
  if (line.empty()) return false;
  const int n = Sextet(line[0]);
  if (n <= 0) return false;
  const size_t want = static_cast<size_t>((n + 2) / 3 * 4);
  const size_t have = line.size() - 1;
  if (have + 3 < want || have > want + 1) return false;
  for (char c : line.substr(1)) {
    if (Sextet(c) < 0) return false;
  }
  return true;
}

}  // namespace uuencode

std::unique_ptr<TransferDecoder> TransferDecoder::For(TransferEncoding encoding,
                                                      absl::string_view where) {
  switch (encoding) {
    case TransferEncoding::kBase64:
      return std::make_unique<Base64Decoder>(where);
    case TransferEncoding::kQuotedPrintable:
      return std::make_unique<QuotedPrintableDecoder>(where);
    case TransferEncoding::kUuencode:
      return std::make_unique<UuencodeDecoder>(where);
    case TransferEncoding::k7Bit:
    case TransferEncoding::k8Bit:
    case TransferEncoding::kBinary:
      break;
  }
  return std::make_unique<IdentityDecoder>(where);
}

}  // namespace imap::mime
