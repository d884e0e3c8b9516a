// Turns a fetched message into the API's Record: the selected columns as
// typed values, timestamps rendered with the connection's date-time format.
//
//   Record r = BuildRecord(message, plan.columns, "%Y-%m-%d");
#ifndef SERVER_RECORD_BUILDER_H_
#define SERVER_RECORD_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
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

// A record in protobuf wire form: a serialized connector.v1.Record that
// has everything but its cursor, and what a stream needs to know of it.
// Encoding the message straight into bytes costs a fraction of building a
// Record and serializing it (no map and no allocation per field, one copy
// of each body), which for a stream is most of the work after parsing.
struct EncodedRecord {
  std::string bytes;
  std::string folder;
  uint32_t uid_validity = 0;
  uint32_t uid = 0;
  absl::optional<uint64_t> gmail_msgid;
  std::string cursor;  // set by the stream: its position after this record
};

// BuildRecord's record, encoded: parsing `bytes` gives a Record equal to
// BuildRecord's (the map's entries may come in another order).
EncodedRecord EncodeRecord(const imap::records::FetchedMessage& message,
                           const std::vector<std::string>& columns,
                           absl::string_view datetime_format);

// Appends Record.cursor to an encoded record.
void AppendRecordCursor(absl::string_view cursor, std::string* record_bytes);

// The schema of `columns`, in order.
std::vector<connector::v1::ColumnSchema> SchemaOf(const std::vector<std::string>& columns);

// "'where': what" lines, as Record.defects carries them.
std::vector<std::string> DefectLines(const imap::mime::Defects& defects);

}  // namespace server

#endif  // SERVER_RECORD_BUILDER_H_
