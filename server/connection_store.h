// Durable storage of connections under the server's data directory: one
// JSON file, replaced atomically on every change (write a temporary file,
// fsync, rename, fsync the directory), readable by the server's user only.
//
//   absl::StatusOr<std::unique_ptr<ConnectionStore>> store = ConnectionStore::Open("/data");
//   (*store)->Put(connection);
#ifndef SERVER_CONNECTION_STORE_H_
#define SERVER_CONNECTION_STORE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "connector/v1/connector.pb.h"

namespace server {

// Thread-safe.
class ConnectionStore {
 public:
  // Opens (creating if needed, mode 0700) `data_dir` and loads the store.
  // Fails if the store file exists but cannot be read or parsed: a store
  // is never silently replaced by an empty one.
  static absl::StatusOr<std::unique_ptr<ConnectionStore>> Open(const std::string& data_dir);

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
  ConnectionStore(std::string dir, std::string path) : dir_(std::move(dir)), path_(std::move(path)) {}
  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Save(const std::map<std::string, connector::v1::Connection>& connections) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `connections` as JSON to `path` atomically and durably.
  absl::Status WriteFile(const std::string& path,
                         const std::map<std::string, connector::v1::Connection>& connections) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::map<std::string, connector::v1::Connection>> ReadFile(
      const std::string& path) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string dir_;
  const std::string path_;
  mutable absl::Mutex mu_;
  std::map<std::string, connector::v1::Connection> connections_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, connector::v1::Connection> declared_ ABSL_GUARDED_BY(mu_);
};

}  // namespace server

#endif  // SERVER_CONNECTION_STORE_H_
