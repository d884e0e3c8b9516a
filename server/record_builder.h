// Turns a fetched message into the API's Record: the selected columns as
// typed values, timestamps rendered with the connection's date-time format.
//
//   Record r = BuildRecord(message, plan.columns, "%Y-%m-%d");
#ifndef SERVER_RECORD_BUILDER_H_
#define SERVER_RECORD_BUILDER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "connector/v1/connector.pb.h"
#include "imap/records/query_runner.h"

namespace server {

// The record of `message` with `columns` (names from imap::query's schema;
// unknown names are skipped). `datetime_format` must be valid (see
// datetime_format.h). Fields the fetch did not provide are null, and so is
// every header column whose field the message lacks (no Subject: null
// subject; "Subject:" with nothing after it: ""; no To: null, not an empty
// list); a Date that cannot be read is null too.
connector::v1::Record BuildRecord(const imap::records::FetchedMessage& message,
                                  const std::vector<std::string>& columns,
                                  absl::string_view datetime_format);

// The schema of `columns`, in order.
std::vector<connector::v1::ColumnSchema> SchemaOf(const std::vector<std::string>& columns);

// "'where': what" lines, as Record.defects carries them.
std::vector<std::string> DefectLines(const imap::mime::Defects& defects);

}  // namespace server

#endif  // SERVER_RECORD_BUILDER_H_
