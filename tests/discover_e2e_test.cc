// Discover through gRPC and the real server binary: against Dovecot and
// Cyrus (LIST-STATUS) and Courier (no LIST-STATUS: pipelined STATUS),
// folders the test made (nested a/b/c, a non-ASCII name, a
// subscribed and an unsubscribed one) are listed with the counts of what
// the test appended and flagged; the engine's fallback (LIST, LSUB and
// pipelined STATUS) agrees with LIST-STATUS on the same server; against
// tests/hostile_imap_server.py --vanishing-folder, a folder deleted between
// LIST and STATUS is listed with its error while the call succeeds.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "imap/session/session.h"
#include "tests/fixtures/engine_session.h"
#include "tests/fixtures/hostile_server.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/server_process.h"

namespace {

using connector::v1::Connection;
using connector::v1::DiscoverRequest;
using connector::v1::DiscoverResponse;
using connector::v1::Folder;
using testing_fixtures::HostileServer;
using testing_fixtures::ImapServerFixture;
using testing_fixtures::ServerKind;
using testing_fixtures::ServerProcess;
using ::testing::HasSubstr;

struct Shared {
  std::map<ServerKind, std::unique_ptr<ImapServerFixture>> imap;
  std::unique_ptr<ServerProcess> connector;
  std::string data_dir;
};
Shared* shared = nullptr;

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    shared = new Shared;
    for (ServerKind kind : {ServerKind::kDovecot, ServerKind::kCyrus, ServerKind::kCourier}) {
      absl::StatusOr<std::unique_ptr<ImapServerFixture>> s = ImapServerFixture::Start(kind);
      ASSERT_TRUE(s.ok()) << s.status();
      shared->imap[kind] = *std::move(s);
    }
    char tmpl[] = "/tmp/imapc-discover-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    shared->data_dir = tmpl;
    absl::StatusOr<std::unique_ptr<ServerProcess>> c = ServerProcess::Start(shared->data_dir + "/store");
    ASSERT_TRUE(c.ok()) << c.status();
    shared->connector = *std::move(c);
  }
  void TearDown() override {
    if (shared == nullptr) return;
    shared->connector.reset();
    shared->imap.clear();
    testing_fixtures::RunCommand(absl::StrCat("rm -rf '", shared->data_dir, "'"));
    delete shared;
    shared = nullptr;
  }
};

grpc::Status Discover(const Connection& c, DiscoverResponse* response) {
  auto stub = connector::v1::Connector::NewStub(shared->connector->channel());
  DiscoverRequest request;
  *request.mutable_connection()->mutable_connection() = c;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  return stub->Discover(&ctx, request, response);
}

const Folder* Find(const DiscoverResponse& r, const std::string& name) {
  for (const Folder& f : r.folders()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

const connector::v1::PlanStep* Step(const DiscoverResponse& r, const std::string& name) {
  for (const connector::v1::PlanStep& s : r.steps()) {
    if (s.name() == name) return &s;
  }
  return nullptr;
}

bool HasAttribute(const Folder& f, const std::string& attribute) {
  for (const std::string& a : f.attributes()) {
    if (absl::EqualsIgnoreCase(a, attribute)) return true;
  }
  return false;
}

// --- Dovecot and Cyrus --------------------------------------------------

class DiscoverTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    ASSERT_NE(shared, nullptr);
    imap_ = shared->imap[GetParam()].get();
    ASSERT_NE(imap_, nullptr);
    engine_ = Login();
    ASSERT_NE(engine_, nullptr);
    absl::StatusOr<std::vector<imap::ListEntry>> root = engine_->List("", "");
    ASSERT_TRUE(root.ok()) << root.status();
    ASSERT_FALSE(root->empty());
    delimiter_ = (*root)[0].delimiter;
    ASSERT_NE(delimiter_, 0);
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = imap_->Folder(absl::StrCat("disc", getpid(), "-", std::string(info->name()).substr(0, 8)));
  }

  void TearDown() override {
    if (engine_ == nullptr) return;
    // Children first (servers refuse to delete a folder with children),
    // the parents a server made on its own included.
    std::vector<std::string> names;
    absl::StatusOr<std::vector<imap::ListEntry>> below =
        engine_->List("", absl::StrCat(prefix_, std::string(1, delimiter_), "*"));
    if (below.ok()) {
      for (const imap::ListEntry& e : *below) names.push_back(e.name);
    }
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    names.push_back(prefix_);
    for (const std::string& name : names) (void)engine_->Delete(name);
  }

  std::unique_ptr<imap::Session> Login() {
    std::unique_ptr<imap::Session> s = testing_fixtures::LoggedInEngineSession(*imap_);
    if (s == nullptr) return nullptr;
    if (!s->RefreshCapabilities().ok()) return nullptr;
    return s;
  }

  // `parts` joined by the server's separator below the test's prefix.
  std::string Name(const std::vector<std::string>& parts) const {
    std::string out = prefix_;
    for (const std::string& p : parts) absl::StrAppend(&out, std::string(1, delimiter_), p);
    return out;
  }

  void Create(const std::string& folder) {
    absl::Status s = engine_->Create(folder);
    ASSERT_TRUE(s.ok()) << s;
  }

  // Appends `count` messages to `folder`, the first `seen` of them \Seen.
  void Fill(const std::string& folder, int count, int seen) {
    for (int i = 0; i < count; ++i) {
      const std::string message = absl::StrCat(
          "From: a@example.com\r\nTo: b@example.com\r\nSubject: discover ", i,
          "\r\nMessage-ID: <disc-", i, "@example.com>\r\n\r\nbody ", i, "\r\n");
      std::vector<std::string> flags;
      if (i < seen) flags.push_back("\\Seen");
      absl::StatusOr<imap::AppendResult> a = engine_->Append(folder, message, flags);
      ASSERT_TRUE(a.ok()) << a.status();
    }
  }

  Connection MakeConnection() const {
    Connection c;
    c.set_name("discover");
    c.set_username(ImapServerFixture::kUser);
    c.set_password(ImapServerFixture::kPassword);
    c.set_server_url(absl::StrCat("imaps://localhost:", imap_->imaps_port()));
    c.mutable_tls()->set_ca_bundle_pem(imap_->ca_pem());
    c.set_timeout_ms(10000);
    return c;
  }

  ImapServerFixture* imap_ = nullptr;
  std::unique_ptr<imap::Session> engine_;
  char delimiter_ = 0;
  std::string prefix_;
};

