#include "imap/records/cursor.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace imap::records {
namespace {

// Format: "c1." then the base64url (unpadded) of the payload
//   folder '\t' uidvalidity '\t' last_uid '\t' modseq ('\n' next folder)*
// Tabs and newlines cannot occur in folder names we accept (they are
// control characters), so the payload needs no escaping.
constexpr absl::string_view kPrefix = "c1.";
constexpr size_t kMaxEncodedBytes = 1 << 20;

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("cursor is not valid: ", why));
}

}  // namespace

void Cursor::Advance(const std::string& folder, uint32_t uid_validity, uint32_t uid,
                     uint64_t modseq) {
  FolderPosition& p = folders_[folder];
  if (p.uid_validity != uid_validity) p = FolderPosition{uid_validity, 0, 0};
  if (uid > p.last_uid) p.last_uid = uid;
  if (modseq > p.modseq) p.modseq = modseq;
}

const FolderPosition* Cursor::Find(const std::string& folder) const {
  auto it = folders_.find(folder);
  return it == folders_.end() ? nullptr : &it->second;
}

std::string Cursor::Encode() const {
  if (folders_.empty()) return "";
  std::vector<std::string> lines;
  for (const auto& [folder, p] : folders_) {
    lines.push_back(absl::StrCat(folder, "\t", p.uid_validity, "\t", p.last_uid, "\t", p.modseq));
  }
  std::string encoded;
  absl::WebSafeBase64Escape(absl::StrJoin(lines, "\n"), &encoded);
  return absl::StrCat(kPrefix, encoded);
}

absl::StatusOr<Cursor> Cursor::Decode(absl::string_view text) {
  Cursor cursor;
  if (text.empty()) return cursor;
  if (text.size() > kMaxEncodedBytes) return Bad("longer than 1 MiB");
  if (!absl::StartsWith(text, kPrefix)) {
    return Bad("it does not start with \"c1.\" (give a cursor exactly as the server sent it)");
  }
  std::string payload;
  if (!absl::WebSafeBase64Unescape(text.substr(kPrefix.size()), &payload)) {
    return Bad("it is not base64url after \"c1.\"");
  }
  for (absl::string_view line : absl::StrSplit(payload, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
    uint32_t uid_validity = 0, uid = 0;
    uint64_t modseq = 0;
    if (fields.size() != 4 || fields[0].empty() || !absl::SimpleAtoi(fields[1], &uid_validity) ||
        !absl::SimpleAtoi(fields[2], &uid) || !absl::SimpleAtoi(fields[3], &modseq) ||
        uid_validity == 0) {
      return Bad("a folder entry is damaged");
    }
    const std::string folder(fields[0]);
    if (cursor.folders_.count(folder) > 0) return Bad("a folder appears twice");
    cursor.folders_[folder] = FolderPosition{uid_validity, uid, modseq};
  }
  return cursor;
}

}  // namespace imap::records
