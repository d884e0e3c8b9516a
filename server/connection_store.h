// Durable storage of connections under the server's data directory: one
// JSON file, replaced atomically on every change (write a temporary file,
// fsync, rename, fsync the directory), readable by the server's user only.
// With a SecretBox, secrets are sealed in that file (see "Secrets at rest").
// Several server processes may share one data directory (replicas on one
// ReadWriteMany volume): see "Several processes".
//
//   absl::StatusOr<std::unique_ptr<ConnectionStore>> store = ConnectionStore::Open("/data");
//   (*store)->Put(connection);
#ifndef SERVER_CONNECTION_STORE_H_
#define SERVER_CONNECTION_STORE_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "connector/v1/connector.pb.h"
#include "server/secret_box.h"

namespace server {

// Secrets at rest. The secret fields of a stored connection are
//   password
//   oauth2.static_token.access_token
//   oauth2.refresh_token_grant.refresh_token
//   oauth2.refresh_token_grant.client_secret
//   oauth2.client_credentials.client_secret
//   oauth2.client_credentials.client_private_key_pem
// With a SecretBox each non-empty one is stored in place of its clear value
// as "sealed:v1:<key id>:<base64url(nonce || ciphertext || tag)>"
// (AES-256-GCM; the associated data binds it to the connection's name and
// the field path above; format in server/secret_box.h). Other fields,
// names and cursors stay clear: an orchestrator's admin may read them. A
// sealed value is kept byte for byte across writes while its clear value
// and the sealing key stay the same (no fresh nonce for every acknowledged
// cursor); a changed value, or one sealed with a key that no longer seals,
// is sealed anew with the first key on the next write. Without a SecretBox
// the values are stored clear, as before sealing existed (a clear value
// starting with "sealed:" is escaped, see SecretBox::StoreClear).
//
// Several processes. Every change is a read-modify-write under an
// exclusive POSIX record lock (fcntl, open file description locks where
// the kernel has them) on DATA_DIR/store.lock: the file is read again under
// the lock, changed and replaced, so two processes never lose each other's
// change. NFSv4 (and EFS, Azure Files NFS, CephFS) carry these locks to the
// server; flock() is not used because NFS clients may keep it local. Reads
// take no lock: a file is only ever replaced whole by rename, so a reader
// sees one complete version; each read opens the file (which, on NFS,
// revalidates it: close-to-open consistency) and reloads it when its
// identity (device, inode, size, modification and change times) differs
// from the version loaded. The version loaded is kept open, so that its
// inode number cannot be reused by the next version on a local file system.
// Acknowledged cursors are merged under the lock, so a position never moves
// backwards when two processes acknowledge at once.
struct ConnectionStoreOptions {
  // Seals secrets on write and opens them on load. Unset: clear text.
  std::optional<SecretBox> secrets;
};

// Thread-safe; several processes may open the same directory.
class ConnectionStore {
 public:
  ~ConnectionStore();
  ConnectionStore(const ConnectionStore&) = delete;
  ConnectionStore& operator=(const ConnectionStore&) = delete;

  // Opens (creating if needed, mode 0700) `data_dir` and loads the store.
  // Fails if the store file exists but cannot be read or parsed: a store
  // is never silently replaced by an empty one. Fails without writing
  // anything when a value is sealed with a key `options.secrets` lacks (or
  // there are no secrets): FAILED_PRECONDITION naming every missing key
  // id; and when a sealed value is malformed, truncated or does not
  // authenticate: DATA_LOSS naming the connection and the field. With
  // secrets, clear values (a store written before sealing, or without a
  // key) and values sealed with another key than the first are sealed with
  // the first key at once (under the store's lock, like every write); if
  // that write fails, a warning is logged and the store stays as it is on
  // disk until the next write.
  static absl::StatusOr<std::unique_ptr<ConnectionStore>> Open(const std::string& data_dir,
                                                                 ConnectionStoreOptions options = {});

  // The stored connection, password included, as another process may just
  // have written it. NOT_FOUND if absent; the error of reloading the store
  // file when another process replaced it and it cannot be read (e.g.
  // FAILED_PRECONDITION: sealed with a key this process lacks).
  absl::StatusOr<connector::v1::Connection> Get(const std::string& name) const;

  // Every stored connection, sorted by name, passwords included. When the
  // store file changed and cannot be reloaded, a warning is logged and the
  // version loaded last is listed.
  std::vector<connector::v1::Connection> List() const;

  // Stores `connection` under its name, replacing any other of that name;
  // durable when this returns OK. The stored connection's last_ack_cursor
  // is kept (only RecordAcknowledged moves it; `connection`'s is used for a
  // new name). *replaced (if given) says whether one was replaced. On
  // error the store is unchanged, on disk and in memory.
  absl::Status Put(const connector::v1::Connection& connection, bool* replaced = nullptr);

