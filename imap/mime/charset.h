// Text in a declared charset to UTF-8, through glibc iconv. Messages name
// their charsets loosely ("latin1", "ks_c_5601-1987", "x-unknown"), so
// labels are matched case-insensitively through a small alias list before
// iconv sees them; bad bytes never fail a conversion.
//
//   Defects defects;
//   absl::StatusOr<std::string> s =
//       ToUtf8("caf\xe9", "ISO-8859-1", &defects, "header Subject");  // "café"
//   std::string t = GuessToUtf8("caf\xe9");                        // "café"
#ifndef IMAP_MIME_CHARSET_H_
#define IMAP_MIME_CHARSET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "imap/mime/defect.h"

namespace imap::mime {

// Returns `bytes`, written in `charset`, as UTF-8.
//
// Labels are matched case-insensitively, ignoring surrounding whitespace
// and quotes, and through aliases that real mail needs: "utf8", "latin1",
// "ks_c_5601-1987" (read as CP949), "gb2312"/"gbk" (GB18030), "big5"
// (Big5-HKSCS), "shift_jis"/"x-sjis" (CP932), "iso-8859-8-i" (ISO-8859-8),
// ... Following the WHATWG Encoding Standard, "iso-8859-1" and "latin1"
// are read as windows-1252 (the five bytes it leaves undefined become
// U+0081, U+008D, ...), "iso-8859-9" as windows-1254 and "tis-620" as
// windows-874. "x-unknown", "unknown-8bit" and similar labels that say
// "we don't know" are read with GuessToUtf8(), and so is "us-ascii" text
// that holds 8-bit bytes (with a defect).
// "iso-2022-jp" is read as its ISO-2022-JP-2 superset (which also knows
// half-width katakana), falling back to ISO-2022-JP-3 (JIS X 0213).
//
// Never fails because of the bytes: each invalid or truncated sequence
// becomes U+FFFD and one defect ("invalid ... bytes replaced") is appended
// to `*defects` (if not null) under `where`, once per call. Fails with
// NOT_FOUND only if the charset is unknown to us and to iconv (or its
// label is not a plausible charset name); the caller then decides what to
// guess. Thread-safe: every call opens its own iconv descriptor.
absl::StatusOr<std::string> ToUtf8(absl::string_view bytes, absl::string_view charset,
                                   Defects* defects, absl::string_view where);

// True if ToUtf8() accepts `charset` (it would not answer NOT_FOUND).
// Thread-safe.
bool IsKnownCharset(absl::string_view charset);

// Returns UTF-8 for bytes of unknown charset: valid UTF-8 (plain ASCII
// included) is returned unchanged; otherwise every well-formed UTF-8
// multi-byte sequence is kept and every other byte is read as
// windows-1252. Never fails; the result is always valid UTF-8.
// Thread-safe.
std::string GuessToUtf8(absl::string_view raw);

}  // namespace imap::mime

#endif  // IMAP_MIME_CHARSET_H_
