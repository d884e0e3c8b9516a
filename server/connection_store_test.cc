#include "server/connection_store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "imap/records/cursor.h"
#include "server/secret_box.h"

namespace server {
namespace {

using connector::v1::Connection;

class ConnectionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/imapc-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data";
  }
  void TearDown() override { ASSERT_EQ(system(absl::StrCat("rm -rf '", root_, "'").c_str()), 0); }

  static Connection Named(const std::string& name, const std::string& password = "pw") {
    Connection c;
    c.set_name(name);
    c.set_password(password);
    c.set_username("u");
    return c;
  }

  std::string root_;
  std::string dir_;
};

TEST_F(ConnectionStoreTest, PersistsAcrossReopen) {
  {
    auto store = ConnectionStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    bool replaced = true;
    ASSERT_TRUE((*store)->Put(Named("b"), &replaced).ok());
    EXPECT_FALSE(replaced);
    ASSERT_TRUE((*store)->Put(Named("a", "secret")).ok());
    ASSERT_TRUE((*store)->Put(Named("b", "new"), &replaced).ok());
    EXPECT_TRUE(replaced);
  }
  auto store = ConnectionStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  std::vector<Connection> all = (*store)->List();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name(), "a");
  EXPECT_EQ(all[0].password(), "secret");
  EXPECT_EQ(all[1].password(), "new");
  EXPECT_TRUE((*store)->Delete("a").ok());
  EXPECT_EQ((*store)->Delete("a").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*store)->Get("a").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ConnectionStoreTest, UpdateChangesInPlaceOrNotAtAll) {
  {
    auto store = ConnectionStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Put(Named("a", "old")).ok());
    ASSERT_TRUE((*store)->Update("a", [](Connection& c) {
                           EXPECT_EQ(c.password(), "old");
                           c.set_password("new");
                           return absl::OkStatus();
                         }).ok());
    // A refusing change writes nothing.
    EXPECT_EQ((*store)->Update("a", [](Connection& c) {
                         c.set_password("never");
                         return absl::AbortedError("changed meanwhile");
                       }).code(),
              absl::StatusCode::kAborted);
    EXPECT_EQ((*store)->Update("missing", [](Connection&) { return absl::OkStatus(); }).code(),
              absl::StatusCode::kNotFound);
    Connection declared = Named("declared");
    ASSERT_TRUE((*store)->Declare({declared}).ok());
    EXPECT_EQ((*store)->Update("declared", [](Connection&) { return absl::OkStatus(); }).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  auto store = ConnectionStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Get("a")->password(), "new");
}

TEST_F(ConnectionStoreTest, FilesArePrivate) {
  auto store = ConnectionStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put(Named("a")).ok());
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat((*store)->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ConnectionStoreTest, CorruptStoreIsNotSilentlyReplaced) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  std::ofstream(dir_ + "/connections.json") << "{\"connections\": [";
  auto store = ConnectionStore::Open(dir_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("connections.json"), std::string::npos);
}

TEST_F(ConnectionStoreTest, FailedWriteLeavesStoreUnchanged) {
  auto store = ConnectionStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put(Named("a")).ok());
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  ASSERT_EQ(chmod(dir_.c_str(), 0500), 0);
  EXPECT_FALSE((*store)->Put(Named("b")).ok());
  EXPECT_EQ((*store)->List().size(), 1u);
  ASSERT_EQ(chmod(dir_.c_str(), 0700), 0);
}

