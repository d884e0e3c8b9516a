// UTF-8 helpers shared by the engine and the server.
//
//   size_t i = 0; int32_t cp = DecodeUtf8(s, &i);  // -1 on invalid input
#ifndef IMAP_UTIL_UTF8_H_
#define IMAP_UTIL_UTF8_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace imap {

// Decodes the code point at s[*i] and advances *i past it. Returns -1 (and
// leaves *i) for invalid UTF-8: bad sequences, overlong forms, surrogates,
// values above U+10FFFF. REQUIRES: *i < s.size().
int32_t DecodeUtf8(absl::string_view s, size_t* i);

// Appends the UTF-8 encoding of `code_point` (REQUIRES: <= 0x10FFFF).
void AppendUtf8(uint32_t code_point, std::string* out);

// Returns the index of the first byte at or after `from` that is not
// ASCII (high bit set), or s.size() if there is none. Checks sixteen
// bytes at a time, for text that is mostly ASCII. REQUIRES: from <= s.size().
size_t SkipAscii(absl::string_view s, size_t from);

// True if all of `s` is valid UTF-8. On false, *bad_offset (if given) is
// the offset of the first invalid byte.
bool IsValidUtf8(absl::string_view s, size_t* bad_offset = nullptr);

}  // namespace imap

#endif  // IMAP_UTIL_UTF8_H_
