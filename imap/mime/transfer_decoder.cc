#include "imap/mime/transfer_decoder.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
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

// Test hooks (see base64_internal below): AVX2 blocks decoded by all
// decoders so far, and a switch that keeps every decoder scalar.
std::atomic<uint64_t> avx2_blocks_decoded{0};
std::atomic<bool> force_scalar_base64{false};

#if defined(__x86_64__)

// Whether this CPU (and OS) can run AVX2 code, asked once: the binary is
// built for plain x86-64 and only DecodeBlocksAvx2 uses AVX2.
bool CpuHasAvx2() {
  static const bool has_avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has_avx2;
}

// Decodes 32 characters at p into 24 bytes at out and returns a mask with
// bit i set if p[i] is not in the base64 alphabet; the bytes decoded from
// a quad holding such a character are garbage. Writes 28 bytes: 4 past
// the 24.
//
// Each character is classified by its two nibbles: lo_rows[low] has a bit
// for every row (a group of high nibbles) in which that low nibble is NOT
// an alphabet character, and hi_row[high] is the character's row. Rows:
//   1  high 2: only low B ('+') and F ('/') are characters;
//   2  high 3: only low 0-9 (digits);
//   4  high 4 and 6: all but low 0 ('@', '`');
//   8  high 5 and 7: only low 0-A (up to 'Z', 'z');
//   16 every other high nibble (controls, space, bytes >= 0x80): none.
__attribute__((target("avx2"))) inline uint32_t DecodeBlockAvx2(const uint8_t* p, char* out) {
  const __m256i lo_rows =
      _mm256_setr_epi8(21, 17, 17, 17, 17, 17, 17, 17, 17, 17, 19, 26, 27, 27, 27, 26,  //
                       21, 17, 17, 17, 17, 17, 17, 17, 17, 17, 19, 26, 27, 27, 27, 26);
  const __m256i hi_row =
      _mm256_setr_epi8(16, 16, 1, 2, 4, 8, 4, 8, 16, 16, 16, 16, 16, 16, 16, 16,  //
                       16, 16, 1, 2, 4, 8, 4, 8, 16, 16, 16, 16, 16, 16, 16, 16);
  // What to add to a character to get its sextet, by high nibble; '/'
  // (high 2, like '+') is moved to index 1.
  const __m256i offsets =
      _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0,  //
                       0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  // The three bytes of each 32-bit quad value, most significant first;
  // -1 zeroes the last four bytes of each 16-byte lane.
  const __m256i byte_order =
      _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,  //
                       2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);

  const __m256i in = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(in, 4), low_nibble);
  const __m256i lo = _mm256_and_si256(in, low_nibble);
  const __m256i not_alphabet =
      _mm256_and_si256(_mm256_shuffle_epi8(lo_rows, lo), _mm256_shuffle_epi8(hi_row, hi));
  const uint32_t ok = static_cast<uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(not_alphabet, _mm256_setzero_si256())));

  // cmpeq gives -1 for '/', taking its index from 2 to 1.
  const __m256i slash = _mm256_cmpeq_epi8(in, _mm256_set1_epi8('/'));
  const __m256i sextets =
      _mm256_add_epi8(in, _mm256_shuffle_epi8(offsets, _mm256_add_epi8(hi, slash)));
  // Pairs of sextets to 12 bits (first * 64 + second), then pairs of those
  // to the 24 bits of a quad (first * 4096 + second), in each 32-bit lane.
  const __m256i pairs = _mm256_maddubs_epi16(sextets, _mm256_set1_epi32(0x01400140));
  const __m256i quads = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
  const __m256i bytes = _mm256_shuffle_epi8(quads, byte_order);
  // 12 bytes from each lane; the second store overwrites the first one's
  // four zeros.
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm256_castsi256_si128(bytes));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 12), _mm256_extracti128_si256(bytes, 1));
  return ~ok;
}

