// libFuzzer target for the query parser and compiler: any text either
// parses or is refused with a message that says where ("line L, column
// C: ..."), and whatever parses compiles, except a gmail_raw condition
// that only the client could check (refused INVALID_ARGUMENT by design).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/match.h"
#include "imap/query/compiler.h"
#include "imap/query/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  imap::query::ParseLimits limits;
  limits.max_depth = 16;
  absl::StatusOr<imap::query::Query> q = imap::query::ParseQuery(text, limits);
  if (!q.ok()) {
    if (q.status().code() != absl::StatusCode::kInvalidArgument) abort();
    if (!absl::StartsWith(q.status().message(), "line ") &&
        !absl::StartsWith(q.status().message(), "the query is")) {
      abort();
    }
    return 0;
  }
  // A parsed query is parsed the same way again (no hidden state).
  absl::StatusOr<imap::query::Query> again = imap::query::ParseQuery(text, limits);
  if (!again.ok() || again->columns != q->columns || again->folders != q->folders ||
      again->limit != q->limit || again->where.has_value() != q->where.has_value()) {
    abort();
  }
  absl::StatusOr<imap::query::Plan> plan = imap::query::Compile(*q);
  if (!plan.ok() && plan.status().code() == absl::StatusCode::kInvalidArgument &&
      absl::StartsWith(plan.status().message(), "gmail_raw ")) {
    return 0;
  }
  if (!plan.ok() || plan->search.empty() || plan->fetch_items.empty()) abort();
  // An inexact search always comes with something for the client to check.
  if (!plan->search_is_exact && !plan->residual.has_value()) abort();
  return 0;
}
