// Checks a query condition (docs/query.md) against one message on the
// client: the residual filter the compiler leaves for what IMAP SEARCH
// cannot decide exactly.
//
//   MessageFacts facts;
//   facts.uid = 7;  facts.flags = {"\\Seen"};  facts.record = &record;
//   absl::StatusOr<bool> keep = Evaluate(*plan.residual, facts);
#ifndef IMAP_QUERY_EVALUATOR_H_
#define IMAP_QUERY_EVALUATOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "imap/mime/message_reader.h"
#include "imap/query/ast.h"

namespace imap::query {

// What a condition can look at for one message. The evaluator only reads
// it; `record` (if set) is borrowed and must outlive the Evaluate() call.
struct MessageFacts {
  uint32_t uid = 0;
  std::string folder;  // UTF-8
  uint32_t uid_validity = 0;
  // System flags (\Seen ...) and keywords, as FETCH FLAGS gives them. An
  // empty list cannot be told from "FLAGS not fetched": flag conditions
  // are never a missing-data error.
  std::vector<std::string> flags;
  absl::optional<absl::Time> internal_date;  // FETCH INTERNALDATE
  absl::optional<uint64_t> size;             // FETCH RFC822.SIZE
  // Gmail (X-GM-EXT-1): labels in UTF-8 (system labels as "\Inbox"),
  // message and conversation ids; unset when not fetched.
  absl::optional<std::vector<std::string>> gmail_labels;
  absl::optional<uint64_t> gmail_msgid;
  absl::optional<uint64_t> gmail_thread_id;
  // The message read by imap::mime (header only, or the whole message);
  // null when only FLAGS etc. were fetched.
  const imap::mime::MessageRecord *record = nullptr;
};

// Returns whether `expr` holds for the message, with the semantics of
// docs/query.md. The decisions the document leaves open:
//
//  - Text `=` (and IN, and `!=` which is NOT `=`) compares bytes exactly,
//    case-sensitively, as SQL does; except where the value itself is
//    case-insensitive: e-mail addresses, attachment content types, flags
//    and keywords, and the folder name INBOX.
//  - CONTAINS and LIKE fold case: ASCII, Latin-1, Latin Extended-A, Latin
//    Extended Additional (Vietnamese; capital sharp s U+1E9E -> U+00DF),
//    Greek (final sigma folds to sigma) and Cyrillic, one code point to one
//    code point. No full case folding and no normalisation: 'GRÜSSE' does
//    not match 'Grüße' (write 'GRÜßE'), and a precomposed 'ü' does not
//    match 'u' + U+0308. Invalid UTF-8 bytes only match themselves.
//  - LIKE: '%' is any run of characters, '_' one character (code point);
//    there is no escape character (a backslash is literal). Linear memory,
//    at most O(value * pattern) time.
//  - Addresses: true if any mailbox matches, by its address or by its
//    display name (never a span of both; the group name is not matched).
//    `=` compares addresses case-insensitively and names exactly; mailboxes
//    without a name are matched by address only.
//  - header('X'), body (the text body and the HTML body, as decoded text),
//    attachment_name (attachments without a file name are skipped) and
//    attachment_type: true if any of the values matches; `!=` is NOT `=`,
//    so a message with no such value satisfies `!=`. A missing text or
//    HTML body reads as "" (so `body CONTAINS ''` holds for every message).
//  - Lists: flags holds the flags starting with '\', keywords the others.
//    On flags, keywords, references and gmail_labels CONTAINS means "has
//    this element" (case-insensitively) and IN "has one of these"; on
//    defects (each rendered "where: what") CONTAINS is a substring match.
//  - gmail_raw is a Gmail search only the server can run: evaluating it is
//    FAILED_PRECONDITION (the compiler never leaves it to the client).
//  - Timestamps compare as instants; a date-only literal is the whole UTC
//    day [D, D+1): `=` inside it, `!=` outside, `>=` from D, `>` from D+1,
//    `<` before D, `<=` before D+1. A message whose Date header could not
//    be read fails every `date` comparison, `!=` included.
//
// Errors (checked on the whole expression before any of it is evaluated,
// so they do not depend on the message's values):
//  - FAILED_PRECONDITION naming the field when its data was not fetched:
//    record == nullptr for header and body fields, size, internal_date or
//    a gmail_* value unset. The compiler's FETCH plan provides these for every residual
//    check, so this signals a bug in the caller.
//  - INVALID_ARGUMENT for an expression the parser cannot produce (unknown
//    field, operator or literal kind that does not fit the field, NOT
//    without exactly one child, no values).
// Thread-safe. Time: linear in the data for =, IN and comparisons; at most
// O(value length * pattern length) for CONTAINS and LIKE.
absl::StatusOr<bool> Evaluate(const Expr &expr, const MessageFacts &facts);

// Returns the fields `expr` looks at, sorted and without duplicates:
// column names, "header", "body", "attachment_name", "attachment_type",
// and "flags" for the bare flags (seen, ...).
std::vector<std::string> FieldsUsed(const Expr &expr);

}  // namespace imap::query

#endif  // IMAP_QUERY_EVALUATOR_H_
