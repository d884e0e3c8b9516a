#include "server/acknowledge.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "imap/records/query_runner.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "imap/wire/sequence_set.h"
#include "server/imap_connect.h"
#include "server/status_convert.h"

namespace server {

bool HasPostActions(const connector::v1::PostActions& a) {
  return a.mark_seen() || a.add_keywords_size() > 0 || !a.move_to().empty() || a.delete_();
}

absl::StatusOr<AckResult> RunAcknowledge(const connector::v1::Connection& connection,
                                         const imap::query::Plan& plan,
                                         const imap::records::Cursor& previous,
                                         const imap::records::Cursor& cursor,
                                         const connector::v1::PostActions& actions,
                                         absl::Time deadline, StreamControl* control) {
  AckResult result;
  result.acknowledged = previous;
  std::unique_ptr<imap::Session> session;
  // Declared after the session: detaches before the transport goes away.
  std::optional<AttachedTransport> attached;
  std::vector<std::string> flags;
  if (actions.mark_seen()) flags.push_back("\\Seen");
  for (const std::string& k : actions.add_keywords()) flags.push_back(k);

  for (const auto& [folder, to] : cursor.folders()) {
    const imap::records::FolderPosition* from = previous.Find(folder);
    const uint32_t after =
        from != nullptr && from->uid_validity == to.uid_validity ? from->last_uid : 0;
    if (to.last_uid <= after) continue;  // acknowledged already
    if (HasPostActions(actions)) {
      if (session == nullptr) {
        IMAPC_ASSIGN_OR_RETURN(session, OpenSession(connection, deadline));
        attached.emplace(control, &session->transport());
      }
      imap::records::RunOptions options;
      options.read_write = true;
      options.uid_after = after;
      options.uid_upto = to.last_uid;
      options.start_after = [&, &to = to](const imap::MailboxInfo& box) -> absl::StatusOr<uint32_t> {
        if (box.uid_validity != to.uid_validity) {
          return absl::FailedPreconditionError(absl::StrCat(
              "folder ", Quote(folder, '"'), " has UIDVALIDITY ", box.uid_validity, ", the cursor's is ",
              to.uid_validity, ": its messages were renumbered, so nothing was changed there"));
        }
        return after;
      };
      imap::wire::UidSet uids;
      IMAPC_RETURN_IF_ERROR(imap::records::RunOnFolder(*session, plan, folder, options,
                                                       [&](const imap::records::FetchedMessage& m) {
                                                         uids.Add(m.facts.uid);
                                                         return true;
                                                       })
                                .status());
      if (!uids.empty()) {
        if (!flags.empty()) {
          IMAPC_RETURN_IF_ERROR(imap::Annotate(session->UidStore(uids, "+FLAGS.SILENT", flags),
                                               absl::StrCat("marking in ", Quote(folder, '"'))));
        }
        if (!actions.move_to().empty()) {
          IMAPC_RETURN_IF_ERROR(imap::Annotate(session->UidMove(uids, actions.move_to()).status(),
                                               absl::StrCat("moving from ", Quote(folder, '"'))));
        } else if (actions.delete_()) {
          if (!session->HasCapability("UIDPLUS")) {
            return absl::FailedPreconditionError(
                "the server has no UIDPLUS, so deleting only the acknowledged messages is not "
                "possible (a plain EXPUNGE could remove others)");
          }
          IMAPC_RETURN_IF_ERROR(imap::Annotate(session->UidStore(uids, "+FLAGS.SILENT", {"\\Deleted"}),
                                               absl::StrCat("deleting in ", Quote(folder, '"'))));
          IMAPC_RETURN_IF_ERROR(imap::Annotate(session->UidExpunge(uids),
                                               absl::StrCat("expunging in ", Quote(folder, '"'))));
        }
        result.messages_changed += uids.size();
      }
    }
    result.acknowledged.Advance(folder, to.uid_validity, to.last_uid, to.modseq);
  }
  if (session != nullptr) (void)session->Logout();  // the changes are done either way
  return result;
}

}  // namespace server
