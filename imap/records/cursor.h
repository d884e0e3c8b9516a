// A position in a stream of records: for each folder read so far, its
// UIDVALIDITY and the last UID delivered. Encoded as an opaque, URL-safe
// string that clients hand back to resume or acknowledge.
//
//   Cursor c;
//   c.Advance("INBOX", 1700000000, 42);
//   std::string token = c.Encode();
//   absl::StatusOr<Cursor> back = Cursor::Decode(token);
#ifndef IMAP_RECORDS_CURSOR_H_
#define IMAP_RECORDS_CURSOR_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace imap::records {

struct FolderPosition {
  uint32_t uid_validity = 0;
  // Every message with a UID up to this one is behind the position.
  uint32_t last_uid = 0;
  // The folder's HIGHESTMODSEQ when it was read (0 without CONDSTORE).
  uint64_t modseq = 0;

  bool operator==(const FolderPosition& o) const {
    return uid_validity == o.uid_validity && last_uid == o.last_uid && modseq == o.modseq;
  }
};

class Cursor {
 public:
  // Moves `folder`'s position to `uid` (never backwards within the same
  // UIDVALIDITY; a new UIDVALIDITY starts over).
  void Advance(const std::string& folder, uint32_t uid_validity, uint32_t uid, uint64_t modseq = 0);

  // The position in `folder`, or null if the cursor has none.
  const FolderPosition* Find(const std::string& folder) const;
  void Forget(const std::string& folder) { folders_.erase(folder); }

  const std::map<std::string, FolderPosition>& folders() const { return folders_; }
  bool empty() const { return folders_.empty(); }

  // "" for an empty cursor.
  std::string Encode() const;
  // Reads what Encode() wrote. "" gives an empty cursor. INVALID_ARGUMENT
  // (saying what is wrong) for anything else.
  static absl::StatusOr<Cursor> Decode(absl::string_view text);

  bool operator==(const Cursor& o) const { return folders_ == o.folders_; }

 private:
  std::map<std::string, FolderPosition> folders_;
};

}  // namespace imap::records

#endif  // IMAP_RECORDS_CURSOR_H_
