// Runs a compiled query on one folder of a session: SEARCH on the server,
// FETCH of what the columns need (bodies streamed into the MIME reader),
// then the client-side check of what SEARCH could not express. Yields one
// record per matching message, in UID order.
//
//   absl::StatusOr<FolderResult> r = RunOnFolder(session, plan, "INBOX", RunOptions(),
//       [](const FetchedMessage& m) { Use(m); return true; /* false stops */ });
#ifndef IMAP_RECORDS_QUERY_RUNNER_H_
#define IMAP_RECORDS_QUERY_RUNNER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "imap/mime/message_reader.h"
#include "imap/query/compiler.h"
#include "imap/query/evaluator.h"
#include "imap/session/session.h"
#include "imap/wire/fetch_data.h"

namespace imap::records {

struct FetchedMessage {
  // UID, flags, dates, size; `facts.record` points at `record` when the
  // plan fetched headers or the message, else it is null.
  query::MessageFacts facts;
  mime::MessageRecord record;
  // The message as stored, when RunOptions::keep_raw.
  std::string raw;
  // The BODYSTRUCTURE, when the plan asked for it.
  absl::optional<wire::BodyStructure> body_structure;
};

// The most UID ranges one UID FETCH names: "4294967290:4294967295," is 22
// bytes, so a command stays under 4.5 KB, well within the 8 KB some
// servers allow a line, however sparse the UIDs.
constexpr size_t kMaxRangesPerFetch = 200;

struct RunOptions {
  // UIDs per UID FETCH command (RunOnFolder sends one at a time).
  uint64_t batch_size = 200;
  mime::ReaderOptions reader;
  // Only messages with a UID above this one (resuming after a cursor).
  uint32_t uid_after = 0;
  // If set, called once the folder is open; returns the UID to start after
  // (replacing uid_after), or an error that ends the run (e.g. the
  // folder's UIDVALIDITY is not the one expected).
  std::function<absl::StatusOr<uint32_t>(const MailboxInfo&)> start_after;
  // Only messages with a UID up to this one.
  uint32_t uid_upto = UINT32_MAX;
  // Open the folder read-write (SELECT) instead of read-only (EXAMINE),
  // for callers that change the messages afterwards.
  bool read_write = false;
  // Only messages with uid % shard_count == shard_index.
  uint32_t shard_count = 1;
  uint32_t shard_index = 0;
  // Keep the fetched message bytes in FetchedMessage::raw.
  bool keep_raw = false;
};

struct FolderResult {
  std::string folder;
  uint32_t uid_validity = 0;
  uint32_t exists = 0;             // messages in the folder
  uint64_t highest_modseq = 0;     // 0 without CONDSTORE
  uint64_t matched_by_search = 0;  // UIDs SEARCH answered (after uid_after and sharding)
  uint32_t highest_searched_uid = 0;  // the largest of those, 0 if none
  uint64_t emitted = 0;            // records passed to the callback
};

// Examines `folder` (read-only: nothing is marked seen) and runs `plan` on
// it. `on_message` returns false to stop early. Errors come from the
// session (annotated with the folder) or from a residual check that lacks
// its data (FAILED_PRECONDITION: a planning bug).
absl::StatusOr<FolderResult> RunOnFolder(
    Session& session, const query::Plan& plan, absl::string_view folder, const RunOptions& options,
    const std::function<bool(const FetchedMessage&)>& on_message);

// The two halves of RunOnFolder, for callers that fetch with several
// sessions: opening the folder and searching it (uid_after, uid_upto and
// sharding applied), then fetching a set of the UIDs found.
struct FolderSearch {
  FolderResult result;  // emitted stays 0
  wire::UidSet uids;
};
absl::StatusOr<FolderSearch> SearchFolder(Session& session, const query::Plan& plan,
                                          absl::string_view folder, const RunOptions& options);

// Fetches `uids` from the folder open in `session` and calls `on_message`
// for each message that passes the plan's residual check, in UID order,
// until it returns false.
absl::Status FetchMatching(Session& session, const query::Plan& plan, const std::string& folder,
                           uint32_t uid_validity, const wire::UidSet& uids,
                           const RunOptions& options,
                           const std::function<bool(FetchedMessage&)>& on_message);

// The sections of the text and HTML bodies a mail client would show
// ("" when there is none): the first text/plain and text/html leaves that
// are neither attachments nor named files, outside forwarded messages.
struct TextSections {
  std::string text, html;
};
TextSections ChooseTextSections(const wire::BodyStructure& root);

// The role of a folder as queries name it ("\Sent" for FROM role:sent):
// its special-use attribute (RFC 6154, or Gmail's \Important), "\Inbox"
// for INBOX, "" for none.
std::string FolderRole(const ListEntry& entry);

// The folders a query names, in order and without repeats: names with the
// wildcards * and % are expanded with LIST ('/' in them stands for the
// server's hierarchy separator; folders that cannot be selected are
// skipped), roles (a name starting with a backslash: "\Sent", "\Trash",
// "\All", "\Archive", "\Drafts", "\Junk", "\Flagged", "\Important")
// become every selectable folder whose LIST attributes carry them (RFC 6154
// SPECIAL-USE; Gmail's "[Gmail]/Sent Mail" is \Sent) and "\Inbox" is
// INBOX, other names are taken as given, and none means `default_folder`.
// Errors: the session's; NOT_FOUND naming the role for an unknown role or
// one no folder has.
absl::StatusOr<std::vector<std::string>> ResolveFolders(Session& session,
                                                        const std::vector<std::string>& names,
                                                        absl::string_view default_folder);

// OK unless `plan` uses something only Gmail answers (Plan::gmail_fields)
// and the server does not offer X-GM-EXT-1: then FAILED_PRECONDITION
// "gmail_labels needs a Gmail server (X-GM-EXT-1); ...". SearchFolder (and
// so RunOnFolder) checks this first.
absl::Status CheckServerSupports(const Session& session, const query::Plan& plan);

// The plan's SEARCH criteria for Session::UidSearch.
Session::SearchCriteria ToCriteria(const query::Plan& plan);

}  // namespace imap::records

#endif  // IMAP_RECORDS_QUERY_RUNNER_H_
