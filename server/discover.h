// Discover's work: log in, list every folder with its role, subscription
// and counts (imap::Session::ListFolders), and add the query language's
// columns and version, for an orchestrator drawing a folder picker.
//
//   absl::StatusOr<DiscoverResponse> r = RunDiscover(connection, deadline, &control);
#ifndef SERVER_DISCOVER_H_
#define SERVER_DISCOVER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "imap/session/session.h"
#include "server/record_stream.h"

namespace server {

// The query language's version as Discover reports it (docs/query.md).
// Raised when the language gains syntax a client may want to test for.
inline constexpr char kQueryLanguageVersion[] = "1.0";

// Runs LIST/STATUS on `connection` (never SELECT) and builds the answer.
// Errors: the failing step's, named ("login: ...", "LIST: ..."); CANCELLED
// when `control` (optional, interrupts the IMAP connection) was cancelled.
// A folder whose STATUS fails is in the answer with its error instead.
// REQUIRES: `connection` passed ValidateConnection.
absl::StatusOr<connector::v1::DiscoverResponse> RunDiscover(
    const connector::v1::Connection& connection, absl::Time deadline,
    StreamControl* control = nullptr);


}  // namespace server

#endif  // SERVER_DISCOVER_H_