// The vector counterpart of DecodePlainQuads, 32 characters to 24 bytes at
// a time, for as long as 32 characters are left: decodes the whole quads
// of alphabet characters from p and skips white space found where a quad
// would start (a line end, usually), which changes no decoder state. Stops
// at any other byte, at a quad broken by white space, or with fewer than
// 32 bytes left, so that the scalar code decides everything else; returns
// where it stopped and adds the blocks it decoded to *blocks.
//
// Each block is decoded whole, also past a non-alphabet byte, and `*dst`
// then advances only over the quads before that byte: the garbage after
// them is overwritten by what comes next or trimmed by Feed(). Writes up
// to 28 bytes from *dst, and only when the 32 characters that pay for 24
// of them lie before `end` (see Feed() for the room this needs).
// REQUIRES: the decoder is at a quad boundary and not padded.
__attribute__((target("avx2"))) const uint8_t* DecodeBlocksAvx2(const uint8_t* p,
                                                                const uint8_t* end, char** dst,
                                                                uint64_t* blocks) {
  char* out = *dst;
  uint64_t n = 0;
  // The last line end seen inside a block with only alphabet characters
  // around it: the block's mask, where the white space starts and where
  // the next line does. Lines of a body are all as long as each other, so
  // the next line end usually looks the same; taking that as given lets
  // the next block's load start before this block's mask is known. It is
  // taken only when the mask matches and those bytes are white space
  // again, where the code below would do the same.
  uint32_t line_end_mask = 0;  // never a mask that reaches the code below
  int line_end_at = 0;
  int next_line_at = 0;
  while (end - p >= 32) {
    const uint32_t bad = DecodeBlockAvx2(p, out);
    ++n;
    if (bad == 0) {
      p += 32;
      out += 24;
      continue;
    }
    if (bad == line_end_mask) {
      bool white = true;
      for (int i = line_end_at; i < next_line_at; ++i) white &= kBase64[p[i]] == kSpace;
      if (white) {
        p += next_line_at;
        out += line_end_at / 4 * 3;
        continue;
      }
    }
    // Keeps the whole quads before the first non-alphabet byte. p then
    // points at that byte, or at the alphabet character starting the quad
    // it breaks: either way the scalar code goes on unless it is white
    // space where a quad would start.
    const uint8_t* const block = p;
    const int whole = __builtin_ctz(bad) & ~3;
    p += whole;
    out += whole / 4 * 3;
    if (kBase64[*p] != kSpace) break;
    do {
      ++p;
    } while (p < end && kBase64[*p] == kSpace);
    const int next = static_cast<int>(p - block);
    if (next < 32 && bad == ((1u << (next - whole)) - 1) << whole) {
      line_end_mask = bad;
      line_end_at = whole;
      next_line_at = next;
    }
  }
  *dst = out;
  *blocks += n;
  return p;
}

// True if Base64Decoder may take the AVX2 path.
bool UseAvx2() { return CpuHasAvx2() && !force_scalar_base64.load(std::memory_order_relaxed); }

#endif  // defined(__x86_64__)

class Base64Decoder final : public TransferDecoder {
 public:
  explicit Base64Decoder(absl::string_view where) : TransferDecoder(where) {}

  void Feed(absl::string_view in, std::string* out) override {
    if (finished_) return;
    // Decode straight into the output's new tail (push_back per byte costs
    // more than the decoding itself), then trim it to what was written.
    const size_t old_size = out->size();
    // in.size() / 4 * 3 for the quads that start in `in`, +3 for a partial
    // quad completed here, and room for the stores that write past what
    // they decode: DecodePlainQuads' 2 bytes and DecodeBlocksAvx2's 4 (its
    // blocks start at a quad boundary and their 32 characters lie in `in`,
    // so a block's 24 bytes are among those counted; +4 past them).
    out->resize(old_size + in.size() / 4 * 3 + 3 + 4);
    char* const begin = &(*out)[0];
    char* dst = begin + old_size;
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    const auto* const end = p + in.size();
#if defined(__x86_64__)
    const bool avx2 = UseAvx2();
#endif
    uint64_t avx2_blocks = 0;
    while (p < end) {
      if (count_ == 0 && !padded_ && end - p >= 4) {
        // The common case: runs of alphabet characters (whole lines).
        const uint8_t* const before = p;
#if defined(__x86_64__)
        if (avx2) p = DecodeBlocksAvx2(p, end, &dst, &avx2_blocks);
#endif
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
    if (avx2_blocks != 0) avx2_blocks_decoded.fetch_add(avx2_blocks, std::memory_order_relaxed);
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

#if defined(__x86_64__)
// The vector loop of QuotedPrintableDecoder::CopyText (see there), 32
// bytes at a time while 33 are left. Returns the index of the first stop,
// or where fewer than 33 bytes were left to look at.
__attribute__((target("avx2"))) size_t CopyTextAvx2(const char* d, size_t j, size_t n,
                                                     char** dst) {
  const __m256i eq = _mm256_set1_epi8('='), space = _mm256_set1_epi8(' ');
  const __m256i tab = _mm256_set1_epi8('\t'), cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  char* out = *dst;
  while (j + 33 <= n) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + j));
    const __m256i next = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + j + 1));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), v);
    const __m256i blank = _mm256_or_si256(_mm256_cmpeq_epi8(v, space), _mm256_cmpeq_epi8(v, tab));
    const __m256i eol = _mm256_or_si256(_mm256_cmpeq_epi8(next, cr), _mm256_cmpeq_epi8(next, lf));
    const __m256i hits = _mm256_or_si256(_mm256_cmpeq_epi8(v, eq), _mm256_and_si256(blank, eol));
    const uint32_t mask = static_cast<uint32_t>(_mm256_movemask_epi8(hits));
    if (mask != 0) {
      const size_t k = static_cast<size_t>(__builtin_ctz(mask));
      *dst = out + k;
      return j + k;
    }
    out += 32;
    j += 32;
  }
  *dst = out;
  return j;
}
#endif

constexpr std::array<int8_t, 256> MakeHexTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - '0');
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'A' + 10);
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<size_t>(c)] = static_cast<int8_t>(c - 'a' + 10);
  return t;
}
constexpr std::array<int8_t, 256> kHexValue = MakeHexTable();

