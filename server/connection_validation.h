// Checks a Connection as an admin filled it in and fills in the defaults:
// every bad field is reported at once, by its field path.
//
//   absl::StatusOr<ValidConnection> v = ValidateConnection(request.connection(), context);
//   if (!v.ok()) return ToGrpcStatus(v.status());  // INVALID_ARGUMENT + BadRequest
#ifndef SERVER_CONNECTION_VALIDATION_H_
#define SERVER_CONNECTION_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "connector/v1/connector.pb.h"

namespace server {

struct ValidationContext {
  // This server's agent name (--agent).
  std::string agent;
  // Path prefix of field names in violations, e.g. "connection".
  std::string field_prefix = "connection";
  // The password stored for a connection of the same name, used when the
  // request leaves the password empty. Empty: a password is required.
  std::string stored_password;
  // The oauth2 settings stored for a connection of the same name: secrets
  // left empty in the request are taken from here when the source (the
  // oneof case) is the same.
  connector::v1::OAuth2 stored_oauth2;
};

struct ValidConnection {
  // Defaults applied, effective_* and has_password filled in.
  connector::v1::Connection connection;
  // What was normalised, for the admin (e.g. host taken from an address).
  std::vector<std::string> notes;
};

// Returns the normalised connection, or INVALID_ARGUMENT carrying one
// FieldViolation per bad field (see status_convert.h).
absl::StatusOr<ValidConnection> ValidateConnection(const connector::v1::Connection& input,
                                                   const ValidationContext& context);

// OK, or INVALID_ARGUMENT naming each bad part of `actions` under `field`
// (e.g. "post_actions.add_keywords[0]").
absl::Status ValidatePostActions(const connector::v1::PostActions& actions,
                                 absl::string_view field);

// A copy of `c` without its password and OAuth 2.0 secrets (client
// secret, refresh token, static access token), with the has_* flags set,
// for responses.
connector::v1::Connection WithoutPassword(const connector::v1::Connection& c);

constexpr int kDefaultTimeoutMs = 30000;

}  // namespace server

#endif  // SERVER_CONNECTION_VALIDATION_H_
