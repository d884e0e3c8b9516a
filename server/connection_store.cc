#include "server/connection_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "imap/records/cursor.h"
#include "imap/util/status_macros.h"
#include "server/log.h"
#include "server/status_convert.h"

namespace server {
namespace {

using connector::v1::Connection;
using connector::v1::OAuth2;

constexpr char kStoreFile[] = "connections.json";
constexpr char kTempPrefix[] = "connections.json.tmp.";
constexpr char kDeclaredAcksFile[] = "declared-acks.json";
constexpr char kLockFile[] = "store.lock";

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path);
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  const int rc = fsync(fd);
  close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("cannot fsync", path);
}

// Whether this process is in group `gid` (effective or supplementary).
bool IsOurGroup(gid_t gid) {
  if (gid == getegid()) return true;
  const int n = getgroups(0, nullptr);
  if (n <= 0) return false;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  const int got = getgroups(n, groups.data());
  for (int i = 0; i < got; ++i) {
    if (groups[static_cast<size_t>(i)] == gid) return true;
  }
  return false;
}

// Calls `f(field_path, value)` for each secret field of `c` that its OAuth
// source can hold (the list in connection_store.h), stopping at the first
// error. A new secret field of Connection must be added here.
template <typename F>
absl::Status ForEachSecret(Connection& c, F f) {
  IMAPC_RETURN_IF_ERROR(f("password", c.mutable_password()));
  if (!c.has_oauth2()) return absl::OkStatus();
  OAuth2& oauth2 = *c.mutable_oauth2();
  switch (oauth2.source_case()) {
    case OAuth2::kStaticToken:
      return f("oauth2.static_token.access_token", oauth2.mutable_static_token()->mutable_access_token());
    case OAuth2::kRefreshTokenGrant: {
      OAuth2::RefreshTokenGrant& grant = *oauth2.mutable_refresh_token_grant();
      IMAPC_RETURN_IF_ERROR(f("oauth2.refresh_token_grant.refresh_token", grant.mutable_refresh_token()));
      return f("oauth2.refresh_token_grant.client_secret", grant.mutable_client_secret());
    }
    case OAuth2::kClientCredentials: {
      OAuth2::ClientCredentialsGrant& grant = *oauth2.mutable_client_credentials();
      IMAPC_RETURN_IF_ERROR(f("oauth2.client_credentials.client_secret", grant.mutable_client_secret()));
      return f("oauth2.client_credentials.client_private_key_pem", grant.mutable_client_private_key_pem());
    }
    case OAuth2::kTokenFile:
    case OAuth2::SOURCE_NOT_SET:
      break;
  }
  return absl::OkStatus();
}

int64_t Nanoseconds(const struct timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }

// `stored` with each folder of `acknowledged` advanced in it: a folder never
// moves back within its UIDVALIDITY, whatever order two processes' acks
// arrive in. A stored value that does not decode (changed by hand) gives way.
std::string MergeAcknowledged(const std::string& stored, const std::string& acknowledged) {
  absl::StatusOr<imap::records::Cursor> merged = imap::records::Cursor::Decode(stored);
  absl::StatusOr<imap::records::Cursor> add = imap::records::Cursor::Decode(acknowledged);
  if (!merged.ok() || !add.ok()) return acknowledged;
  for (const auto& [folder, position] : add->folders()) {
    merged->Advance(folder, position.uid_validity, position.last_uid, position.modseq);
  }
  return merged->Encode();
}

