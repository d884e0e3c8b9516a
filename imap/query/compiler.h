// Compiles a parsed query into what the IMAP server is asked: the SEARCH
// criteria that filter on the server (every predicate SEARCH can express
// exactly, and a wider net for those it cannot), the predicates left for
// the client to check on the records, and the FETCH items the selected
// columns need.
//
//   absl::StatusOr<Plan> plan = Compile(*ParseQuery(text));
//   // plan->search: "SINCE 1-Jan-2024 NOT SEEN OR SUBJECT "invoice" FROM "@billing.example.com""
//   // plan->residual: from LIKE '%@billing.example.com' (checked on each record)
#ifndef IMAP_QUERY_COMPILER_H_
#define IMAP_QUERY_COMPILER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "imap/query/ast.h"

namespace imap::query {

// SEARCH criteria as a list of parts: trusted syntax, or user strings that
// the session sends as quoted strings or literals (never pasted).
struct SearchPart {
  bool is_string = false;
  std::string text;
};

struct Plan {
  // Folders to read (UTF-8, may hold wildcards); empty means the
  // connection's default folder.
  std::vector<std::string> folders;
  // What SEARCH is asked ("ALL" when nothing can be pushed down).
  std::vector<SearchPart> search;
  // True if the server's answer is exactly the query's answer; false if it
  // is a superset that `residual` narrows down on the client.
  bool search_is_exact = true;
  // What the client still checks on each record; none when exact.
  absl::optional<Expr> residual;
  // Columns of each record, in order.
  std::vector<std::string> columns;
  // The FETCH items for those columns and for the residual check, e.g.
  // "(UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER])".
  std::string fetch_items;
  // Whether the whole message must be read (attachments, raw, defects).
  bool needs_full_message = false;
  // Whether only the text and HTML bodies are needed of the body: then
  // fetch_items asks for BODYSTRUCTURE, and the runner fetches just the
  // parts a mail client would show (BODY.PEEK[1.1] ...), not attachments.
  bool text_parts_only = false;
  // Whether the records need every header decoded (the headers column, or
  // a header('X') condition checked on the client).
  bool needs_header_list = false;
  bool descending = false;
  absl::optional<uint64_t> limit;
  // What in the query needs a Gmail server (X-GM-EXT-1): gmail_* columns
  // and conditions, in the order the query names them, and whatever
  // RequireGmailMessageIds() added. Planning does not depend on the
  // server; the runner refuses such a plan on a server without the
  // extension (FAILED_PRECONDITION naming the first entry).
  std::vector<std::string> gmail_fields;
};

// Renders search parts for people and logs, strings in double quotes.
std::string SearchText(const std::vector<SearchPart>& parts);

// Compiles `query`. Errors: INVALID_ARGUMENT for what parses but cannot
// be run: a gmail_raw condition the server could not decide alone (under
// OR or NOT with a condition checked on the client).
absl::StatusOr<Plan> Compile(const Query& query);

// Makes `plan` fetch X-GM-MSGID (so FetchedMessage facts carry
// gmail_msgid, e.g. to drop repeats of a message seen in several labels)
// and records `why` (e.g. "deduplicate_gmail_messages") in gmail_fields,
// so that a server without X-GM-EXT-1 refuses it. Idempotent.
void RequireGmailMessageIds(Plan* plan, absl::string_view why);

}  // namespace imap::query

#endif  // IMAP_QUERY_COMPILER_H_
