#include "server/oauth/token_error.h"

#include "absl/strings/cord.h"

namespace server::oauth {
namespace {

constexpr absl::string_view kPayloadUrl = "type.imap-connector/oauth.TokenErrorKind";

constexpr TokenErrorKind kAllKinds[] = {
    TokenErrorKind::kInvalidGrant, TokenErrorKind::kInvalidClient, TokenErrorKind::kRejected,
    TokenErrorKind::kUnreachable,  TokenErrorKind::kTls,           TokenErrorKind::kMalformed,
    TokenErrorKind::kServerError,  TokenErrorKind::kTokenFile,
};

}  // namespace

absl::string_view TokenErrorKindName(TokenErrorKind kind) {
  switch (kind) {
    case TokenErrorKind::kInvalidGrant:
      return "invalid_grant";
    case TokenErrorKind::kInvalidClient:
      return "invalid_client";
    case TokenErrorKind::kRejected:
      return "rejected";
    case TokenErrorKind::kUnreachable:
      return "unreachable";
    case TokenErrorKind::kTls:
      return "tls";
    case TokenErrorKind::kMalformed:
      return "malformed";
    case TokenErrorKind::kServerError:
      return "server_error";
    case TokenErrorKind::kTokenFile:
      return "token_file";
  }
  return "unknown";
}

absl::Status TokenError(TokenErrorKind kind, absl::StatusCode code, absl::string_view message) {
  absl::Status status(code, message);
  status.SetPayload(kPayloadUrl, absl::Cord(TokenErrorKindName(kind)));
  return status;
}

std::optional<TokenErrorKind> GetTokenErrorKind(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  for (TokenErrorKind kind : kAllKinds) {
    if (*payload == TokenErrorKindName(kind)) return kind;
  }
  return std::nullopt;
}

}  // namespace server::oauth