// Takes (`type` F_WRLCK) or releases (F_UNLCK) a lock on the whole of `fd`.
// Open file description locks belong to the descriptor, so two stores of
// one process exclude each other like two processes do; kernels before
// 3.15 lack them and get classic per-process POSIX locks.
int LockWhole(int fd, short type) {
  struct flock lock;
  std::memset(&lock, 0, sizeof(lock));
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  const int cmd = type == F_UNLCK ? F_SETLK : F_SETLKW;
#ifdef F_OFD_SETLKW
  const int ofd_cmd = type == F_UNLCK ? F_OFD_SETLK : F_OFD_SETLKW;
  while (true) {
    if (fcntl(fd, ofd_cmd, &lock) == 0) return 0;
    if (errno == EINTR) continue;
    if (errno != EINVAL) return -1;
    break;  // no OFD locks here: classic ones
  }
#endif
  while (true) {
    if (fcntl(fd, cmd, &lock) == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

absl::Status DeclaredError(const std::string& name) {
  return absl::FailedPreconditionError(absl::StrCat(
      "connection ", Quote(name),
      " is declared in the server's --connections_file; change it there, not through the API"));
}

}  // namespace

bool ConnectionStore::FileVersion::operator==(const FileVersion& o) const {
  return exists == o.exists && device == o.device && inode == o.inode && size == o.size &&
         modified_ns == o.modified_ns && changed_ns == o.changed_ns;
}

void ConnectionStore::WatchedFile::Replace(FileVersion v, int new_fd) {
  if (fd >= 0) close(fd);
  version = v;
  fd = new_fd;
}

ConnectionStore::ConnectionStore(std::string dir, std::string path, std::optional<SecretBox> secrets)
    : dir_(std::move(dir)), path_(std::move(path)), secrets_(std::move(secrets)) {
  absl::MutexLock lock(&mu_);
  store_file_.path = path_;
  acks_file_.path = absl::StrCat(dir_, "/", kDeclaredAcksFile);
}

ConnectionStore::~ConnectionStore() {
  absl::MutexLock lock(&mu_);
  store_file_.Replace(FileVersion(), -1);
  acks_file_.Replace(FileVersion(), -1);
  if (lock_fd_ >= 0) close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<ConnectionStore>> ConnectionStore::Open(const std::string& data_dir,
                                                                      ConnectionStoreOptions options) {
  if (data_dir.empty()) return absl::InvalidArgumentError("data directory is empty");
  if (mkdir(data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create data directory", data_dir);
  }
  struct stat st;
  if (stat(data_dir.c_str(), &st) != 0) return Errno("cannot stat", data_dir);
  if (!S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(absl::StrCat(data_dir, " is not a directory"));
  // The directory holds passwords and the cursor key: others must not even
  // list it. An existing one may have been made by hand with a loose mode.
  // Kubernetes mounts volumes owned by root, group-writable for the pod's
  // fsGroup: shared with our own group only, which is no leak.
  const bool group_is_ours_only = (st.st_mode & 007) == 0 && IsOurGroup(st.st_gid);
  if ((st.st_mode & 077) != 0 && !(st.st_uid != geteuid() && group_is_ours_only)) {
    const unsigned mode = st.st_mode & 0777;
    if (st.st_uid == geteuid() && chmod(data_dir.c_str(), 0700) == 0) {
      LogWarning(absl::StrFormat("data directory %s had mode %04o (open to other users); changed it to 0700",
                                 data_dir, mode));
    } else {
      LogWarning(absl::StrFormat(
          "data directory %s has mode %04o (open to other users) and is owned by uid %d, not by this "
          "process (uid %d), so it was left as it is; make it 0700 (chmod 700 %s)",
          data_dir, mode, static_cast<int>(st.st_uid), static_cast<int>(geteuid()), data_dir));
    }
  }

  std::unique_ptr<ConnectionStore> store(new ConnectionStore(
      data_dir, absl::StrCat(data_dir, "/", kStoreFile), std::move(options.secrets)));
  const std::string lock_path = absl::StrCat(data_dir, "/", kLockFile);
  store->lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (store->lock_fd_ < 0) return Errno("cannot open", lock_path);

  absl::MutexLock lock(&store->mu_);
  absl::Status s = store->Locked([&]() -> absl::Status {
    // Temporary files left by a crash mid-write were never renamed into
    // place; the store file is still the last complete version. Under the
    // lock, because another process writes its temporary file under it.
    if (DIR* d = opendir(data_dir.c_str())) {
      while (dirent* e = readdir(d)) {
        if (absl::StartsWith(e->d_name, kTempPrefix)) {
          unlink(absl::StrCat(data_dir, "/", e->d_name).c_str());
        }
      }
      closedir(d);
    }
    bool needs_sealing = false;
    IMAPC_RETURN_IF_ERROR(store->Load(/*force=*/true, &needs_sealing));
    if (needs_sealing) {
      // Clear secrets (or ones under a retired key) should not wait on disk
      // for the next Configure: seal them now.
      absl::Status sealed = store->Save(store->connections_);
      if (sealed.ok()) {
        LogInfo(absl::StrCat("store ", store->path_, ": secrets sealed with key ",
                             store->secrets_->sealing_key_id()));
      } else {
        LogWarning(absl::StrCat("store ", store->path_, ": cannot seal its secrets now (",
                                sealed.message(), "); they are sealed on the next successful write"));
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return store;
}

absl::Status ConnectionStore::LockFiles() const {
  if (LockWhole(lock_fd_, F_WRLCK) != 0) return Errno("cannot lock", absl::StrCat(dir_, "/", kLockFile));
  return absl::OkStatus();
}

void ConnectionStore::UnlockFiles() const { (void)LockWhole(lock_fd_, F_UNLCK); }

absl::Status ConnectionStore::Locked(const std::function<absl::Status()>& change) {
  IMAPC_RETURN_IF_ERROR(LockFiles());
  absl::Status s = change();
  UnlockFiles();
  return s;
}

absl::StatusOr<std::optional<ConnectionStore::FileContents>> ConnectionStore::ReadIfChanged(
    const WatchedFile& file, bool force) const {
  FileContents out;
  // A fresh open, not a stat of the path: on NFS, open revalidates the
  // name, where stat may answer from the attribute cache.
  const int fd = open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) return Errno("cannot open", file.path);
    if (!force && !file.version.exists) return std::optional<FileContents>();
    return std::optional<FileContents>(std::move(out));  // a new store: empty
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const absl::Status s = Errno("cannot stat", file.path);
    close(fd);
    return s;
  }
  out.version.exists = true;
  out.version.device = st.st_dev;
  out.version.inode = st.st_ino;
  out.version.size = st.st_size;
  out.version.modified_ns = Nanoseconds(st.st_mtim);
  out.version.changed_ns = Nanoseconds(st.st_ctim);
  if (!force && out.version == file.version) {
    close(fd);
    return std::optional<FileContents>();
  }
  char buf[65536];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const absl::Status s = Errno("cannot read", file.path);
      close(fd);
      return s;
    }
    if (n == 0) break;
    out.data.append(buf, static_cast<size_t>(n));
  }
  // Tighten permissions of a file written by an older or careless copy.
  if ((st.st_mode & 077) != 0) (void)fchmod(fd, 0600);
  out.fd = fd;
  return std::optional<FileContents>(std::move(out));
}

absl::StatusOr<ConnectionStore::ConnectionMap> ConnectionStore::Parse(const std::string& path,
                                                                      const std::string& data) const {
  ConnectionMap out;
  if (data.empty()) return out;
  connector::v1::ListConnectionsResponse stored;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer server may have added fields
  const auto parsed = google::protobuf::util::JsonStringToMessage(data, &stored, options);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("store file ", path, " does not parse: ",
                                            parsed.message().as_string(),
                                            "; fix or move it away to start empty"));
  }
  for (const Connection& c : stored.connections()) out[c.name()] = c;
  return out;
}

absl::Status ConnectionStore::Load(bool force, bool* needs_sealing) const {
  if (needs_sealing != nullptr) *needs_sealing = false;
  absl::StatusOr<std::optional<FileContents>> read = ReadIfChanged(store_file_, force);
  if (!read.ok()) return read.status();
  if (!read->has_value()) return absl::OkStatus();
  FileContents& contents = **read;
  // Closes the new version's descriptor unless it becomes the loaded one.
  struct Closer {
    int* fd;
    ~Closer() {
      if (*fd >= 0) close(*fd);
    }
  } closer{&contents.fd};
  absl::StatusOr<ConnectionMap> loaded = Parse(path_, contents.data);
  if (!loaded.ok()) return loaded.status();
  SealedCache sealed;
  bool clear_or_retired = false;
  // Missing key id -> the first place that needs it. Collected over the
  // whole file so that one error names every key to bring back.
  std::map<std::string, std::string> missing;
  for (auto& [name, c] : *loaded) {
    const std::string& connection_name = name;
    absl::Status s = ForEachSecret(c, [&](const char* field, std::string* value) -> absl::Status {
      if (value->empty()) return absl::OkStatus();
      const std::string where = absl::StrCat("connection ", Quote(connection_name), ", field ", field);
      if (!SecretBox::IsSealed(*value)) {
        *value = SecretBox::ReadClear(*value);
        clear_or_retired = true;
        return absl::OkStatus();
      }
      const std::string key_id = SecretBox::SealedKeyId(*value);
      if (!key_id.empty() && (!secrets_.has_value() || !secrets_->HasKey(key_id))) {
        missing.emplace(key_id, where);
        return absl::OkStatus();
      }
      if (!secrets_.has_value()) {
        return absl::DataLossError(absl::StrCat("store file ", path_, ": ", where,
                                                ": sealed value is malformed (truncated or changed by hand)"));
      }
      absl::StatusOr<std::string> clear = secrets_->Open(connection_name, field, *value);
      if (!clear.ok()) {
        return absl::Status(clear.status().code(), absl::StrCat("store file ", path_, ": ", where, ": ",
                                                                clear.status().message()));
      }
      if (key_id != secrets_->sealing_key_id()) clear_or_retired = true;
      sealed[{connection_name, field}] = SealedValue{*clear, *value};
      *value = *std::move(clear);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  if (!missing.empty()) {
    std::vector<std::string> ids;
    for (const auto& [id, where] : missing) ids.push_back(id);
    const std::string keys = absl::StrCat(ids.size() == 1 ? "key " : "keys ", absl::StrJoin(ids, ", "));
    const std::string example = absl::StrCat(" (e.g. ", missing.begin()->second, ")");
    if (!secrets_.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store file ", path_, " holds secrets sealed with ", keys, example,
          ", but no secret key file (--secret_key_file) is given; start with the key file that holds ",
          ids.size() == 1 ? "it" : "them", ". The store was left unchanged"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "store file ", path_, " holds secrets sealed with ", keys, example,
        ", which the secret key file (--secret_key_file) does not hold (it holds ",
        absl::StrJoin(secrets_->key_ids(), ", "),
        "); add the missing key after the first one (a key after the first only opens). The store "
        "was left unchanged"));
  }
  connections_ = *std::move(loaded);
  sealed_ = std::move(sealed);
  store_file_.Replace(contents.version, contents.fd);
  contents.fd = -1;
  if (needs_sealing != nullptr) *needs_sealing = secrets_.has_value() && clear_or_retired;
  return absl::OkStatus();
}

absl::Status ConnectionStore::LoadAcks(bool force) const {
  absl::StatusOr<std::optional<FileContents>> read = ReadIfChanged(acks_file_, force);
  if (!read.ok()) return read.status();
  if (!read->has_value()) return absl::OkStatus();
  FileContents& contents = **read;
  absl::StatusOr<ConnectionMap> loaded = Parse(acks_file_.path, contents.data);
  if (!loaded.ok()) {
    if (contents.fd >= 0) close(contents.fd);
    return loaded.status();
  }
  acks_.clear();
  for (const auto& [name, c] : *loaded) acks_[name] = c.last_ack_cursor();
  acks_file_.Replace(contents.version, contents.fd);
  return absl::OkStatus();
}

absl::Status ConnectionStore::Save(const ConnectionMap& connections) {
  ConnectionMap stored = connections;
  SealedCache sealed;
  for (auto& [name, c] : stored) {
    const std::string& connection_name = name;
    IMAPC_RETURN_IF_ERROR(ForEachSecret(c, [&](const char* field, std::string* value) -> absl::Status {
      if (!secrets_.has_value()) {
        *value = SecretBox::StoreClear(*value);
        return absl::OkStatus();
      }
      if (value->empty()) return absl::OkStatus();
      // An unchanged value already sealed with the sealing key is written
      // as it was: a new nonce per value on every write would wear out the
      // key's safe number of random nonces for nothing.
      std::pair<std::string, std::string> key(connection_name, field);
      auto it = sealed_.find(key);
      SealedValue entry;
      if (it != sealed_.end() && it->second.clear == *value &&
          SecretBox::SealedKeyId(it->second.stored) == secrets_->sealing_key_id()) {
        entry = it->second;
      } else {
        absl::StatusOr<std::string> s = secrets_->Seal(connection_name, field, *value);
        if (!s.ok()) return s.status();
        entry = SealedValue{*value, *std::move(s)};
      }
      *value = entry.stored;
      sealed[std::move(key)] = std::move(entry);
      return absl::OkStatus();
    }));
  }
  IMAPC_RETURN_IF_ERROR(WriteFile(store_file_, stored));
  sealed_ = std::move(sealed);
  return absl::OkStatus();
}

absl::Status ConnectionStore::WriteFile(WatchedFile& file, const ConnectionMap& connections) const {
  connector::v1::ListConnectionsResponse stored;
  for (const auto& [name, c] : connections) *stored.add_connections() = c;
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  const auto printed = google::protobuf::util::MessageToJsonString(stored, &json, options);
  if (!printed.ok()) return absl::InternalError(printed.message().as_string());

  // Only one process writes at a time (the file lock), so a name per pid
  // is enough even for replicas that all run as pid 1.
  const std::string temp = absl::StrCat(dir_, "/", kTempPrefix, getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", temp);
  absl::Status s = WriteAll(fd, json, temp);
  if (s.ok() && fsync(fd) != 0) s = Errno("cannot fsync", temp);
  if (s.ok() && rename(temp.c_str(), file.path.c_str()) != 0) s = Errno("cannot rename onto", file.path);
  if (!s.ok()) {
    close(fd);
    unlink(temp.c_str());
    return s;
  }
  // The written version is the loaded one: no reload of our own write.
  // fstat after the rename, which may change the inode's ctime.
  struct stat st;
  if (fstat(fd, &st) == 0) {
    FileVersion v;
    v.exists = true;
    v.device = st.st_dev;
    v.inode = st.st_ino;
    v.size = st.st_size;
    v.modified_ns = Nanoseconds(st.st_mtim);
    v.changed_ns = Nanoseconds(st.st_ctim);
    file.Replace(v, fd);
  } else {
    close(fd);
    file.Replace(FileVersion(), -1);  // unknown: the next read reloads
  }
  // The rename is durable only once the directory entry is.
  return FsyncPath(dir_, O_RDONLY | O_DIRECTORY);
}

absl::Status ConnectionStore::Declare(const std::vector<Connection>& connections) {
  absl::MutexLock lock(&mu_);
  ConnectionMap declared;
  for (const Connection& c : connections) {
    if (!declared.emplace(c.name(), c).second) {
      return absl::InvalidArgumentError(absl::StrCat("connection ", Quote(c.name()), " is declared twice"));
    }
  }
  // Acknowledged positions survive restarts.
  IMAPC_RETURN_IF_ERROR(LoadAcks(/*force=*/true));
  declared_ = std::move(declared);
  return absl::OkStatus();
}

bool ConnectionStore::IsDeclared(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  return declared_.count(name) > 0;
}

absl::StatusOr<Connection> ConnectionStore::Get(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  if (auto d = declared_.find(name); d != declared_.end()) {
    IMAPC_RETURN_IF_ERROR(LoadAcks(/*force=*/false));
    Connection out = d->second;
    auto ack = acks_.find(name);
    out.set_last_ack_cursor(ack != acks_.end() ? ack->second : "");
    return out;
  }
  IMAPC_RETURN_IF_ERROR(Load(/*force=*/false, nullptr));
  auto it = connections_.find(name);
  if (it == connections_.end()) {
    return absl::NotFoundError(absl::StrCat("no connection named ", Quote(name)));
  }
  return it->second;
}

std::vector<Connection> ConnectionStore::List() const {
  absl::MutexLock lock(&mu_);
  for (absl::Status s : {Load(/*force=*/false, nullptr), declared_.empty() ? absl::OkStatus() : LoadAcks(false)}) {
    if (!s.ok()) LogWarning(absl::StrCat("listing the connections last loaded: ", s.message()));
  }
  ConnectionMap all = connections_;
  for (const auto& [name, c] : declared_) {
    Connection& entry = all[name] = c;
    auto ack = acks_.find(name);
    entry.set_last_ack_cursor(ack != acks_.end() ? ack->second : "");
  }
  std::vector<Connection> out;
  out.reserve(all.size());
  for (const auto& [name, c] : all) out.push_back(c);
  return out;
}

absl::Status ConnectionStore::Put(const Connection& connection, bool* replaced) {
  absl::MutexLock lock(&mu_);
  if (declared_.count(connection.name()) > 0) return DeclaredError(connection.name());
  return Locked([&]() -> absl::Status {
    IMAPC_RETURN_IF_ERROR(Load(/*force=*/false, nullptr));
    ConnectionMap next = connections_;
    auto it = next.find(connection.name());
    const bool existed = it != next.end();
    // Another process may have acknowledged since the caller read it.
    const std::string ack = existed ? it->second.last_ack_cursor() : connection.last_ack_cursor();
    Connection& entry = next[connection.name()] = connection;
    entry.set_last_ack_cursor(ack);
    IMAPC_RETURN_IF_ERROR(Save(next));
    connections_ = std::move(next);
    if (replaced != nullptr) *replaced = existed;
    return absl::OkStatus();
  });
}

absl::Status ConnectionStore::Update(const std::string& name,
                                     const std::function<absl::Status(Connection&)>& change) {
  absl::MutexLock lock(&mu_);
  if (declared_.count(name) > 0) return DeclaredError(name);
  return Locked([&]() -> absl::Status {
    IMAPC_RETURN_IF_ERROR(Load(/*force=*/false, nullptr));
    auto it = connections_.find(name);
    if (it == connections_.end()) {
      return absl::NotFoundError(absl::StrCat("no connection named ", Quote(name)));
    }
    ConnectionMap next = connections_;
    IMAPC_RETURN_IF_ERROR(change(next[name]));
    IMAPC_RETURN_IF_ERROR(Save(next));
    connections_ = std::move(next);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> ConnectionStore::RecordAcknowledged(const std::string& name,
                                                                const std::string& cursor) {
  absl::MutexLock lock(&mu_);
  std::string recorded;
  absl::Status s;
  if (declared_.count(name) > 0) {
    s = Locked([&]() -> absl::Status {
      IMAPC_RETURN_IF_ERROR(LoadAcks(/*force=*/false));
      std::map<std::string, std::string> next = acks_;
      recorded = MergeAcknowledged(next[name], cursor);
      next[name] = recorded;
      ConnectionMap file;
      for (const auto& [n, ack] : next) {
        Connection& entry = file[n];
        entry.set_name(n);
        entry.set_last_ack_cursor(ack);
      }
      IMAPC_RETURN_IF_ERROR(WriteFile(acks_file_, file));
      acks_ = std::move(next);
      return absl::OkStatus();
    });
  } else {
    s = Locked([&]() -> absl::Status {
      IMAPC_RETURN_IF_ERROR(Load(/*force=*/false, nullptr));
      auto it = connections_.find(name);
      if (it == connections_.end()) {
        return absl::NotFoundError(absl::StrCat("no connection named ", Quote(name)));
      }
      ConnectionMap next = connections_;
      recorded = MergeAcknowledged(it->second.last_ack_cursor(), cursor);
      next[name].set_last_ack_cursor(recorded);
      IMAPC_RETURN_IF_ERROR(Save(next));
      connections_ = std::move(next);
      return absl::OkStatus();
    });
  }
  if (!s.ok()) return s;
  return recorded;
}

absl::Status ConnectionStore::Delete(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (declared_.count(name) > 0) return DeclaredError(name);
  return Locked([&]() -> absl::Status {
    IMAPC_RETURN_IF_ERROR(Load(/*force=*/false, nullptr));
    if (connections_.count(name) == 0) {
      return absl::NotFoundError(absl::StrCat("no connection named ", Quote(name)));
    }
    ConnectionMap next = connections_;
    next.erase(name);
    IMAPC_RETURN_IF_ERROR(Save(next));
    connections_ = std::move(next);
    return absl::OkStatus();
  });
}

}  // namespace server
