// Session::ListFolders against a scripted server on loopback: the STATUS
// commands really are pipelined (the server reads them all before it
// answers any), one folder's NO stays that folder's, LIST-STATUS answers
// with extended data are read, and a cut connection fails the call.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "tests/fixtures/loopback_listener.h"

namespace imap {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Accepts one connection and plays `script`: a string starting with "<"
// waits for that many client lines (e.g. "<3"), anything else is sent.
// Records every line the client sent.
class Server {
 public:
  explicit Server(std::vector<std::string> script) : script_(std::move(script)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Server() { thread_.join(); }
  int port() const { return listener_.port(); }
  std::vector<std::string> lines() {
    absl::MutexLock lock(&mu_);
    return lines_;
  }

 private:
  void Run() {
    const int fd = listener_.Accept();
    if (fd < 0) return;
    std::string pending;
    for (const std::string& step : script_) {
      if (!step.empty() && step[0] == '<') {
        int want = std::stoi(step.substr(1));
        while (want > 0) {
          const size_t nl = pending.find("\r\n");
          if (nl != std::string::npos) {
            absl::MutexLock lock(&mu_);
            lines_.push_back(pending.substr(0, nl));
            pending.erase(0, nl + 2);
            --want;
            continue;
          }
          char buf[4096];
          const ssize_t n = recv(fd, buf, sizeof(buf), 0);
          if (n <= 0) break;
          pending.append(buf, static_cast<size_t>(n));
        }
      } else {
        send(fd, step.data(), step.size(), MSG_NOSIGNAL);
      }
    }
    close(fd);
  }

  std::vector<std::string> script_;
  testing_fixtures::LoopbackListener listener_;
  std::thread thread_;
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<Session> Connect(const Server& server) {
  absl::StatusOr<std::unique_ptr<Transport>> t =
      DialTcp("127.0.0.1", server.port(), absl::Now() + absl::Seconds(5));
  EXPECT_TRUE(t.ok()) << t.status();
  SessionOptions options;
  // Were the commands not pipelined, the server (waiting for all of them)
  // would never answer and the call would fail after this.
  options.response_timeout = absl::Seconds(5);
  auto s = std::make_unique<Session>(*std::move(t), options);
  EXPECT_TRUE(s->ReadGreeting().ok());
  return s;
}

TEST(ListStatusTest, StatusCommandsArePipelinedAndOneRefusalStaysWithItsFolder) {
  Server server({
      "* OK [CAPABILITY IMAP4rev1 LITERAL+ STATUS=SIZE] hi\r\n",
      "<1",
      "* LIST (\\HasChildren) \".\" a\r\n"
      "* LIST (\\Noselect \\HasChildren) \".\" a.b\r\n"
      "* LIST () \".\" a.b.Entw&APw-rfe\r\n"
      "* LIST (\\Sent) \".\" \"gone\"\r\n"
      "A1 OK done\r\n",
      "<1",
      "* LSUB () \".\" gone\r\n* LSUB () \".\" inbox.missing\r\nA2 OK done\r\n",
      "<3",
      "* STATUS a (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 9 UNSEEN 1 SIZE 700)\r\nA3 OK\r\n"
      "* STATUS a.b.Entw&APw-rfe (MESSAGES 5 UIDNEXT 6 UIDVALIDITY 10 UNSEEN 0)\r\nA4 OK\r\n"
      "A5 NO Mailbox does not exist\r\n",
      "<1",
      "A6 OK noop\r\n",
  });
  std::unique_ptr<Session> s = Connect(server);
  absl::StatusOr<ListFoldersResult> r = s->ListFolders();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->used_list_status);
  EXPECT_EQ(r->status_commands, 3);
  ASSERT_EQ(r->folders.size(), 4u);

  const FolderStatus& a = r->folders[0];
  EXPECT_EQ(a.entry.name, "a");
  EXPECT_TRUE(a.selectable);
  EXPECT_FALSE(a.subscribed);
  EXPECT_EQ(a.status.messages, 2u);
  EXPECT_EQ(a.status.unseen, 1u);
  EXPECT_EQ(a.status.size, 700u);

  const FolderStatus& parent = r->folders[1];
  EXPECT_FALSE(parent.selectable);
  EXPECT_FALSE(parent.status.messages.has_value());
  EXPECT_TRUE(parent.error.ok());

  const FolderStatus& drafts = r->folders[2];
  EXPECT_EQ(drafts.entry.name, "a.b.Entwürfe");
  EXPECT_EQ(drafts.entry.delimiter, '.');
  EXPECT_EQ(drafts.status.messages, 5u);
  EXPECT_EQ(drafts.status.uid_validity, 10u);

  const FolderStatus& gone = r->folders[3];
  EXPECT_TRUE(gone.subscribed);
  EXPECT_EQ(gone.error.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GetErrorKind(gone.error), ErrorKind::kNoMailbox);
  EXPECT_THAT(gone.error.message(), HasSubstr("STATUS \"gone\": server answered NO"));
  EXPECT_FALSE(gone.status.messages.has_value());

  EXPECT_TRUE(s->Noop().ok());
  EXPECT_THAT(server.lines(),
              ElementsAre("A1 LIST \"\" \"*\"", "A2 LSUB \"\" \"*\"",
                          "A3 STATUS a (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)",
                          "A4 STATUS a.b.Entw&APw-rfe (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)",
                          "A5 STATUS gone (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)", "A6 NOOP"));
}

TEST(ListStatusTest, ListStatusGivesTheCountsAndOnlyMissingOnesAreAsked) {
  Server server({
      "* OK [CAPABILITY IMAP4rev1 LIST-EXTENDED LIST-STATUS SPECIAL-USE CONDSTORE] hi\r\n",
      "<1",
      "* LIST (\\Subscribed \\HasNoChildren) \"/\" INBOX\r\n"
      "* STATUS INBOX (MESSAGES 4 UIDNEXT 5 UIDVALIDITY 7 UNSEEN 2)\r\n"
      "* LIST (\\NonExistent \\HasChildren) \"/\" x (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
      "* LIST (\\Subscribed \\Trash) \"/\" x/Trash\r\n"
      "A1 OK done\r\n",
      "<1",
      "A2 NO [NONEXISTENT] no such mailbox\r\n",
  });
  std::unique_ptr<Session> s = Connect(server);
  absl::StatusOr<ListFoldersResult> r = s->ListFolders();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->used_list_status);
  EXPECT_EQ(r->status_commands, 1);
  ASSERT_EQ(r->folders.size(), 3u);
  EXPECT_TRUE(r->folders[0].subscribed);
  EXPECT_EQ(r->folders[0].status.messages, 4u);
  EXPECT_EQ(r->folders[0].status.unseen, 2u);
  EXPECT_FALSE(r->folders[1].selectable) << "\\NonExistent";
  EXPECT_TRUE(r->folders[2].subscribed);
  EXPECT_EQ(r->folders[2].error.code(), absl::StatusCode::kNotFound);
  // HIGHESTMODSEQ is never asked for: it would turn on CONDSTORE.
  EXPECT_THAT(server.lines(),
              ElementsAre("A1 LIST \"\" \"*\" RETURN (SUBSCRIBED SPECIAL-USE STATUS (MESSAGES "
                          "UIDNEXT UIDVALIDITY UNSEEN))",
                          "A2 STATUS x/Trash (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"));
}

TEST(ListStatusTest, ConnectionCutDuringThePipelineFailsTheCall) {
  Server server({
      "* OK [CAPABILITY IMAP4rev1] hi\r\n",
      "<1",
      "* LIST () \"/\" a\r\n* LIST () \"/\" b\r\nA1 OK done\r\n",
      "<1",
      "A2 OK done\r\n",
      "<2",
      "* STATUS a (MESSAGES 1)\r\nA3 OK\r\n",
  });
  std::unique_ptr<Session> s = Connect(server);
  absl::StatusOr<ListFoldersResult> r = s->ListFolders();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
}

}  // namespace
}  // namespace imap
