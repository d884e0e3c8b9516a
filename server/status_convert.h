// The one place where absl::Status becomes grpc::Status. Field violations
// travel inside an absl::Status as a google.rpc.BadRequest payload and come
// out as the gRPC status details clients decode.
//
//   return ToGrpcStatus(InvalidFields({{"connection.port", "must be 1 to 65535"}}));
#ifndef SERVER_STATUS_CONVERT_H_
#define SERVER_STATUS_CONVERT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace server {

struct FieldViolation {
  std::string field;        // e.g. "connection.port"
  std::string description;  // what is wrong and how to fix it
};

// INVALID_ARGUMENT whose message lists every violation and whose payload is
// the google.rpc.BadRequest with them. REQUIRES: !violations.empty().
absl::Status InvalidFields(const std::vector<FieldViolation>& violations);

// The violations carried by `status` (empty if none).
std::vector<FieldViolation> GetFieldViolations(const absl::Status& status);

// Same code and message (after ForRpc, server/rpc_status.h: the table of
// docs/status-codes.md); a BadRequest payload becomes the status details.
// A message longer than kMaxStatusMessageBytes (or a description longer
// than kMaxDescriptionBytes) is cut, so that the status always fits in the
// 8 KiB of metadata that gRPC clients accept by default.
grpc::Status ToGrpcStatus(const absl::Status& status);

// A user-supplied value for an error message or log line: between `quote`
// characters, at most kMaxQuotedChars characters of it, control characters
// and bytes that are not UTF-8 escaped (\x0a), and, when cut, an ellipsis
// and the whole length: 'aaaa…' (10240 bytes). Always valid UTF-8.
//
//   absl::StrCat("no connection named ", Quote(name))
std::string Quote(absl::string_view value, char quote = '\'');

inline constexpr size_t kMaxQuotedChars = 100;
inline constexpr size_t kMaxStatusMessageBytes = 2048;
inline constexpr size_t kMaxDescriptionBytes = 1024;

}  // namespace server

#endif  // SERVER_STATUS_CONVERT_H_