TEST_P(DiscoverTest, ListsFoldersWithTheirCounts) {
  const std::string drafts = Name({"Entwürfe"});
  const std::string leaf = Name({"a", "b", "c"});
  const std::string subscribed = Name({"subscribed"});
  const std::string unsubscribed = Name({"unsubscribed"});
  Create(prefix_);
  Create(drafts);
  Create(leaf);
  Create(subscribed);
  Create(unsubscribed);
  Fill(drafts, 5, 2);
  Fill(leaf, 1, 1);
  Fill(subscribed, 2, 0);
  ASSERT_TRUE(engine_->Subscribe(subscribed).ok());
  // Servers may subscribe what CREATE makes (Cyrus does for some setups).
  (void)engine_->Subscribe(unsubscribed, false);
  absl::StatusOr<imap::StatusInfo> truth = engine_->Status(drafts);
  ASSERT_TRUE(truth.ok()) << truth.status();

  DiscoverResponse r;
  grpc::Status status = Discover(MakeConnection(), &r);
  ASSERT_TRUE(status.ok()) << status.error_message();

  ASSERT_GT(r.folders_size(), 0);
  EXPECT_EQ(r.folders(0).name(), "INBOX");
  EXPECT_EQ(r.folders(0).role(), "\\Inbox");
  EXPECT_TRUE(r.folders(0).selectable());
  EXPECT_GE(r.folders(0).messages(), static_cast<uint32_t>(ImapServerFixture::kInboxMessages));
  for (int i = 2; i < r.folders_size(); ++i) {
    EXPECT_LT(r.folders(i - 1).name(), r.folders(i).name()) << "sorted by name after INBOX";
  }

  const Folder* d = Find(r, drafts);
  ASSERT_NE(d, nullptr) << "the non-ASCII folder is listed by its UTF-8 name";
  EXPECT_EQ(d->delimiter(), std::string(1, delimiter_));
  EXPECT_TRUE(d->selectable());
  EXPECT_EQ(d->messages(), 5u);
  EXPECT_EQ(d->unseen(), 3u);
  EXPECT_EQ(d->uid_validity(), truth->uid_validity.value_or(0));
  EXPECT_NE(d->uid_validity(), 0u);
  EXPECT_EQ(d->uid_next(), truth->uid_next.value_or(0));
  EXPECT_GE(d->uid_next(), 6u);
  EXPECT_TRUE(d->error().empty()) << d->error();
  EXPECT_EQ(d->role(), "");
  if (engine_->HasCapability("STATUS=SIZE")) {
    ASSERT_TRUE(d->has_size());
    EXPECT_GT(d->size(), 5u * 50);
  } else {
    EXPECT_FALSE(d->has_size());
  }

  // Looking changed nothing: Dovecot turns on modification sequences for
  // good in a folder whose STATUS asks for HIGHESTMODSEQ (cursors then
  // change shape), so Discover never asks for it. A fresh session (that
  // STATUS also enables CONDSTORE for the session asking, RFC 7162 3.1)
  // and a folder the test's own Session::Status did not touch.
  std::unique_ptr<imap::Session> fresh = Login();
  ASSERT_NE(fresh, nullptr);
  absl::StatusOr<imap::MailboxInfo> examined = fresh->Examine(subscribed);
  ASSERT_TRUE(examined.ok()) << examined.status();
  if (GetParam() == ServerKind::kDovecot) {
    EXPECT_EQ(examined->highest_modseq, 0u);
  }

  const Folder* c = Find(r, leaf);
  ASSERT_NE(c, nullptr) << "the nested folder a/b/c";
  EXPECT_TRUE(c->selectable());
  EXPECT_EQ(c->messages(), 1u);
  EXPECT_EQ(c->unseen(), 0u);

  // The parents the test did not create: a level of the hierarchy only
  // (\Noselect or \NonExistent, no counts, no error) where the server
  // makes them so, else ordinary empty folders.
  int noselect_parents = 0;
  for (const std::string& parent : {Name({"a"}), Name({"a", "b"})}) {
    const Folder* p = Find(r, parent);
    if (p == nullptr) continue;
    EXPECT_TRUE(p->error().empty()) << parent << ": " << p->error();
    if (HasAttribute(*p, "\\Noselect") || HasAttribute(*p, "\\NonExistent")) {
      ++noselect_parents;
      EXPECT_FALSE(p->selectable()) << parent;
      EXPECT_EQ(p->messages(), 0u) << parent;
      EXPECT_EQ(p->uid_validity(), 0u) << parent;
    } else {
      EXPECT_TRUE(p->selectable()) << parent;
      EXPECT_EQ(p->messages(), 0u) << parent;
      EXPECT_NE(p->uid_validity(), 0u) << parent;
    }
  }
  std::cerr << testing_fixtures::ServerKindName(GetParam()) << ": " << noselect_parents
            << " \\Noselect parents of a/b/c; "
            << (Step(r, "list") != nullptr ? Step(r, "list")->detail() : "") << "\n";

  const Folder* s = Find(r, subscribed);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->subscribed());
  EXPECT_EQ(s->messages(), 2u);
  EXPECT_EQ(s->unseen(), 2u);
  const Folder* u = Find(r, unsubscribed);
  ASSERT_NE(u, nullptr);
  EXPECT_FALSE(u->subscribed());
  EXPECT_EQ(u->messages(), 0u);

  // The columns a query may use, and the language's version.
  bool subject = false, uid = false;
  for (const connector::v1::ColumnSchema& col : r.columns()) {
    if (col.name() == "subject") subject = col.type() == connector::v1::COLUMN_TYPE_STRING;
    if (col.name() == "uid") uid = col.type() == connector::v1::COLUMN_TYPE_INTEGER;
    EXPECT_FALSE(col.description().empty()) << col.name();
  }
  EXPECT_TRUE(subject && uid);
  EXPECT_FALSE(r.query_language_version().empty());

  const connector::v1::PlanStep* list = Step(r, "list");
  ASSERT_NE(list, nullptr);
  if (engine_->HasCapability("LIST-STATUS")) {
    EXPECT_THAT(list->detail(), HasSubstr("LIST-STATUS"));
  } else {
    EXPECT_THAT(list->detail(), HasSubstr("pipelined STATUS"));
  }
  EXPECT_NE(Step(r, "login"), nullptr);
}

