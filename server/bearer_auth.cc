#include "server/bearer_auth.h"

#include <openssl/crypto.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace server {

absl::Status BearerAuth::Check(const grpc::ServerContextBase& context) const {
  if (token_.empty()) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("this server requires \"authorization: Bearer <token>\" metadata");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) {
    return absl::UnauthenticatedError("the authorization metadata is not a Bearer token");
  }
  value = absl::StripAsciiWhitespace(value.substr(7));
  // Constant time, so the comparison does not tell how much of a guess was right.
  if (value.size() != token_.size() || CRYPTO_memcmp(value.data(), token_.data(), value.size()) != 0) {
    return absl::UnauthenticatedError("the bearer token is not valid");
  }
  return absl::OkStatus();
}

}  // namespace server
