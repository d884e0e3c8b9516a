// Cursors leave the server sealed: bound to the name of their connection
// and authenticated with an HMAC-SHA256 under a server key, so that a
// client can neither forge a position nor hand one connection's cursor to
// another. The engine's cursor (imap/records/cursor.h) stays inside as it is.
//
//   absl::StatusOr<CursorSealer> sealer = CursorSealer::Load(key_file, data_dir);
//   std::string token = sealer->Seal("sales", cursor.Encode());   // to the client
//   absl::StatusOr<std::string> raw = sealer->Open("sales", token);  // back
#ifndef SERVER_CURSOR_SEAL_H_
#define SERVER_CURSOR_SEAL_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace server {

// Immutable after construction, so thread-safe.
class CursorSealer {
 public:
  // Keys shorter than this are refused (a guessable key forges cursors).
  static constexpr size_t kMinKeyBytes = 16;
  // The file under the data directory that holds the generated key.
  static constexpr char kKeyFileName[] = "cursor-keys";

  // The first of `keys` seals; all of them open (key rotation: put the new
  // key first and keep the old one until its cursors are no longer used).
  // REQUIRES: !keys.empty(), each at least kMinKeyBytes.
  explicit CursorSealer(std::vector<std::string> keys);

  // One random key: cursors are valid only while this object lives.
  static CursorSealer WithRandomKey();

  // The keys of `key_file` when it is not empty (an operator's secret,
  // e.g. a mounted Kubernetes Secret shared by replicas); otherwise those of
  // DATA_DIR/cursor-keys, which is created with one random key (mode 0600)
  // on first start (race-free: of several processes starting at once over
  // one shared data directory, one key wins and all use it). Errors name
  // the file: NOT_FOUND, INVALID_ARGUMENT for a
  // file without a usable key, INTERNAL for I/O failures.
  static absl::StatusOr<CursorSealer> Load(const std::string& key_file, const std::string& data_dir);

  // The keys in a key file: one per line, used as they are (so any secret
  // string works, e.g. `openssl rand -base64 32`); blank lines and lines
  // starting with '#' are skipped. INVALID_ARGUMENT for a short key or none.
  static absl::StatusOr<std::vector<std::string>> ParseKeys(absl::string_view text);

  // `cursor` (an engine cursor) sealed for `connection`; "" stays "" (the
  // start of the mailbox needs no protection).
  std::string Seal(absl::string_view connection, absl::string_view cursor) const;

  // The engine cursor inside `token` when it was sealed by one of our keys
  // for `connection`; "" for "". An unsealed cursor of the format before
  // sealing (no signature) is returned unchanged for one release, with a
  // deprecation warning logged once per process. INVALID_ARGUMENT (a message
  // without the field name; the caller names it) for a cursor sealed for
  // another connection, changed, or sealed with a key we no longer have.
  absl::StatusOr<std::string> Open(absl::string_view connection, absl::string_view token) const;

 private:
  std::string Tag(const std::string& key, absl::string_view connection,
                  absl::string_view cursor) const;

  std::vector<std::string> keys_;
};

}  // namespace server

#endif  // SERVER_CURSOR_SEAL_H_
