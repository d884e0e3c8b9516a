#include "server/rpc_status.h"

#include "absl/strings/str_cat.h"
#include "imap/util/error_kind.h"

namespace server {

absl::Status ForRpc(const absl::Status& status) {
  if (status.ok()) return status;
  if (status.code() == absl::StatusCode::kDeadlineExceeded &&
      imap::GetErrorKind(status) == imap::ErrorKind::kTimeout) {
    absl::Status out(absl::StatusCode::kUnavailable,
                     absl::StrCat("the IMAP server timed out: ", status.message()));
    status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
      out.SetPayload(url, payload);
    });
    return out;
  }
  return status;
}

}  // namespace server
