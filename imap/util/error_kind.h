// Why an engine operation failed, attached to an absl::Status as a payload,
// so that callers can tell a DNS failure from a refused connection even
// when both carry UNAVAILABLE.
//
//   absl::Status s = WithErrorKind(absl::UnavailableError("..."), ErrorKind::kRefused);
//   if (GetErrorKind(s) == ErrorKind::kRefused) ...
#ifndef IMAP_UTIL_ERROR_KIND_H_
#define IMAP_UTIL_ERROR_KIND_H_

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
  kProtocol,     // malformed response, unexpected BYE, connection closed
  kLimit,        // one of our own limits was exceeded
  kUsage,        // the caller used the API wrongly (e.g. a command during a FETCH stream)
};

// Returns the name of `kind`, e.g. "DNS".
absl::string_view ErrorKindName(ErrorKind kind);

// Returns `status` with `kind` attached. An OK status is returned unchanged.
absl::Status WithErrorKind(absl::Status status, ErrorKind kind);

// Returns the kind attached to `status`, or kUnknown.
ErrorKind GetErrorKind(const absl::Status& status);

// Returns `status` with `context + ": "` before its message, keeping its
// code and payloads. An OK status is returned unchanged.
absl::Status Annotate(const absl::Status& status, absl::string_view context);

}  // namespace imap

#endif  // IMAP_UTIL_ERROR_KIND_H_
