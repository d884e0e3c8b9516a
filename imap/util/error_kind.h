// Why an engine operation failed, attached to an absl::Status as a payload,
// so that callers can tell a DNS failure from a refused connection even
// when both carry UNAVAILABLE.
//
//   absl::Status s = WithErrorKind(absl::UnavailableError("..."), ErrorKind::kRefused);
//   if (GetErrorKind(s) == ErrorKind::kRefused) ...
#ifndef IMAP_UTIL_ERROR_KIND_H_
#define IMAP_UTIL_ERROR_KIND_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace imap {

enum class ErrorKind {
  kUnknown = 0,
  kDns,          // host name could not be resolved
  kRefused,      // connection refused or host unreachable
  kTimeout,      // a wait exceeded its deadline
  kTls,          // TLS handshake or STARTTLS failed
  kCertificate,  // certificate not trusted or host name mismatch
  kAuth,         // credentials refused
  kNoMailbox,    // folder does not exist or cannot be opened
  kProtocol,     // unexpected BYE, connection closed, answer out of order
  kMalformed,    // a response that does not parse: the same bytes would fail again
  kLimit,        // one of our own limits was exceeded
  kUsage,        // the caller used the API wrongly (e.g. a command during a FETCH stream)
};

// Returns the name of `kind`, e.g. "DNS".
absl::string_view ErrorKindName(ErrorKind kind);

// Returns `status` with `kind` attached. An OK status is returned unchanged.
absl::Status WithErrorKind(absl::Status status, ErrorKind kind);

// Returns the kind attached to `status`, or kUnknown.
ErrorKind GetErrorKind(const absl::Status& status);

// The UID of the message a failure is about (a body over the size limit,
// a FETCH answer that did not parse), attached as a second payload so that
// a stream can skip exactly that message. An OK status is returned unchanged.
absl::Status WithMessageUid(absl::Status status, uint32_t uid);
// The UID attached by WithMessageUid, or 0.
uint32_t GetMessageUid(const absl::Status& status);
// The size of the message a kLimit failure is about (its announced literal
// size), or 0.
absl::Status WithMessageSize(absl::Status status, uint64_t size);
uint64_t GetMessageSize(const absl::Status& status);

// Returns `status` with `context + ": "` before its message, keeping its
// code and payloads. An OK status is returned unchanged.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace imap

#endif  // IMAP_UTIL_ERROR_KIND_H_