// A hex digit's value, or -1. A lookup: one "=XX" comes every 28 bytes of
// text in languages other than English.
int Hex(char c) { return kHexValue[static_cast<unsigned char>(c)]; }

// Whether quoted-printable text is copied with AVX2, asked once.
bool QuotedPrintableUsesAvx2() {
#if defined(__x86_64__)
  return CpuHasAvx2();
#else
  return false;
#endif
}

class QuotedPrintableDecoder final : public TransferDecoder {
 public:
  explicit QuotedPrintableDecoder(absl::string_view where)
      : TransferDecoder(where), avx2_(QuotedPrintableUsesAvx2()) {}

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
        i = FastText(in, i, avx2_, &dst);
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

  // Copies in[j, ...) to *dst up to the first '=' or the first white space
  // right before a CR or LF, and returns that byte's index (in.size() if
  // there is neither); advances *dst by as many bytes. Everything else in
  // quoted-printable text, line ends included, is copied as it is.
  // Whole blocks are stored before they are looked at, so it may write up
  // to 31 bytes past the copied ones, but never past *dst + (in.size() - j).
  static size_t CopyText(absl::string_view in, size_t j, bool avx2, char** dst) {
    const char* const d = in.data();
    const size_t n = in.size();
#if defined(__x86_64__)
    if (avx2 && j + 33 <= n) {
      j = CopyTextAvx2(d, j, n, dst);
      if (j + 33 <= n) return j;  // a stop; else fewer than 33 bytes are left
    }
#else
    (void)avx2;
#endif
    char* out = *dst;
#ifdef __SSE2__
    const __m128i eq = _mm_set1_epi8('='), space = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    while (j + 17 <= n) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + j));
      const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + j + 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
      const __m128i blank = _mm_or_si128(_mm_cmpeq_epi8(v, space), _mm_cmpeq_epi8(v, tab));
      const __m128i eol = _mm_or_si128(_mm_cmpeq_epi8(next, cr), _mm_cmpeq_epi8(next, lf));
      const __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(v, eq), _mm_and_si128(blank, eol));
      const int mask = _mm_movemask_epi8(hits);
      if (mask != 0) {
        const size_t k = static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        *dst = out + k;
        return j + k;
      }
      out += 16;
      j += 16;
    }
#endif
    for (; j < n; ++j) {
      const char c = d[j];
      if (c == '=') break;
      if (Blank(c) && j + 1 < n && (d[j + 1] == '\r' || d[j + 1] == '\n')) break;
      *out++ = c;
    }
    *dst = out;
    return j;
  }

  // The common cases, decided without the state machine: text (white space
  // inside a line is text), line ends, "=XX" and a soft line break "=\r\n"
  // whose bytes are all in this chunk. Line ends need no decision: the
  // state machine too passes CRLF, LF and a lone CR on as they are (a CR at
  // the chunk's end as well, whatever follows it), except for dropping the
  // white space before CRLF or LF, which is why that white space stops
  // this. So does white space at the end of the chunk (it may be trailing)
  // and any unusual '='. Appends from in[i] up to the first byte that
  // needs the state machine (or the end) and returns its index, so that
  // Step() decides every byte this does not copy plainly; the output is
  // the same as feeding Step() byte by byte. Writes at *dst, within
  // in.size() - i bytes, and advances it.
  // REQUIRES: state_ == kText, space_ empty.
  static size_t FastText(absl::string_view in, size_t i, bool avx2, char** dst) {
    char* out = *dst;
    const size_t n = in.size();
    size_t run = i;  // start of the bytes copied as they are (out matches in 1:1 since)
    size_t j = i;
    // Takes back the white space run that ends at `at` (never before `run`).
    const auto stop_before_blanks = [&](size_t at) {
      while (at > run && Blank(in[at - 1])) --at;
      out -= j - at;
      return at;
    };
    while (true) {
      j = CopyText(in, j, avx2, &out);
      if (j == n) {
        j = stop_before_blanks(j);
        break;
      }
      if (in[j] != '=') {
        // White space before a line end: CopyText stopped at its last byte.
        ++j;
        ++out;  // (counted as copied, to be taken back with the rest)
        j = stop_before_blanks(j);
        break;
      }
      if (j + 2 >= n) break;
      const int high = Hex(in[j + 1]), low = Hex(in[j + 2]);
      if (high < 0 || low < 0) {
        if (in[j + 1] != '\r' || in[j + 2] != '\n') break;  // not a soft line break
      }
      if (high >= 0 && low >= 0) *out++ = static_cast<char>(high * 16 + low);
      j += 3;
      run = j;
    }
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
  const bool avx2_;  // copy text with AVX2
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

namespace base64_internal {

bool Avx2PathAvailable() {
#if defined(__x86_64__)
  return CpuHasAvx2();
#else
  return false;
#endif
}

uint64_t Avx2BlocksDecoded() { return avx2_blocks_decoded.load(std::memory_order_relaxed); }

void ForceScalar(bool scalar) { force_scalar_base64.store(scalar, std::memory_order_relaxed); }

}  // namespace base64_internal

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
