// TestConnection's work: run each step a real job runs against the IMAP
// server of a validated connection and report every stage.
//
//   TestConnectionResponse r = RunConnectionTest(valid.connection, deadline, is_cancelled);
#ifndef SERVER_TEST_CONNECTION_H_
#define SERVER_TEST_CONNECTION_H_

#include <functional>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "server/record_stream.h"

namespace server {

// Runs the stages: connect, tls, greeting, capability, starttls, login,
// examine, logout. A failing stage ends the test with ok = false, a
// category and a message; that is not an error. Errors are only
// DEADLINE_EXCEEDED when `deadline` (the RPC's) passed and CANCELLED when
// `cancelled` returned true between stages.
// REQUIRES: `connection` passed ValidateConnection.
// `control` (optional) interrupts the connection when cancelled.
absl::StatusOr<connector::v1::TestConnectionResponse> RunConnectionTest(
    const connector::v1::Connection& connection, absl::Time deadline,
    const std::function<bool()>& cancelled, StreamControl* control = nullptr);

}  // namespace server

#endif  // SERVER_TEST_CONNECTION_H_
