// Durable storage of connections under the server's data directory: one
// JSON file, replaced atomically on every change (write a temporary file,
// fsync, rename, fsync the directory), readable by the server's user only.
// With a SecretBox, secrets are sealed in that file (see "Secrets at rest").
//
//   absl::StatusOr<std::unique_ptr<ConnectionStore>> store = ConnectionStore::Open("/data");
//   (*store)->Put(connection);
#ifndef SERVER_CONNECTION_STORE_H_
#define SERVER_CONNECTION_STORE_H_

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
struct ConnectionStoreOptions {
  // Seals secrets on write and opens them on load. Unset: clear text.
  std::optional<SecretBox> secrets;
};

// Thread-safe.
class ConnectionStore {
 public:
  // Opens (creating if needed, mode 0700) `data_dir` and loads the store.
  // Fails if the store file exists but cannot be read or parsed: a store
  // is never silently replaced by an empty one. Fails without writing
  // anything when a value is sealed with a key `options.secrets` lacks (or
  // there are no secrets): FAILED_PRECONDITION naming every missing key
  // id; and when a sealed value is malformed, truncated or does not
  // authenticate: DATA_LOSS naming the connection and the field. With
  // secrets, clear values (a store written before sealing, or without a
  // key) and values sealed with another key than the first are sealed with
  // the first key at once; if that write fails, a warning is logged and the
  // store stays as it is on disk until the next write.
  static absl::StatusOr<std::unique_ptr<ConnectionStore>> Open(const std::string& data_dir,
                                                                 ConnectionStoreOptions options = {});

  // The stored connection, password included. NOT_FOUND if absent.
  absl::StatusOr<connector::v1::Connection> Get(const std::string& name) const;

  // Every stored connection, sorted by name, passwords included.
  std::vector<connector::v1::Connection> List() const;

  // Stores `connection` under its name, replacing any other of that name;
  // durable when this returns OK. *replaced (if given) says whether one
  // was replaced. On error the store is unchanged, on disk and in memory.
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

  // Records `cursor` as the connection's last acknowledged cursor
  // (Connection.last_ack_cursor), durably. NOT_FOUND if absent.
  absl::Status SetAckCursor(const std::string& name, const std::string& cursor);
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

  ConnectionStore(std::string dir, std::string path, std::optional<SecretBox> secrets)
      : dir_(std::move(dir)), path_(std::move(path)), secrets_(std::move(secrets)) {}
  // Reads the store file, opening sealed values. *needs_sealing (when
  // given) says whether some value is clear or sealed with a key that does
  // not seal while secrets_ is set.
  absl::Status Load(bool* needs_sealing) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `connections` to the store file, sealing their secrets.
  absl::Status Save(const std::map<std::string, connector::v1::Connection>& connections)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `connections` as JSON to `path` atomically and durably.
  absl::Status WriteFile(const std::string& path,
                         const std::map<std::string, connector::v1::Connection>& connections) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::map<std::string, connector::v1::Connection>> ReadFile(
      const std::string& path) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const std::string path_;
  const std::optional<SecretBox> secrets_;
  mutable absl::Mutex mu_;
  SealedCache sealed_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, connector::v1::Connection> connections_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, connector::v1::Connection> declared_ ABSL_GUARDED_BY(mu_);
};

}  // namespace server

#endif  // SERVER_CONNECTION_STORE_H_