// The engine's two ways agree on a real server: LIST-STATUS (or LIST
// RETURN (SUBSCRIBED)) and plain LIST + LSUB + pipelined STATUS.
TEST_P(DiscoverTest, FallbackAgreesWithExtensions) {
  const std::string one = Name({"one"});
  const std::string two = Name({"zwei", "drei"});
  Create(prefix_);
  Create(one);
  Create(two);
  Fill(one, 3, 1);
  Fill(two, 2, 2);
  ASSERT_TRUE(engine_->Subscribe(two).ok());
  (void)engine_->Subscribe(one, false);

  absl::StatusOr<imap::ListFoldersResult> extended = engine_->ListFolders();
  ASSERT_TRUE(extended.ok()) << extended.status();
  imap::ListFoldersOptions plain_options;
  plain_options.use_extensions = false;
  plain_options.status_window = 2;  // several windows
  absl::StatusOr<imap::ListFoldersResult> plain = engine_->ListFolders(plain_options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->used_list_status);
  EXPECT_EQ(extended->used_list_status, engine_->HasCapability("LIST-STATUS"));

  std::map<std::string, const imap::FolderStatus*> by_name;
  for (const imap::FolderStatus& f : extended->folders) by_name[f.entry.name] = &f;
  ASSERT_EQ(plain->folders.size(), extended->folders.size());
  int selectable = 0;
  for (const imap::FolderStatus& f : plain->folders) {
    ASSERT_EQ(by_name.count(f.entry.name), 1u) << f.entry.name;
    const imap::FolderStatus& e = *by_name[f.entry.name];
    EXPECT_EQ(f.selectable, e.selectable) << f.entry.name;
    EXPECT_EQ(f.subscribed, e.subscribed) << f.entry.name;
    EXPECT_TRUE(f.error.ok()) << f.error;
    EXPECT_EQ(f.status.messages, e.status.messages) << f.entry.name;
    EXPECT_EQ(f.status.unseen, e.status.unseen) << f.entry.name;
    EXPECT_EQ(f.status.uid_validity, e.status.uid_validity) << f.entry.name;
    EXPECT_EQ(f.status.uid_next, e.status.uid_next) << f.entry.name;
    if (f.selectable) ++selectable;
  }
  EXPECT_EQ(plain->status_commands, selectable);
  const imap::FolderStatus* o = by_name[one];
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->status.messages.value_or(99), 3u);
  EXPECT_EQ(o->status.unseen.value_or(99), 2u);
  EXPECT_FALSE(o->subscribed);
  const imap::FolderStatus* t = by_name[two];
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->status.unseen.value_or(99), 0u);
  EXPECT_TRUE(t->subscribed);
  // The session is still usable after the pipelined commands.
  EXPECT_TRUE(engine_->Noop().ok());
}

