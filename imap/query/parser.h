// Parses the query language (docs/query.md) into a Query.
//
//   absl::StatusOr<Query> q = ParseQuery(
//       "SELECT subject, from WHERE date >= '2024-01-01' AND NOT seen LIMIT 10");
//   // On error: INVALID_ARGUMENT "line 1, column 8: unknown column 'subjet'; did you mean
//   // 'subject'?"
#ifndef IMAP_QUERY_PARSER_H_
#define IMAP_QUERY_PARSER_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "imap/query/ast.h"

namespace imap::query {

struct ParseLimits {
  size_t max_length = 64 * 1024;  // bytes of query text
  int max_depth = 64;             // nesting of parentheses and NOT
  size_t max_in_values = 10000;   // values in one IN (...) list
};

// Returns the query, or INVALID_ARGUMENT whose message starts with
// "line L, column C: " and says what was expected and what was found, with
// a hint where one helps. An empty (or all-blank) text is a valid query
// with every part defaulted.
absl::StatusOr<Query> ParseQuery(absl::string_view text, const ParseLimits& limits = ParseLimits());

}  // namespace imap::query

#endif  // IMAP_QUERY_PARSER_H_
