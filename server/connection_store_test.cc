#include "server/connection_store.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace server