INSTANTIATE_TEST_SUITE_P(Servers, DiscoverTest,
                         ::testing::Values(ServerKind::kDovecot, ServerKind::kCyrus, ServerKind::kCourier),
                         [](const ::testing::TestParamInfo<ServerKind>& param) {
                           return std::string(testing_fixtures::ServerKindName(param.param));
                         });

// --- a folder that vanishes between LIST and STATUS ----------------------

Connection HostileConnection(int port) {
  Connection c;
  c.set_name("vanishing");
  c.set_server_url("127.0.0.1");
  c.set_port(port);
  c.set_security(connector::v1::SECURITY_NONE);
  c.set_username("alice");
  c.set_password("alice-password");
  c.set_timeout_ms(2000);
  return c;
}

class VanishingFolderTest : public ::testing::TestWithParam<bool> {};

TEST_P(VanishingFolderTest, FolderDeletedDuringTheCallIsListedWithItsError) {
  const bool list_status = GetParam();
  std::vector<std::string> args = {"--vanishing-folder", "Gone"};
  if (list_status) args.push_back("--list-status");
  HostileServer server(args);
  ASSERT_GT(server.port(), 0);

  DiscoverResponse r;
  grpc::Status status = Discover(HostileConnection(server.port()), &r);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();

  std::vector<std::string> names;
  for (const Folder& f : r.folders()) names.push_back(f.name());
  EXPECT_THAT(names, ::testing::ElementsAre("INBOX", "Gone", "Projects", "Projects/Entwürfe", "Sent"));

  const Folder* gone = Find(r, "Gone");
  ASSERT_NE(gone, nullptr);
  EXPECT_THAT(gone->error(), HasSubstr("NONEXISTENT"));
  EXPECT_THAT(gone->error(), HasSubstr("STATUS \"Gone\""));
  EXPECT_TRUE(gone->selectable());
  EXPECT_EQ(gone->messages(), 0u);
  EXPECT_EQ(gone->uid_validity(), 0u);

  const Folder* inbox = Find(r, "INBOX");
  ASSERT_NE(inbox, nullptr);
  EXPECT_EQ(inbox->messages(), 3u);
  EXPECT_EQ(inbox->unseen(), 1u);
  EXPECT_EQ(inbox->uid_next(), 4u);
  EXPECT_EQ(inbox->uid_validity(), 7001u);
  EXPECT_TRUE(inbox->subscribed());
  EXPECT_TRUE(inbox->error().empty());

  const Folder* projects = Find(r, "Projects");
  ASSERT_NE(projects, nullptr);
  EXPECT_FALSE(projects->selectable());
  EXPECT_FALSE(projects->subscribed());
  EXPECT_TRUE(projects->error().empty());

  const Folder* drafts = Find(r, "Projects/Entwürfe");
  ASSERT_NE(drafts, nullptr);
  EXPECT_EQ(drafts->role(), "\\Drafts");
  EXPECT_EQ(drafts->delimiter(), "/");
  EXPECT_EQ(drafts->messages(), 5u);
  EXPECT_EQ(drafts->unseen(), 2u);
  EXPECT_TRUE(drafts->subscribed());
  EXPECT_FALSE(drafts->has_size()) << "the server has no STATUS=SIZE";

  const Folder* sent = Find(r, "Sent");
  ASSERT_NE(sent, nullptr);
  EXPECT_EQ(sent->role(), "\\Sent");
  EXPECT_FALSE(sent->subscribed());
  EXPECT_EQ(sent->messages(), 7u);

  const connector::v1::PlanStep* list = Step(r, "list");
  ASSERT_NE(list, nullptr);
  if (list_status) {
    // Only the folder LIST-STATUS left out was asked again.
    EXPECT_THAT(list->detail(), HasSubstr("LIST-STATUS (RFC 5819) and 1 pipelined STATUS command;"));
  } else {
    EXPECT_THAT(list->detail(), HasSubstr("4 pipelined STATUS commands"));
  }
  EXPECT_THAT(list->detail(), HasSubstr("; 1 folder could not be read"));

  // Queries name folders by role the way Discover reports them.
  auto stub = connector::v1::Connector::NewStub(shared->connector->channel());
  connector::v1::TestQueryRequest q;
  *q.mutable_connection()->mutable_connection() = HostileConnection(server.port());
  q.set_query("SELECT uid FROM role:drafts");
  q.set_sample_size(1);
  connector::v1::TestQueryResponse answer;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  status = stub->TestQuery(&ctx, q, &answer);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answer.folders_size(), 1);
  EXPECT_EQ(answer.folders(0).folder(), drafts->name());
}