  // Changes the stored connection `name` in place, atomically with respect
  // to every other call: `change` sees the current value and may refuse
  // (its error is returned and nothing is written). Durable when OK.
  // NOT_FOUND if absent; FAILED_PRECONDITION for a declared connection.
  absl::Status Update(const std::string& name,
                      const std::function<absl::Status(connector::v1::Connection&)>& change);

  // Adds connections declared in a file by the operator (validated, with
  // passwords): served like stored ones, but read-only (Configure and
  // DeleteConnection refuse their names with FAILED_PRECONDITION) and not
  // written to the store file. Their acknowledged cursors are kept in
  // DATA_DIR/declared-acks.json. INVALID_ARGUMENT for a duplicate name.
  absl::Status Declare(const std::vector<connector::v1::Connection>& connections);
  bool IsDeclared(const std::string& name) const;

  // Moves the connection's last acknowledged cursor
  // (Connection.last_ack_cursor, an engine cursor) forward to `cursor`,
  // durably, and returns the position now stored: the stored cursor with
  // each folder of `cursor` advanced (imap::records::Cursor::Advance), so
  // that a folder never moves back within its UIDVALIDITY even when another
  // process acknowledged further meanwhile. A stored value that does not
  // decode is replaced by `cursor`. NOT_FOUND if absent.
  absl::StatusOr<std::string> RecordAcknowledged(const std::string& name, const std::string& cursor);
  // Removes a connection. NOT_FOUND if absent.
  absl::Status Delete(const std::string& name);

  // The store file's path.
  const std::string& path() const { return path_; }

 private:
  // A secret field's value as stored, beside the clear value it seals.
  struct SealedValue {
    std::string clear;
    std::string stored;
  };
  // (connection name, field path) -> its sealed value as last written.
  using SealedCache = std::map<std::pair<std::string, std::string>, SealedValue>;
  using ConnectionMap = std::map<std::string, connector::v1::Connection>;

  // One version of a file, as fstat tells it apart from the next.
  struct FileVersion {
    bool exists = false;
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t modified_ns = 0;
    int64_t changed_ns = 0;
    bool operator==(const FileVersion& o) const;
  };
  // A file this process reads and replaces, and the version it loaded
  // (kept open: see "Several processes").
  struct WatchedFile {
    std::string path;
    FileVersion version;
    int fd = -1;
    void Replace(FileVersion v, int new_fd);
  };
  // A file's contents and the version they are from (fd open on it, or -1).
  struct FileContents {
    FileVersion version;
    int fd = -1;
    std::string data;
  };

  ConnectionStore(std::string dir, std::string path, std::optional<SecretBox> secrets);
  // Reads the store file when another process replaced it since it was
  // loaded (always with `force`), opening sealed values. *needs_sealing
  // (when given) says whether some value is clear or sealed with a key
  // that does not seal while secrets_ is set.
  absl::Status Load(bool force, bool* needs_sealing) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads DATA_DIR/declared-acks.json when it changed (always with `force`).
  absl::Status LoadAcks(bool force) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `connections` to the store file, sealing their secrets.
  // REQUIRES: the store's file lock is held.
  absl::Status Save(const ConnectionMap& connections) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `connections` as JSON over `file` atomically and durably, and
  // makes the written version the one `file` knows.
  absl::Status WriteFile(WatchedFile& file, const ConnectionMap& connections) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `file`'s contents when its version differs from the one loaded (or
  // `force`); nullopt when unchanged. A missing file reads as empty.
  absl::StatusOr<std::optional<FileContents>> ReadIfChanged(const WatchedFile& file, bool force) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<ConnectionMap> Parse(const std::string& path, const std::string& data) const;
  // Takes the exclusive lock on DATA_DIR/store.lock that every write holds;
  // blocks while another process holds it.
  absl::Status LockFiles() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnlockFiles() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `change` under the file lock, after reloading what changed.
  absl::Status Locked(const std::function<absl::Status()>& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const std::string path_;
  const std::optional<SecretBox> secrets_;
  int lock_fd_ = -1;
  mutable absl::Mutex mu_;
  // Reloading on read changes these in const methods.
  mutable WatchedFile store_file_ ABSL_GUARDED_BY(mu_);
  mutable WatchedFile acks_file_ ABSL_GUARDED_BY(mu_);
  mutable SealedCache sealed_ ABSL_GUARDED_BY(mu_);
  mutable ConnectionMap connections_ ABSL_GUARDED_BY(mu_);
  // Declared connection name -> its last acknowledged cursor, as in
  // declared-acks.json (which may name connections this process does not
  // declare: replicas in the middle of a rollout; they are kept).
  mutable std::map<std::string, std::string> acks_ ABSL_GUARDED_BY(mu_);
  ConnectionMap declared_ ABSL_GUARDED_BY(mu_);
};

}  // namespace server

#endif  // SERVER_CONNECTION_STORE_H_
