// How an engine failure reads to an RPC caller: the table of
// docs/status-codes.md in code. The engine picks codes for its own
// callers; a few of them would mislead someone who only sees the gRPC
// status, and are translated here, once, for every RPC.
//
//   return ToGrpcStatus(ForRpc(engine_status));
#ifndef SERVER_RPC_STATUS_H_
#define SERVER_RPC_STATUS_H_

#include "absl/status/status.h"

namespace server {

// Returns `status` as the RPC answers it. An IMAP server that did not
// answer within timeout_ms (DEADLINE_EXCEEDED with ErrorKind kTimeout), or
// a token endpoint that did not (TokenErrorKind kUnreachable), becomes
// UNAVAILABLE: DEADLINE_EXCEEDED is kept for the call's own
// deadline, which the caller set and can raise. Everything else keeps its
// code; message and payloads are kept.
absl::Status ForRpc(const absl::Status& status);

}  // namespace server

#endif  // SERVER_RPC_STATUS_H_