INSTANTIATE_TEST_SUITE_P(Modes, VanishingFolderTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return std::string(param.param ? "ListStatus" : "PipelinedStatus");
                         });

TEST(DiscoverErrorsTest, ConnectionErrorsHaveTheirCodes) {
  auto stub = connector::v1::Connector::NewStub(shared->connector->channel());
  {
    DiscoverRequest request;
    request.mutable_connection()->set_name("no-such-connection");
    DiscoverResponse response;
    grpc::ClientContext ctx;
    grpc::Status status = stub->Discover(&ctx, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  }
  HostileServer server({"--vanishing-folder", "Gone"});
  ASSERT_GT(server.port(), 0);
  Connection c = HostileConnection(server.port());
  c.set_password("wrong");
  DiscoverResponse response;
  grpc::Status status = Discover(c, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::Not(HasSubstr("wrong")));
  c = HostileConnection(server.port());
  c.set_is_active(false);
  status = Discover(c, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
}

// A client that gives up ends the call at once, though the IMAP server
// (which never answers LIST) would keep it waiting for the whole
// timeout_ms.
TEST(DiscoverErrorsTest, CancelledCallEndsPromptly) {
  HostileServer server({"--vanishing-folder", "Gone", "--stall-list"});
  ASSERT_GT(server.port(), 0);
  Connection c = HostileConnection(server.port());
  c.set_timeout_ms(120000);
  auto stub = connector::v1::Connector::NewStub(shared->connector->channel());
  DiscoverRequest request;
  *request.mutable_connection()->mutable_connection() = c;
  DiscoverResponse response;
  grpc::ClientContext ctx;
  std::thread canceller([&] {
    // Once the connector has logged in (and is about to wait for LIST).
    const absl::Time until = absl::Now() + absl::Seconds(20);
    while (server.Stat("logins") < 1 && absl::Now() < until) absl::SleepFor(absl::Milliseconds(20));
    ctx.TryCancel();
  });
  const absl::Time start = absl::Now();
  grpc::Status status = stub->Discover(&ctx, request, &response);
  canceller.join();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_EQ(server.Stat("logins"), 1);
  // The server's side ended too (it logs the call's end), long before the
  // IMAP server's silence would have reached timeout_ms.
  auto ended = [] {
    for (absl::string_view line : absl::StrSplit(shared->connector->log(), '\n')) {
      if (absl::StrContains(line, "Discover") && absl::StrContains(line, "CANCELLED")) return true;
    }
    return false;
  };
  while (!ended() && absl::Now() - start < absl::Seconds(15)) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(ended()) << shared->connector->log();
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new Environment);
  return RUN_ALL_TESTS();
}
