// WriteRecords' work: append a stream of messages (raw, or composed from
// fields) to one folder, each with its own result, optionally skipping
// messages whose Message-ID the folder already has.
//
//   absl::StatusOr<WriteRecordsResponse> r =
//       RunWrite(connection, folder, options, deadline, [&](OutgoingMessage* m) { return reader->Read(...); });
#ifndef SERVER_WRITE_RECORDS_H_
#define SERVER_WRITE_RECORDS_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "server/record_stream.h"

namespace server {

// Returns the next message into *message, false at the end of the input.
using NextMessage = std::function<bool(connector::v1::OutgoingMessage* message)>;

// Opens the session, the folder (creating it if options.create_folder),
// then writes every message `next` gives. Errors are for the whole call
// (connecting, the folder); a message's own failure goes in its result.
// `control` (optional) interrupts the IMAP connection when cancelled.
// REQUIRES: `connection` passed ValidateConnection.
absl::StatusOr<connector::v1::WriteRecordsResponse> RunWrite(
    const connector::v1::Connection& connection, const std::string& folder,
    const connector::v1::WriteOptions& options, absl::Time deadline, const NextMessage& next,
    StreamControl* control = nullptr);

// The folder a WriteOptions.query (or the connection's query) names:
// the first folder of its FROM; "" when it names none. INVALID_ARGUMENT for
// a query that does not parse or names a wildcard.
absl::StatusOr<std::string> TargetFolderOf(const std::string& query);

}  // namespace server

#endif  // SERVER_WRITE_RECORDS_H_
