// Opens a logged-in IMAP session for a validated connection: TCP, TLS or
// STARTTLS, greeting, login, and COMPRESS when the server offers it. The
// jobs (TestQuery, StreamRecords, Acknowledge) share it; TestConnection
// runs the same steps one by one to report each.
//
//   absl::StatusOr<std::unique_ptr<imap::Session>> s = OpenSession(connection, deadline, &steps);
#ifndef SERVER_IMAP_CONNECT_H_
#define SERVER_IMAP_CONNECT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "imap/session/session.h"

namespace server {

// One timed step of opening a session ("connect", "tls", "login", ...).
struct TimedStep {
  std::string name;
  absl::Duration duration;
  std::string detail;
};

struct OpenOptions {
  // Ask for COMPRESS=DEFLATE when offered, even if the connection does not
  // say so (Connection.compress).
  bool compress = false;
};

// Opens the session. Errors keep the engine's codes and error kinds, with
// the failing step named ("login: ..."). `steps` (optional) receives each
// step that completed. REQUIRES: `connection` passed ValidateConnection.
absl::StatusOr<std::unique_ptr<imap::Session>> OpenSession(
    const connector::v1::Connection& connection, absl::Time deadline,
    std::vector<TimedStep>* steps = nullptr, OpenOptions options = OpenOptions());

// The engine's mechanism for the API's.
imap::AuthMethod ToAuthMethod(connector::v1::AuthMechanism mechanism);

}  // namespace server

#endif  // SERVER_IMAP_CONNECT_H_
