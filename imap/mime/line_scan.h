// Byte scans the MIME body path runs over whole chunks instead of line by
// line: finding the next line that starts with a given byte, and turning
// CRLF and lone CR into LF in place (with SSSE3 where the CPU has it; the
// build targets plain x86-64). Internal to imap/mime.
//
//   size_t p = FindLineStart("ab\n-x\n", 1, '-');  // 3
//   std::string s = "a\r\nb\rc";
//   s.resize(CompactLineEnds(&s[0], s.size()));   // "a\nb\nc"
#ifndef IMAP_MIME_LINE_SCAN_H_
#define IMAP_MIME_LINE_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "absl/strings/string_view.h"

namespace imap::mime {

// Returns the smallest p >= max(from, 1) with in[p - 1] == '\n' and
// in[p] == c: where the next line starting with `c` starts, not counting
// one that starts at in[0] (whose line start the caller knows better).
// Returns absl::string_view::npos if there is none. Thread-safe.
//
// Where `c` is rare (a dash in base64), one memchr() over the whole input
// is fastest. Where it is common inside lines ('-' and 'b' in text),
// stopping at every one of them (or at every line end) costs more than
// testing both bytes of sixteen positions at once, which follows the
// first `c` that is not at a line start.
inline size_t FindLineStart(absl::string_view in, size_t from, char c) {
  const char* const d = in.data();
  const size_t n = in.size();
  size_t p = from == 0 ? 1 : from;
  if (p >= n) return absl::string_view::npos;
  const void* first = std::memchr(d + p, c, n - p);
  if (first == nullptr) return absl::string_view::npos;
  p = static_cast<size_t>(static_cast<const char*>(first) - d);
  if (d[p - 1] == '\n') return p;
  ++p;
#ifdef __SSE2__
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i want = _mm_set1_epi8(c);
  while (p + 16 <= n) {
    const __m128i here = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + p));
    const __m128i before = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + p - 1));
    const int mask = _mm_movemask_epi8(
        _mm_and_si128(_mm_cmpeq_epi8(before, lf), _mm_cmpeq_epi8(here, want)));
    if (mask != 0) return p + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    p += 16;
  }
#endif
  for (; p < n; ++p) {
    if (d[p - 1] == '\n' && d[p] == c) return p;
  }
  return absl::string_view::npos;
}

