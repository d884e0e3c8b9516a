// The record schema: the columns a query can select and filter on, with
// their types. One table, shared by the query parser, the compiler and the
// record builder.
//
//   const Column* c = FindColumn("subject");   // nullptr if unknown
//   std::string hint = ClosestColumnName("subjcet");  // "subject"
#ifndef IMAP_QUERY_SCHEMA_H_
#define IMAP_QUERY_SCHEMA_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace imap::query {

enum class ColumnType {
  kString,          // UTF-8 text
  kInteger,         // 64-bit
  kTimestamp,       // a point in time (UTC)
  kStringList,      // e.g. flags, references
  kAddressList,     // {name, address} objects
  kAttachmentList,  // attachment objects
  kHeaderList,      // {name, value} pairs
  kBytes,           // raw message
  kBoolean,
};

struct Column {
  absl::string_view name;
  ColumnType type;
  // Part of `SELECT *` (and of an empty query).
  bool in_default_set;
  absl::string_view description;
};

// Every column, in the order `SELECT *` returns them.
const std::vector<Column>& Columns();

// The column named `name` (case-insensitive), or nullptr.
const Column* FindColumn(absl::string_view name);

// The known column name closest to `name` (edit distance at most 3), or "".
std::string ClosestColumnName(absl::string_view name);

// "string", "integer", "timestamp", ...
absl::string_view ColumnTypeName(ColumnType type);

// True for the fields only a Gmail server (X-GM-EXT-1) can answer: the
// gmail_* columns and the gmail_raw condition.
bool IsGmailField(absl::string_view name);

}  // namespace imap::query

#endif  // IMAP_QUERY_SCHEMA_H_
