// WriteRecords' work: append a stream of messages (raw, or composed from
// fields) to one folder, each with its own result, optionally skipping
// messages whose Message-ID the folder already has.
//
//   absl::StatusOr<WriteRecordsResponse> r = RunWrite(
//       connection, folder, options, deadline, [&](WriteRecordsRequest* q) { return reader->Read(q); });
#ifndef SERVER_WRITE_RECORDS_H_
#define SERVER_WRITE_RECORDS_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "server/record_stream.h"

namespace server {

// Returns the next request of the stream into *request, false at its end.
using NextRequest = std::function<bool(connector::v1::WriteRecordsRequest* request)>;

// The INTERNALDATEs a message may ask for (OutgoingMessage.
// internal_date_unix_millis, 0 aside): 1970-01-01T00:00:01Z to
// 2106-02-07T06:28:15Z, what Dovecot, Cyrus and Courier all store as given.
// Earlier dates are refused (Cyrus: BAD, Courier: NO) or stored wrong
// (Dovecot); a date-time of exactly 1970-01-01T00:00:00Z is taken as the
// time of arrival; Cyrus keeps unsigned 32-bit seconds, so later ones wrap.
inline constexpr int64_t kMinInternalDateMillis = 1000;
inline constexpr int64_t kMaxInternalDateMillis = 4294967295999;

// Opens the session, checks the folder (creating it if
// options.create_folder), then writes the message of every request `next`
// gives; the caller has read the first request (the options). Errors are
// for the whole call: connecting, the folder, and a later request that
// carries options again or nothing (INVALID_ARGUMENT naming
// "requests[N]"; the messages before it stay written and the message says
// how many). A message's own failure, such as an invalid field, goes in its
// result. `control` (optional) interrupts the IMAP connection when
// cancelled.
// REQUIRES: `connection` passed ValidateConnection.
absl::StatusOr<connector::v1::WriteRecordsResponse> RunWrite(
    const connector::v1::Connection& connection, const std::string& folder,
    const connector::v1::WriteOptions& options, absl::Time deadline, const NextRequest& next,
    StreamControl* control = nullptr);

// The folder a WriteOptions.query (or the connection's query) names:
// the first folder of its FROM; "" when it names none. INVALID_ARGUMENT for
// a query that does not parse or names a wildcard.
absl::StatusOr<std::string> TargetFolderOf(const std::string& query);

}  // namespace server

#endif  // SERVER_WRITE_RECORDS_H_