// A writer killed at random moments never leaves a store that fails to
// load, and what loads is one of the versions it wrote completely.
TEST_F(ConnectionStoreTest, CrashMidWriteNeverCorrupts) {
  std::mt19937 rng(20261127);
  int max_seen = 0;
  for (int trial = 0; trial < 20; ++trial) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(ready[0]);
      auto store = ConnectionStore::Open(dir_);
      if (!store.ok()) _exit(1);
      // Each version holds connections "v0".."vN"; write forever.
      for (int n = 0;; ++n) {
        // A big password makes each write take long enough to be cut.
        if (!(*store)->Put(Named(absl::StrCat("v", n), std::string(4096, 'x'))).ok()) _exit(2);
        if (n == 0) {
          (void)!write(ready[1], "r", 1);  // the first write is complete
        }
      }
    }
    close(ready[1]);
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    // Let it run a random number of writes further, then kill it.
    std::uniform_int_distribution<int> spins(0, 200000);
    for (volatile int i = spins(rng); i > 0; --i) {
    }
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited on its own with " << status;

    auto store = ConnectionStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << "trial " << trial << ": " << store.status();
    std::vector<Connection> all = (*store)->List();
    ASSERT_FALSE(all.empty());
    for (const Connection& conn : all) EXPECT_EQ(conn.password().size(), 4096u);
    max_seen = std::max<int>(max_seen, static_cast<int>(all.size()));
  }
  EXPECT_GT(max_seen, 0);
}

// A data directory made by hand with a loose mode (mkdir under umask 022)
// holds passwords readable by listing: ours is tightened to 0700.
TEST_F(ConnectionStoreTest, TightensLooseDataDirectoryWeOwn) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);  // whatever the umask
  ::testing::internal::CaptureStderr();
  auto store = ConnectionStore::Open(dir_);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(store.ok()) << store.status();
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_NE(log.find("had mode 0755 (open to other users); changed it to 0700"), std::string::npos) << log;
}

TEST_F(ConnectionStoreTest, SaysNothingAboutAPrivateDataDirectory) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  ::testing::internal::CaptureStderr();
  auto store = ConnectionStore::Open(dir_);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(log.find("data directory"), std::string::npos) << log;
}

