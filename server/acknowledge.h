// Acknowledge's work: run the post-actions (mark seen, add keywords, move,
// delete) on the messages a query matched between the last acknowledged
// position and a new cursor, folder by folder.
//
//   absl::StatusOr<AckResult> r = RunAcknowledge(connection, plan, last_ack, cursor, actions, deadline);
#ifndef SERVER_ACKNOWLEDGE_H_
#define SERVER_ACKNOWLEDGE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"
#include "imap/query/compiler.h"
#include "imap/records/cursor.h"
#include "server/record_stream.h"

namespace server {

struct AckResult {
  uint64_t messages_changed = 0;
  // `previous` moved forward to `cursor` (never backwards).
  imap::records::Cursor acknowledged;
};

// Whether any action is asked for.
bool HasPostActions(const connector::v1::PostActions& actions);

// For each folder of `cursor`, the messages `plan` matches with UIDs after
// `previous`'s position (0 when it has none, or another UIDVALIDITY) and up
// to `cursor`'s get `actions`. Running it twice with the same arguments
// changes nothing the second time that the first did not. Errors:
// FAILED_PRECONDITION if a folder's UIDVALIDITY is not the cursor's (the
// UIDs would name other messages: nothing is changed in that folder), or
// the server lacks what delete needs (UIDPLUS); the IMAP error otherwise.
// `control` (optional) interrupts the IMAP connection when cancelled.
// REQUIRES: `connection` validated; `actions` validated.
absl::StatusOr<AckResult> RunAcknowledge(const connector::v1::Connection& connection,
                                         const imap::query::Plan& plan,
                                         const imap::records::Cursor& previous,
                                         const imap::records::Cursor& cursor,
                                         const connector::v1::PostActions& actions,
                                         absl::Time deadline, StreamControl* control = nullptr);

}  // namespace server

#endif  // SERVER_ACKNOWLEDGE_H_
