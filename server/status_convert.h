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

// Same code and message; a BadRequest payload becomes the status details.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace server

#endif  // SERVER_STATUS_CONVERT_H_
