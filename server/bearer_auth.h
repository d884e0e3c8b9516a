// The optional bearer token every call must carry: with --auth_token_file
// set, a call without "authorization: Bearer <token>" gets
// UNAUTHENTICATED. The health service stays open (probes carry no token).
//
//   BearerAuth auth(token);            // "" turns the check off
//   if (absl::Status s = auth.Check(*context); !s.ok()) return ToGrpcStatus(s);
#ifndef SERVER_BEARER_AUTH_H_
#define SERVER_BEARER_AUTH_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/grpcpp.h"

namespace server {

class BearerAuth {
 public:
  BearerAuth() = default;
  explicit BearerAuth(std::string token) : token_(std::move(token)) {}

  // OK when no token is required or the call carries it.
  absl::Status Check(const grpc::ServerContextBase& context) const;

 private:
  std::string token_;
};

}  // namespace server

#endif  // SERVER_BEARER_AUTH_H_