// Someone else's directory is not ours to change: warn and leave it.
TEST_F(ConnectionStoreTest, WarnsAboutLooseDataDirectoryOfAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the directory to another user";
  ASSERT_EQ(mkdir(dir_.c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  ASSERT_EQ(chown(dir_.c_str(), 65534, 65534), 0);
  ::testing::internal::CaptureStderr();
  auto store = ConnectionStore::Open(dir_);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(store.ok()) << store.status();
  struct stat st;
  ASSERT_EQ(stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_NE(log.find("has mode 0755 (open to other users) and is owned by uid 65534"), std::string::npos)
      << log;
}

// A volume mounted the Kubernetes way (owned by root, group-writable for
// the pod's fsGroup) is shared with our own group only: no warning.
TEST_F(ConnectionStoreTest, AcceptsAnotherOwnersDirectorySharedWithOurGroupOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give the directory to another user";
  ASSERT_EQ(mkdir(dir_.c_str(), 0770), 0);
  ASSERT_EQ(chmod(dir_.c_str(), 0770), 0);
  ASSERT_EQ(chown(dir_.c_str(), 65534, getegid()), 0);
  ::testing::internal::CaptureStderr();
  auto store = ConnectionStore::Open(dir_);
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(log.find("data directory"), std::string::npos) << log;
}

// ------------------------------------- several processes, one directory

// An engine cursor at INBOX's `uid` (and Sent's `sent_uid` when not 0).
std::string CursorAt(uint32_t uid, uint32_t sent_uid = 0) {
  imap::records::Cursor c;
  c.Advance("INBOX", 7, uid);
  if (sent_uid != 0) c.Advance("Sent", 9, sent_uid);
  return c.Encode();
}

uint32_t InboxUid(const std::string& encoded) {
  absl::StatusOr<imap::records::Cursor> c = imap::records::Cursor::Decode(encoded);
  if (!c.ok() || c->Find("INBOX") == nullptr) return 0;
  return c->Find("INBOX")->last_uid;
}

// Two stores over one directory stand for two replicas on one volume: each
// sees what the other wrote, on its next read, without a restart.
TEST_F(ConnectionStoreTest, TwoStoresOverOneDirectorySeeEachOthersChanges) {
  auto a = ConnectionStore::Open(dir_);
  auto b = ConnectionStore::Open(dir_);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*b)->Get("x").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE((*a)->Put(Named("x", "first")).ok());
  ASSERT_TRUE((*b)->Get("x").ok());
  EXPECT_EQ((*b)->Get("x")->password(), "first");
  ASSERT_TRUE((*b)->Update("x", [](Connection& c) {
                     c.set_password("second");
                     return absl::OkStatus();
                   }).ok());
  EXPECT_EQ((*a)->Get("x")->password(), "second");
  // A's write builds on B's: nothing B wrote is lost.
  ASSERT_TRUE((*a)->Put(Named("y")).ok());
  std::vector<Connection> listed = (*b)->List();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].password(), "second");
  ASSERT_TRUE((*b)->Delete("x").ok());
  EXPECT_EQ((*a)->Get("x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*a)->Delete("x").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*a)->List().size(), 1u);
}

// Acknowledged positions only move forward, whichever store records last;
// a Put with a stale copy of the connection keeps the recorded position.
TEST_F(ConnectionStoreTest, AcknowledgedPositionsMergeAndNeverMoveBack) {
  auto a = ConnectionStore::Open(dir_);
  auto b = ConnectionStore::Open(dir_);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Put(Named("x")).ok());
  absl::StatusOr<Connection> stale = (*b)->Get("x");
  ASSERT_TRUE(stale.ok());
  absl::StatusOr<std::string> recorded = (*a)->RecordAcknowledged("x", CursorAt(20));
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(*recorded, CursorAt(20));
  // B acknowledges an earlier position, and one in another folder.
  recorded = (*b)->RecordAcknowledged("x", CursorAt(10, 5));
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(*recorded, CursorAt(20, 5));
  EXPECT_EQ((*a)->Get("x")->last_ack_cursor(), CursorAt(20, 5));
  ASSERT_TRUE((*b)->Put(*stale).ok());
  EXPECT_EQ((*a)->Get("x")->last_ack_cursor(), CursorAt(20, 5));

  // Declared connections: the positions live in declared-acks.json, and an
  // entry one process does not declare (a rollout) is kept.
  Connection d = Named("declared");
  ASSERT_TRUE((*a)->Declare({d, Named("only-a")}).ok());
  ASSERT_TRUE((*b)->Declare({d}).ok());
  ASSERT_TRUE((*a)->RecordAcknowledged("only-a", CursorAt(3)).ok());
  ASSERT_TRUE((*a)->RecordAcknowledged("declared", CursorAt(30)).ok());
  EXPECT_EQ((*b)->Get("declared")->last_ack_cursor(), CursorAt(30));
  recorded = (*b)->RecordAcknowledged("declared", CursorAt(25));
  ASSERT_TRUE(recorded.ok());
  EXPECT_EQ(*recorded, CursorAt(30));
  EXPECT_EQ((*a)->Get("only-a")->last_ack_cursor(), CursorAt(3));
  auto reopened = ConnectionStore::Open(dir_);
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE((*reopened)->Declare({d, Named("only-a")}).ok());
  EXPECT_EQ((*reopened)->Get("declared")->last_ack_cursor(), CursorAt(30));
  EXPECT_EQ((*reopened)->Get("only-a")->last_ack_cursor(), CursorAt(3));
}

// Real processes writing at once: every read-modify-write happens under
// the file lock, so no change is lost and the furthest position wins.
TEST_F(ConnectionStoreTest, ConcurrentWritersInSeveralProcessesLoseNothing) {
  {
    auto store = ConnectionStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    Connection c = Named("counter");
    c.set_username("0");
    ASSERT_TRUE((*store)->Put(c).ok());
    ASSERT_TRUE((*store)->Declare({Named("declared")}).ok());
  }
  constexpr int kProcesses = 3;
  constexpr int kRounds = 40;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = ConnectionStore::Open(dir_);
      if (!store.ok() || !(*store)->Declare({Named("declared")}).ok()) _exit(1);
      for (int i = 0; i < kRounds; ++i) {
        absl::Status s = (*store)->Update("counter", [](Connection& c) {
          c.set_username(std::to_string(std::stoi(c.username()) + 1));
          return absl::OkStatus();
        });
        if (!s.ok()) _exit(2);
        // Interleaved positions: process p acknowledges p+1, p+1+k, ...
        const uint32_t uid = static_cast<uint32_t>(1 + p + i * kProcesses);
        if (!(*store)->RecordAcknowledged("counter", CursorAt(uid)).ok()) _exit(3);
        if (!(*store)->RecordAcknowledged("declared", CursorAt(uid)).ok()) _exit(4);
        if (!(*store)->Put(Named(absl::StrCat("p", p, "-", i))).ok()) _exit(5);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  auto store = ConnectionStore::Open(dir_);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Declare({Named("declared")}).ok());
  absl::StatusOr<Connection> counter = (*store)->Get("counter");
  ASSERT_TRUE(counter.ok());
  EXPECT_EQ(counter->username(), std::to_string(kProcesses * kRounds));
  EXPECT_EQ(InboxUid(counter->last_ack_cursor()), static_cast<uint32_t>(kProcesses * kRounds));
  EXPECT_EQ(InboxUid((*store)->Get("declared")->last_ack_cursor()),
            static_cast<uint32_t>(kProcesses * kRounds));
  // "counter", "declared" and every process's connections.
  EXPECT_EQ((*store)->List().size(), static_cast<size_t>(2 + kProcesses * kRounds));
}

// ------------------------------------------------------ secrets at rest

// Two fixed keys (base64 of 32 bytes) and their ids (first 8 hex digits of
// the SHA-256 of the bytes, computed with sha256sum).
constexpr char kKeyA[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr char kKeyAId[] = "630dcd29";
constexpr char kKeyB[] = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
constexpr char kKeyBId[] = "72dbb733";

class SealedStoreTest : public ConnectionStoreTest {
 protected:
  static ConnectionStoreOptions Keys(const std::string& key_file_text) {
    ConnectionStoreOptions options;
    absl::StatusOr<SecretBox> box = SecretBox::Parse(key_file_text, "test keys");
    EXPECT_TRUE(box.ok()) << box.status();
    if (box.ok()) options.secrets = *std::move(box);
    return options;
  }
  std::string StoreBytes() const {
    std::ifstream in(dir_ + "/connections.json", std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void WriteStoreBytes(const std::string& bytes) const {
    std::ofstream(dir_ + "/connections.json", std::ios::binary | std::ios::trunc) << bytes;
  }
  // The value of `json_field` in the object of connection `name` in the
  // store file's `bytes` (a sealed value needs no JSON escaping).
  static std::string StoredValue(const std::string& bytes, const std::string& name,
                                 const std::string& json_field) {
    const size_t at = bytes.find(absl::StrCat("\"name\": \"", name, "\""));
    const std::string field = absl::StrCat("\"", json_field, "\": \"");
    const size_t start = bytes.find(field, at);
    if (at == std::string::npos || start == std::string::npos) return "";
    return bytes.substr(start + field.size(), bytes.find('"', start + field.size()) - start - field.size());
  }
  // One connection per secret field, each secret unique so grep finds it.
  static std::vector<Connection> WithEverySecret() {
    std::vector<Connection> out;
    out.push_back(Named("pw", "clear-password-1"));
    Connection s = Named("static", "");
    s.mutable_oauth2()->mutable_static_token()->set_access_token("clear-access-token-2");
    out.push_back(s);
    Connection r = Named("refresh", "");
    auto* grant = r.mutable_oauth2()->mutable_refresh_token_grant();
    grant->set_client_id("app");
    grant->set_refresh_token("clear-refresh-token-3");
    grant->set_client_secret("clear-client-secret-4");
    out.push_back(r);
    Connection c = Named("client", "");
    auto* cc = c.mutable_oauth2()->mutable_client_credentials();
    cc->set_client_id("app");
    cc->set_client_secret("clear-client-secret-5");
    cc->set_client_private_key_pem("-----BEGIN PRIVATE KEY-----\nclear-private-key-6\n");
    out.push_back(c);
    return out;
  }
  static constexpr const char* kSecrets[] = {"clear-password-1",      "clear-access-token-2",
                                             "clear-refresh-token-3", "clear-client-secret-4",
                                             "clear-client-secret-5", "clear-private-key-6"};

  void ExpectEverySecretReadBack(ConnectionStore& store) {
    std::vector<Connection> want = WithEverySecret();
    for (const Connection& w : want) {
      absl::StatusOr<Connection> got = store.Get(w.name());
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(got->SerializeAsString(), w.SerializeAsString()) << w.name();
    }
  }
  void ExpectNoClearSecretOnDisk() {
    const std::string bytes = StoreBytes();
    for (const char* secret : kSecrets) {
      EXPECT_FALSE(absl::StrContains(bytes, secret)) << secret << " in " << bytes;
    }
  }
};

TEST_F(SealedStoreTest, RoundTripSealsEverySecretField) {
  {
    auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
    ASSERT_TRUE(store.ok()) << store.status();
    for (const Connection& c : WithEverySecret()) ASSERT_TRUE((*store)->Put(c).ok());
    ExpectEverySecretReadBack(**store);
  }
  ExpectNoClearSecretOnDisk();
  // Six sealed values, each with the key id; names and other fields stay
  // readable.
  const std::string bytes = StoreBytes();
  size_t count = 0;
  for (size_t at = 0; (at = bytes.find(absl::StrCat("\"sealed:v1:", kKeyAId, ":"), at)) != std::string::npos;
       ++at) {
    ++count;
  }
  EXPECT_EQ(count, 6u) << bytes;
  EXPECT_TRUE(absl::StrContains(bytes, "\"refresh\"")) << bytes;
  EXPECT_TRUE(absl::StrContains(bytes, "\"clientId\": \"app\"")) << bytes;

  auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectEverySecretReadBack(**store);
  // A reopen with the sealing key rewrites nothing.
  EXPECT_EQ(StoreBytes(), bytes);
}

// Writes that do not change a secret keep its sealed bytes (no fresh nonce
// per acknowledged cursor); a changed secret is sealed anew, never clear.
TEST_F(SealedStoreTest, UnchangedSecretsKeepTheirSealedBytes) {
  auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Put(Named("a", "first-password")).ok());
  const std::string before = StoreBytes();
  ASSERT_TRUE((*store)->RecordAcknowledged("a", "cursor-1").ok());
  const std::string after_ack = StoreBytes();
  EXPECT_EQ(StoredValue(after_ack, "a", "lastAckCursor"), "cursor-1");
  const std::string sealed = StoredValue(before, "a", "password");
  ASSERT_TRUE(absl::StartsWith(sealed, "sealed:v1:")) << before;
  EXPECT_EQ(StoredValue(after_ack, "a", "password"), sealed);
  ASSERT_TRUE((*store)->Update("a", [](Connection& c) {
                         c.set_password("second-password");
                         return absl::OkStatus();
                       }).ok());
  const std::string after_update = StoreBytes();
  EXPECT_TRUE(absl::StartsWith(StoredValue(after_update, "a", "password"), "sealed:v1:")) << after_update;
  EXPECT_NE(StoredValue(after_update, "a", "password"), sealed);
  EXPECT_FALSE(absl::StrContains(after_update, "second-password"));
  EXPECT_FALSE(absl::StrContains(after_update, "first-password"));
  auto reopened = ConnectionStore::Open(dir_, Keys(kKeyA));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->Get("a")->password(), "second-password");
}

TEST_F(SealedStoreTest, RotationOldKeySecondStillOpensAndTheFirstReseals) {
  {
    auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
    ASSERT_TRUE(store.ok());
    for (const Connection& c : WithEverySecret()) ASSERT_TRUE((*store)->Put(c).ok());
  }
  ASSERT_TRUE(absl::StrContains(StoreBytes(), kKeyAId));
  {
    ::testing::internal::CaptureStderr();
    auto store = ConnectionStore::Open(dir_, Keys(absl::StrCat(kKeyB, "\n", kKeyA, "\n")));
    const std::string log = ::testing::internal::GetCapturedStderr();
    ASSERT_TRUE(store.ok()) << store.status();
    ExpectEverySecretReadBack(**store);
    EXPECT_NE(log.find(absl::StrCat("secrets sealed with key ", kKeyBId)), std::string::npos) << log;
  }
  // Re-sealed with the first key: the old key is no longer needed.
  const std::string bytes = StoreBytes();
  EXPECT_FALSE(absl::StrContains(bytes, kKeyAId)) << bytes;
  EXPECT_TRUE(absl::StrContains(bytes, kKeyBId)) << bytes;
  ExpectNoClearSecretOnDisk();
  auto store = ConnectionStore::Open(dir_, Keys(kKeyB));
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectEverySecretReadBack(**store);
}

// A store sealed with a key the server lacks (or with no key file at all)
// is refused with the key's id, and not one byte of it changes.
TEST_F(SealedStoreTest, MissingKeyIsNamedAndTheStoreIsLeftAlone) {
  {
    auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
    ASSERT_TRUE(store.ok());
    for (const Connection& c : WithEverySecret()) ASSERT_TRUE((*store)->Put(c).ok());
  }
  const std::string bytes = StoreBytes();

  auto wrong = ConnectionStore::Open(dir_, Keys(kKeyB));
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong.status().message().find(absl::StrCat("sealed with key ", kKeyAId, " (e.g. connection ")),
            std::string::npos)
      << wrong.status();
  EXPECT_NE(wrong.status().message().find(absl::StrCat("it holds ", kKeyBId)), std::string::npos)
      << wrong.status();
  EXPECT_NE(wrong.status().message().find("left unchanged"), std::string::npos) << wrong.status();
  EXPECT_EQ(StoreBytes(), bytes);

  auto none = ConnectionStore::Open(dir_);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find(absl::StrCat("sealed with key ", kKeyAId)), std::string::npos)
      << none.status();
  EXPECT_NE(none.status().message().find("no secret key file"), std::string::npos) << none.status();
  EXPECT_EQ(StoreBytes(), bytes);
  for (const char* secret : kSecrets) {
    EXPECT_EQ(wrong.status().message().find(secret), std::string::npos);
    EXPECT_EQ(none.status().message().find(secret), std::string::npos);
  }

  // Once the key is back, everything is there.
  auto right = ConnectionStore::Open(dir_, Keys(absl::StrCat(kKeyB, "\n", kKeyA)));
  ASSERT_TRUE(right.ok()) << right.status();
  ExpectEverySecretReadBack(**right);
}

