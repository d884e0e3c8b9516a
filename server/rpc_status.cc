#include "server/rpc_status.h"

#include "absl/strings/str_cat.h"
#include "imap/util/error_kind.h"
#include "server/oauth/token_error.h"

namespace server {

absl::Status ForRpc(const absl::Status& status) {
  if (status.ok()) return status;
  const bool imap_timeout = imap::GetErrorKind(status) == imap::ErrorKind::kTimeout;
  const bool token_timeout = oauth::GetTokenErrorKind(status) == oauth::TokenErrorKind::kUnreachable;
  if (status.code() == absl::StatusCode::kDeadlineExceeded && (imap_timeout || token_timeout)) {
    absl::Status out(absl::StatusCode::kUnavailable,
                     absl::StrCat(imap_timeout ? "the IMAP server timed out: "
                                               : "the OAuth 2.0 token endpoint timed out: ",
                                  status.message()));
    status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
      out.SetPayload(url, payload);
    });
    return out;
  }
  return status;
}

}  // namespace server
