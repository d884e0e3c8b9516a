// The table of docs/status-codes.md: each engine failure category and the
// code every RPC answers with.
#include "server/rpc_status.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "imap/util/error_kind.h"
#include "server/oauth/token_error.h"

namespace server {
namespace {

struct Row {
  absl::StatusCode engine_code;
  imap::ErrorKind kind;
  absl::StatusCode rpc_code;
};

TEST(RpcStatusTest, EachCategoryHasItsDocumentedCode) {
  const std::vector<Row> table = {
      {absl::StatusCode::kNotFound, imap::ErrorKind::kDns, absl::StatusCode::kNotFound},
      {absl::StatusCode::kUnavailable, imap::ErrorKind::kRefused, absl::StatusCode::kUnavailable},
      {absl::StatusCode::kDeadlineExceeded, imap::ErrorKind::kTimeout, absl::StatusCode::kUnavailable},
      {absl::StatusCode::kUnavailable, imap::ErrorKind::kTls, absl::StatusCode::kUnavailable},
      {absl::StatusCode::kFailedPrecondition, imap::ErrorKind::kTls,
       absl::StatusCode::kFailedPrecondition},
      {absl::StatusCode::kUnavailable, imap::ErrorKind::kCertificate, absl::StatusCode::kUnavailable},
      {absl::StatusCode::kUnauthenticated, imap::ErrorKind::kAuth, absl::StatusCode::kUnauthenticated},
      {absl::StatusCode::kPermissionDenied, imap::ErrorKind::kAuth,
       absl::StatusCode::kPermissionDenied},
      {absl::StatusCode::kNotFound, imap::ErrorKind::kNoMailbox, absl::StatusCode::kNotFound},
      {absl::StatusCode::kUnavailable, imap::ErrorKind::kProtocol, absl::StatusCode::kUnavailable},
      {absl::StatusCode::kInternal, imap::ErrorKind::kProtocol, absl::StatusCode::kInternal},
      {absl::StatusCode::kUnavailable, imap::ErrorKind::kMalformed, absl::StatusCode::kUnavailable},
      {absl::StatusCode::kInternal, imap::ErrorKind::kMalformed, absl::StatusCode::kInternal},
      {absl::StatusCode::kResourceExhausted, imap::ErrorKind::kLimit,
       absl::StatusCode::kResourceExhausted},
      {absl::StatusCode::kFailedPrecondition, imap::ErrorKind::kUsage,
       absl::StatusCode::kFailedPrecondition},
      // The call's own deadline carries no kind and stays as it is.
      {absl::StatusCode::kDeadlineExceeded, imap::ErrorKind::kUnknown,
       absl::StatusCode::kDeadlineExceeded},
  };
  for (const Row& row : table) {
    const absl::Status engine =
        imap::WithErrorKind(absl::Status(row.engine_code, "what happened"), row.kind);
    const absl::Status rpc = ForRpc(engine);
    EXPECT_EQ(rpc.code(), row.rpc_code) << engine;
    EXPECT_NE(rpc.message().find("what happened"), absl::string_view::npos) << rpc;
    EXPECT_EQ(imap::GetErrorKind(rpc), row.kind) << rpc;
  }
  EXPECT_TRUE(ForRpc(absl::OkStatus()).ok());
  // The token endpoint's failures keep their codes, but a timeout there is
  // not the caller's deadline either.
  const absl::Status slow = oauth::TokenError(oauth::TokenErrorKind::kUnreachable,
                                              absl::StatusCode::kDeadlineExceeded, "no answer");
  EXPECT_EQ(ForRpc(slow).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(oauth::GetTokenErrorKind(ForRpc(slow)), oauth::TokenErrorKind::kUnreachable);
  const absl::Status revoked = oauth::TokenError(oauth::TokenErrorKind::kInvalidGrant,
                                                 absl::StatusCode::kUnauthenticated, "revoked");
  EXPECT_EQ(ForRpc(revoked).code(), absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace server