TEST_F(SealedStoreTest, TruncatedOrCorruptedValueNamesConnectionAndField) {
  {
    auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
    ASSERT_TRUE(store.ok());
    for (const Connection& c : WithEverySecret()) ASSERT_TRUE((*store)->Put(c).ok());
  }
  const std::string bytes = StoreBytes();
  // The sealed refresh token: the sealed value after "refreshToken": ".
  const std::string field = "\"refreshToken\": \"";
  const size_t start = bytes.find(field) + field.size();
  const size_t end = bytes.find('"', start);
  ASSERT_NE(end, std::string::npos);
  const std::string sealed = bytes.substr(start, end - start);
  ASSERT_TRUE(absl::StartsWith(sealed, "sealed:v1:")) << sealed;

  std::string flipped = sealed;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {sealed.substr(0, sealed.size() - 4), sealed.substr(0, 20), flipped,
                                 std::string("sealed:v1:") + kKeyAId}) {
    const std::string corrupt = absl::StrCat(bytes.substr(0, start), bad, bytes.substr(end));
    WriteStoreBytes(corrupt);
    auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << bad;
    EXPECT_NE(store.status().message().find(
                  "connection 'refresh', field oauth2.refresh_token_grant.refresh_token: sealed value"),
              std::string::npos)
        << store.status();
    EXPECT_NE(store.status().message().find("connections.json"), std::string::npos) << store.status();
    EXPECT_EQ(StoreBytes(), corrupt);
  }
}

