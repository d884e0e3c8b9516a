// Header text to UTF-8: RFC 2047 encoded words ("=?utf-8?Q?caf=C3=A9?="),
// raw UTF-8 (RFC 6532) and raw legacy 8-bit bytes, as real mail mixes them.
//
//   Defects defects;
//   DecodeHeaderText("=?ISO-8859-1?Q?Andr=E9?= Pirard", &defects, "header Subject")
//       -> "André Pirard"
//   DecodePhrase("\"Doe, John\" (work)", &defects, "header From") -> "Doe, John"
#ifndef IMAP_MIME_ENCODED_WORDS_H_
#define IMAP_MIME_ENCODED_WORDS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "imap/mime/defect.h"

namespace imap::mime {

// Returns unstructured header text (Subject, Comments, a comment's
// content, a file name) as UTF-8.
//
// - Line breaks are unfolded (removed; one that is not followed by
//   whitespace becomes a space); other whitespace is kept as written.
// - Encoded words "=?charset[*language]?B|Q?text?=" are decoded, with
//   charset and encoding matched case-insensitively; in Q, '_' is a space.
//   Whitespace between two encoded words is dropped. Adjacent encoded
//   words in the same charset are joined before charset conversion, so a
//   multi-byte character split across two words comes out whole.
// - Encoded words glued to other text ("Re:=?utf-8?Q?x?=") are decoded
//   too, as mail clients do (with a defect).
// - Malformed encoded words stay as written; bad base64 or Q bytes are
//   skipped or kept; an unknown charset is read with GuessToUtf8(). Each
//   of these adds a defect.
// - Raw 8-bit bytes are read as UTF-8 when valid (RFC 6532), else with
//   GuessToUtf8() (with a defect).
//
// Never fails; the result is valid UTF-8. Defects are appended to
// `*defects` (if not null) under `where`, each kind once per call.
// Runs in time linear in raw.size(). Thread-safe.
std::string DecodeHeaderText(absl::string_view raw, Defects* defects, absl::string_view where);

// Returns a phrase (RFC 5322 3.2.5: a display name or group name) as
// UTF-8: quoted strings lose their quotes and backslash escapes,
// comments are dropped, runs of whitespace outside quoted strings become
// one space, the ends are trimmed, and the rest is decoded as by
// DecodeHeaderText(). Encoded words inside quoted strings are decoded
// too: RFC 2047 forbids them there, but senders write them and every
// mail client decodes them. Never fails; same defects and threading as
// DecodeHeaderText().
std::string DecodePhrase(absl::string_view raw, Defects* defects, absl::string_view where);

}  // namespace imap::mime

#endif  // IMAP_MIME_ENCODED_WORDS_H_
