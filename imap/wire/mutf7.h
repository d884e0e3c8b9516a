// Folder names on the wire: IMAP4rev1 servers name folders in modified
// UTF-7 (RFC 3501 section 5.1.3); we speak UTF-8 everywhere else.
//
//   EncodeMailboxName("Entwürfe")  -> "Entw&APw-rfe"
//   DecodeMailboxName("Entw&APw-rfe") -> "Entwürfe"
#ifndef IMAP_WIRE_MUTF7_H_
#define IMAP_WIRE_MUTF7_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace imap::wire {

// Returns the modified UTF-7 form of a UTF-8 name; INVALID_ARGUMENT naming
// the byte offset if `utf8` is not valid UTF-8.
absl::StatusOr<std::string> EncodeMailboxName(absl::string_view utf8);

// Returns the UTF-8 form of a modified UTF-7 name; INVALID_ARGUMENT naming
// the byte offset if `mutf7` is not valid modified UTF-7.
absl::StatusOr<std::string> DecodeMailboxName(absl::string_view mutf7);

}  // namespace imap::wire

#endif  // IMAP_WIRE_MUTF7_H_