namespace internal {

// Moves n < 16 bytes from src to dst <= src (the ranges may overlap) with
// at most two loads and two stores, cheaper than a call for a line's tail.
inline void MoveShort(char* dst, const char* src, size_t n) {
  if (n >= 8) {
    uint64_t head, tail;
    std::memcpy(&head, src, 8);
    std::memcpy(&tail, src + n - 8, 8);
    std::memcpy(dst, &head, 8);
    std::memcpy(dst + n - 8, &tail, 8);
  } else if (n >= 4) {
    uint32_t head, tail;
    std::memcpy(&head, src, 4);
    std::memcpy(&tail, src + n - 4, 4);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else if (n > 0) {
    const char first = src[0], middle = src[n / 2], last = src[n - 1];
    dst[0] = first;
    dst[n / 2] = middle;
    dst[n - 1] = last;
  }
}

// Lookup tables for packing eight bytes: for each 8-bit mask of bytes to
// drop, the pshufb indexes of the bytes kept, in order (0x80, which gives
// a zero byte, after them), and how many bytes are kept.
struct PackTable {
  uint64_t shuffle[256];
  uint8_t kept[256];
};

constexpr PackTable MakePackTable() {
  PackTable t{};
  for (unsigned mask = 0; mask < 256; ++mask) {
    uint64_t indexes = 0;
    unsigned k = 0;
    for (unsigned b = 0; b < 8; ++b) {
      if ((mask >> b & 1) == 0) indexes |= uint64_t{b} << (8 * k++);
    }
    t.kept[mask] = static_cast<uint8_t>(k);
    for (; k < 8; ++k) indexes |= uint64_t{0x80} << (8 * k);
    t.shuffle[mask] = indexes;
  }
  return t;
}

inline constexpr PackTable kPackTable = MakePackTable();

#if defined(__x86_64__)
inline bool CpuHasSsse3() {
  static const bool has_ssse3 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("ssse3") != 0;
  }();
  return has_ssse3;
}

// CompactLineEnds() sixteen bytes at a time while seventeen are left to
// read from *r (one more to see whether a CR at the block's end is
// followed by LF): each CR before an LF is dropped and each other CR made
// an LF, without a branch per line. Advances *r and *w (REQUIRES: *w <=
// *r). In place is safe: a block's kept bytes are stored at *w <= *r
// only after the block was read, and never past its end.
__attribute__((target("ssse3"))) inline void CompactBlocksSsse3(char* p, size_t n, size_t* r,
                                                               size_t* w) {
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
  size_t rr = *r, ww = *w;
  while (rr + 17 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + rr));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + rr + 1));
    const __m128i is_cr = _mm_cmpeq_epi8(v, cr);
    const __m128i lf_next = _mm_cmpeq_epi8(next, lf);
    const __m128i lone_cr = _mm_andnot_si128(lf_next, is_cr);
    const __m128i lfs = _mm_or_si128(_mm_andnot_si128(lone_cr, v), _mm_and_si128(lone_cr, lf));
    const unsigned drop =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(is_cr, lf_next)));
    const unsigned low = drop & 0xff, high = drop >> 8;
    const __m128i order = _mm_set_epi64x(
        static_cast<long long>(kPackTable.shuffle[high] + 0x0808080808080808u),
        static_cast<long long>(kPackTable.shuffle[low]));
    const __m128i packed = _mm_shuffle_epi8(lfs, order);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p + ww), packed);
    ww += kPackTable.kept[low];
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p + ww), _mm_unpackhi_epi64(packed, packed));
    ww += kPackTable.kept[high];
    rr += 16;
  }
  *r = rr;
  *w = ww;
}
#endif

// CompactLineEnds() from p[r] on, p[0, w) being done, with SSE2 at most.
inline size_t CompactLineEndsFrom(char* p, size_t n, size_t r, size_t w) {
  while (r < n) {
    if (p[r] == '\r') {
      p[w++] = '\n';
      ++r;
      if (r < n && p[r] == '\n') ++r;
      continue;
    }
#ifdef __SSE2__
    // Sixteen bytes without a CR move at once. A block with one is moved
    // only up to it: storing all of it would overwrite input not read yet.
    bool cr_ahead = false;
    while (r + 16 <= n) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + r));
      const int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')));
      if (mask != 0) {
        const size_t k = static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
        MoveShort(p + w, p + r, k);
        w += k;
        r += k;
        cr_ahead = true;
        break;
      }
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p + w), v);
      w += 16;
      r += 16;
    }
    if (cr_ahead) continue;
#endif
    while (r < n && p[r] != '\r') p[w++] = p[r++];
  }
  return w;
}

// CompactLineEnds() with SSE2 at most (for tests of both paths).
inline size_t CompactLineEndsSse2(char* p, size_t n) {
  const void* first = std::memchr(p, '\r', n);
  if (first == nullptr) return n;
  const size_t r = static_cast<size_t>(static_cast<const char*>(first) - p);
  return CompactLineEndsFrom(p, n, r, r);
}

}  // namespace internal

// Turns each CRLF and each lone CR in p[0, n) into LF, moving the rest
// forward; returns the new length. A CR at p[n - 1] becomes LF too (the
// caller that streams remembers it, to drop an LF that may follow in the
// next chunk). Thread-safe.
inline size_t CompactLineEnds(char* p, size_t n) {
  const void* first = std::memchr(p, '\r', n);
  if (first == nullptr) return n;
  size_t r = static_cast<size_t>(static_cast<const char*>(first) - p);  // read
  size_t w = r;                                                         // write; w <= r
#if defined(__x86_64__)
  if (internal::CpuHasSsse3()) internal::CompactBlocksSsse3(p, n, &r, &w);
#endif
  return internal::CompactLineEndsFrom(p, n, r, w);
}

}  // namespace imap::mime

#endif  // IMAP_MIME_LINE_SCAN_H_
