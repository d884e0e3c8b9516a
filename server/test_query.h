// TestQuery's work: compile a query, run it read-only on the connection's
// IMAP server, and report the schema, sample records, matches per folder,
// the IMAP commands of the plan and the time of each step.
//
//   absl::StatusOr<TestQueryResponse> r = RunTestQuery(connection, query, 5, deadline);
#ifndef SERVER_TEST_QUERY_H_
#define SERVER_TEST_QUERY_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "imap/query/compiler.h"
#include "server/record_stream.h"

namespace server {

// Parses and compiles `query`. INVALID_ARGUMENT with a BadRequest on
// field "query" (line, column, expectation, hint) when it does not parse.
absl::StatusOr<imap::query::Plan> CompileQuery(absl::string_view query);

// Runs `query` on `connection` (EXAMINE and BODY.PEEK only), keeping up to
// `sample_size` records. Errors: INVALID_ARGUMENT for the query; the IMAP
// step's error, its name in front ("login: ...", "SEARCH in \"INBOX\": ...").
// REQUIRES: `connection` passed ValidateConnection.
// `control` (optional) interrupts the IMAP connection when cancelled.
absl::StatusOr<connector::v1::TestQueryResponse> RunTestQuery(
    const connector::v1::Connection& connection, absl::string_view query, int sample_size,
    absl::Time deadline, StreamControl* control = nullptr);

}  // namespace server

#endif  // SERVER_TEST_QUERY_H_
