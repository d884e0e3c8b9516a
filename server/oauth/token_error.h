// Why an OAuth 2.0 access token could not be had, as a kind carried in the
// absl::Status payload, so TestConnection can name a category and callers
// can decide whether to retry.
//
//   if (std::optional<TokenErrorKind> k = GetTokenErrorKind(status); k == TokenErrorKind::kInvalidGrant) ...
#ifndef SERVER_OAUTH_TOKEN_ERROR_H_
#define SERVER_OAUTH_TOKEN_ERROR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace server::oauth {

// Status code per kind in parentheses.
enum class TokenErrorKind {
  // The refresh token is revoked, expired or unknown: a person must sign in
  // again and configure a new one (UNAUTHENTICATED).
  kInvalidGrant,
  // The endpoint does not know the client or the secret is wrong
  // (UNAUTHENTICATED).
  kInvalidClient,
  // Any other OAuth error (invalid_scope, unauthorized_client,
  // invalid_request, ...) or an HTTP 4xx without one (PERMISSION_DENIED).
  kRejected,
  // DNS, connect, proxy, send/receive failures (UNAVAILABLE) and timeouts
  // (DEADLINE_EXCEEDED).
  kUnreachable,
  // TLS handshake or certificate check failed (UNAVAILABLE).
  kTls,
  // HTTP 200 but not JSON, or no access_token in it (UNAVAILABLE).
  kMalformed,
  // HTTP 5xx (UNAVAILABLE).
  kServerError,
  // The token file is missing, unreadable or empty (FAILED_PRECONDITION).
  kTokenFile,
};

// "invalid_grant", "invalid_client", "rejected", "unreachable", "tls",
// "malformed", "server_error", "token_file".
absl::string_view TokenErrorKindName(TokenErrorKind kind);

// A status with `code`, `message` and `kind` as payload. `message` must not
// hold secrets.
absl::Status TokenError(TokenErrorKind kind, absl::StatusCode code, absl::string_view message);

// The kind `status` carries; nullopt for OK or statuses not made by
// TokenError.
std::optional<TokenErrorKind> GetTokenErrorKind(const absl::Status& status);

}  // namespace server::oauth

#endif  // SERVER_OAUTH_TOKEN_ERROR_H_