// A sealed value copied into another connection (or another field) of the
// file does not open: the associated data binds it to its place.
TEST_F(SealedStoreTest, SealedValueCopiedElsewhereFails) {
  {
    auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Put(Named("a", "password-of-a")).ok());
    ASSERT_TRUE((*store)->Put(Named("b", "password-of-b")).ok());
  }
  const std::string bytes = StoreBytes();
  const std::string a = StoredValue(bytes, "a", "password");
  const std::string b = StoredValue(bytes, "b", "password");
  ASSERT_TRUE(absl::StartsWith(a, "sealed:v1:")) << bytes;
  ASSERT_NE(a, b);
  WriteStoreBytes(absl::StrReplaceAll(bytes, {{b, a}}));
  auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(store.status().message().find("connection 'b', field password: sealed value does not authenticate"),
            std::string::npos)
      << store.status();
  EXPECT_NE(store.status().message().find("copied from another connection or field"), std::string::npos);
  EXPECT_EQ(store.status().message().find("password-of"), std::string::npos);
}

// A clear-text store as the version before sealing wrote it is read, and
// sealed as soon as a key is configured.
TEST_F(SealedStoreTest, ClearStoreOfThePreviousVersionIsReadThenSealed) {
  ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
  WriteStoreBytes(R"({
 "connections": [
  {
   "name": "legacy",
   "username": "u",
   "password": "legacy-clear-password",
   "lastAckCursor": "c1.abc"
  },
  {
   "name": "legacy-oauth",
   "username": "u",
   "oauth2": {
    "refreshTokenGrant": {
     "clientId": "app",
     "refreshToken": "legacy-refresh-token"
    }
   }
  }
 ]
})");
  {
    // Without a key: read as it is, and left as it is.
    auto store = ConnectionStore::Open(dir_);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->Get("legacy")->password(), "legacy-clear-password");
  }
  EXPECT_TRUE(absl::StrContains(StoreBytes(), "legacy-clear-password"));
  {
    auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->Get("legacy")->password(), "legacy-clear-password");
    EXPECT_EQ((*store)->Get("legacy")->last_ack_cursor(), "c1.abc");
    EXPECT_EQ((*store)->Get("legacy-oauth")->oauth2().refresh_token_grant().refresh_token(),
              "legacy-refresh-token");
  }
  const std::string bytes = StoreBytes();
  EXPECT_FALSE(absl::StrContains(bytes, "legacy-clear-password")) << bytes;
  EXPECT_FALSE(absl::StrContains(bytes, "legacy-refresh-token")) << bytes;
  EXPECT_TRUE(absl::StrContains(bytes, absl::StrCat("\"password\": \"sealed:v1:", kKeyAId, ":"))) << bytes;
  auto store = ConnectionStore::Open(dir_, Keys(kKeyA));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Get("legacy-oauth")->oauth2().refresh_token_grant().refresh_token(),
            "legacy-refresh-token");
}

// Without a key, a password that looks sealed is stored so that it reads
// back as itself (not refused at the next start as a broken sealed value).
TEST_F(SealedStoreTest, ClearPasswordThatLooksSealedSurvives) {
  const std::string odd = absl::StrCat("sealed:v1:", kKeyAId, ":AAAA");
  {
    auto store = ConnectionStore::Open(dir_);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Put(Named("odd", odd)).ok());
  }
  auto store = ConnectionStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->Get("odd")->password(), odd);
  // And a key configured later seals it like any other.
  auto sealed = ConnectionStore::Open(dir_, Keys(kKeyA));
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ((*sealed)->Get("odd")->password(), odd);
}

}  // namespace
}  // namespace server
