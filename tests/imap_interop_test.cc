// The IMAP engine against real servers started for this test: every
// command and authentication mechanism each server supports.
#include <openssl/sha.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/records/query_runner.h"
#include "imap/session/fetch.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "tests/fixtures/imap_server_fixture.h"

namespace imap {
namespace {

using testing_fixtures::ImapServerFixture;
using testing_fixtures::ServerKind;
using ::testing::Contains;
using ::testing::HasSubstr;

// One server of each kind for the whole run, started on first use and
// stopped when the run ends (so no process is left behind).
std::map<ServerKind, std::unique_ptr<ImapServerFixture>>& Servers() {
  static auto* servers = new std::map<ServerKind, std::unique_ptr<ImapServerFixture>>();
  return *servers;
}

ImapServerFixture* Server(ServerKind kind) {
  auto it = Servers().find(kind);
  if (it == Servers().end()) {
    absl::StatusOr<std::unique_ptr<ImapServerFixture>> s = ImapServerFixture::Start(kind);
    if (!s.ok()) return nullptr;
    it = Servers().emplace(kind, *std::move(s)).first;
  }
  return it->second.get();
}

class StopServers : public ::testing::Environment {
 public:
  void TearDown() override { Servers().clear(); }
};
const auto* const kStopServers = ::testing::AddGlobalTestEnvironment(new StopServers);

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string UniqueName(absl::string_view base) {
  static int counter = 0;
  return absl::StrCat(base, "-", getpid(), "-", ++counter);
}

// A message of about `size` bytes with a recognisable subject.
std::string MakeMessage(absl::string_view subject, size_t body_size = 200) {
  std::string body;
  while (body.size() < body_size) {
    absl::StrAppend(&body, "line ", body.size(), " of the body, plain ASCII text\r\n");
  }
  return absl::StrCat("From: Tester <tester@example.com>\r\nTo: alice@example.com\r\n",
                      "Subject: ", subject, "\r\nDate: Mon, 06 Jan 2025 09:00:00 +0000\r\n",
                      "Message-ID: <", UniqueName("msg"), "@example.com>\r\n",
                      "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", body);
}

class InteropTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    server_ = Server(GetParam());
    ASSERT_NE(server_, nullptr) << "could not start " << ServerKindName(GetParam());
  }

  // A session over implicit TLS, greeted, not logged in.
  std::unique_ptr<Session> Connect(SessionOptions options = SessionOptions()) {
    absl::StatusOr<std::unique_ptr<Transport>> t =
        DialTcp("localhost", server_->imaps_port(), absl::Now() + absl::Seconds(10));
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return nullptr;
    TlsOptions tls;
    tls.server_name = "localhost";
    tls.extra_ca_pem = server_->ca_pem();
    absl::Status s = (*t)->StartTls(tls, absl::Now() + absl::Seconds(10));
    EXPECT_TRUE(s.ok()) << s;
    auto session = std::make_unique<Session>(*std::move(t), options);
    absl::StatusOr<Greeting> g = session->ReadGreeting();
    EXPECT_TRUE(g.ok()) << g.status();
    return session;
  }

  std::unique_ptr<Session> LoggedIn(const char* user = ImapServerFixture::kUser,
                                    const char* password = ImapServerFixture::kPassword) {
    std::unique_ptr<Session> s = Connect();
    if (s == nullptr) return nullptr;
    absl::Status st = s->Login(user, password, AuthMethod::kAuto);
    EXPECT_TRUE(st.ok()) << st;
    if (s->capabilities().empty() || !s->HasCapability("IMAP4REV1")) {
      EXPECT_TRUE(s->RefreshCapabilities().ok());
    }
    return s;
  }

  // Creates a folder for one test; returns its name.
  std::string NewFolder(Session* s, absl::string_view base) {
    const std::string name = UniqueName(base);
    absl::Status st = s->Create(name);
    EXPECT_TRUE(st.ok()) << st;
    return name;
  }

  // Fetches BODY.PEEK[] of `uids` and returns uid -> bytes (streamed or not).
  std::map<uint32_t, std::string> FetchBodies(Session* s, const std::vector<wire::UidSet>& sets,
                                              size_t* max_buffered = nullptr) {
    std::map<uint32_t, std::string> bodies;
    absl::StatusOr<std::unique_ptr<FetchStream>> f = s->UidFetch(sets, "(UID BODY.PEEK[])");
    EXPECT_TRUE(f.ok()) << f.status();
    if (!f.ok()) return bodies;
    std::string current;
    while (true) {
      absl::StatusOr<FetchStream::Event> e = (*f)->Next();
      EXPECT_TRUE(e.ok()) << e.status();
      if (!e.ok() || *e == FetchStream::Event::kDone) break;
      if (*e == FetchStream::Event::kBody) {
        current.clear();
        char buf[65536];
        while (true) {
          absl::StatusOr<size_t> n = (*f)->ReadBody(buf, sizeof(buf));
          EXPECT_TRUE(n.ok()) << n.status();
          if (!n.ok() || *n == 0) break;
          current.append(buf, *n);
        }
        EXPECT_EQ(current.size(), (*f)->body().size);
        continue;
      }
      const wire::Response& m = (*f)->message();
      uint32_t uid = 0;
      std::string body;
      const std::vector<wire::Value>& items = m.values[0].list;
      for (size_t i = 0; i + 1 < items.size(); i += 2) {
        if (items[i].IsAtom("UID")) uid = static_cast<uint32_t>(items[i + 1].number);
        if (items[i].IsAtom("BODY[]")) body = items[i + 1].streamed ? current : items[i + 1].text;
      }
      EXPECT_NE(uid, 0u) << m.DebugString();
      bodies[uid] = body;
    }
    if (max_buffered != nullptr) *max_buffered = (*f)->max_buffered();
    return bodies;
  }

  ImapServerFixture* server_ = nullptr;
};

TEST_P(InteropTest, PasswordMechanisms) {
  std::unique_ptr<Session> probe = Connect();
  ASSERT_NE(probe, nullptr);
  ASSERT_TRUE(probe->RefreshCapabilities().ok());
  std::vector<AuthMethod> methods = {AuthMethod::kAuto, AuthMethod::kLogin, AuthMethod::kPlain};
  for (AuthMethod m : {AuthMethod::kScramSha1, AuthMethod::kScramSha256}) {
    if (probe->HasCapability(absl::StrCat("AUTH=", AuthMethodName(m)))) methods.push_back(m);
  }
  if (GetParam() == ServerKind::kDovecot || GetParam() == ServerKind::kCyrus) {
    // Both sandboxes are configured to offer SCRAM-SHA-256.
    EXPECT_TRUE(probe->HasCapability("AUTH=SCRAM-SHA-256"));
  }
  for (AuthMethod m : methods) {
    SCOPED_TRACE(AuthMethodName(m));
    std::unique_ptr<Session> good = Connect();
    ASSERT_NE(good, nullptr);
    absl::Status st = good->Login(ImapServerFixture::kUser, ImapServerFixture::kPassword, m);
    EXPECT_TRUE(st.ok()) << st;
    EXPECT_TRUE(good->Examine("INBOX").ok());
    std::unique_ptr<Session> bad = Connect();
    ASSERT_NE(bad, nullptr);
    st = bad->Login(ImapServerFixture::kUser, "wrong-password", m);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
    EXPECT_EQ(GetErrorKind(st), ErrorKind::kAuth);
    EXPECT_THAT(std::string(st.message()), ::testing::Not(HasSubstr("wrong-password")));
  }
}

TEST_P(InteropTest, BearerTokens) {
  if (GetParam() != ServerKind::kDovecot) GTEST_SKIP() << "only the Dovecot sandbox accepts tokens";
  for (AuthMethod m : {AuthMethod::kXoauth2, AuthMethod::kOauthBearer}) {
    SCOPED_TRACE(AuthMethodName(m));
    std::unique_ptr<Session> good = Connect();
    ASSERT_NE(good, nullptr);
    absl::Status st = good->Login(ImapServerFixture::kUser, "good-token-alice", m);
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_TRUE(good->Examine("INBOX").ok());
    std::unique_ptr<Session> bad = Connect();
    ASSERT_NE(bad, nullptr);
    st = bad->Login(ImapServerFixture::kUser, "expired-token", m);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnauthenticated) << st;
    // The session is still usable after a refused token.
    EXPECT_TRUE(bad->Noop().ok());
  }
}

TEST_P(InteropTest, IdEnableNoop) {
  std::unique_ptr<Session> s = LoggedIn();
  ASSERT_NE(s, nullptr);
  if (s->HasCapability("ID")) {
    absl::StatusOr<std::map<std::string, std::string>> id = s->Id({{"name", "imap-connector"}});
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_TRUE(id->count("name")) << "server sent no name";
  }
  if (s->HasCapability("ENABLE") && s->HasCapability("CONDSTORE")) {
    absl::StatusOr<std::vector<std::string>> enabled = s->Enable({"CONDSTORE"});
    ASSERT_TRUE(enabled.ok()) << enabled.status();
    EXPECT_THAT(*enabled, Contains("CONDSTORE"));
    absl::StatusOr<MailboxInfo> box = s->Examine("INBOX");
    ASSERT_TRUE(box.ok());
    EXPECT_GT(box->highest_modseq, 0u);
  }
  EXPECT_TRUE(s->Noop().ok());
  EXPECT_TRUE(s->Logout().ok());
}

TEST_P(InteropTest, FoldersWithNonAsciiNames) {
  std::unique_ptr<Session> s = LoggedIn();
  ASSERT_NE(s, nullptr);
  absl::StatusOr<std::vector<ListEntry>> all = s->List("", "*");
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<std::string> names;
  for (const ListEntry& e : *all) names.push_back(e.name);
  EXPECT_THAT(names, Contains("INBOX"));
  bool found_drafts = false;
  for (const std::string& n : names) found_drafts |= absl::EndsWith(n, "Entw\xc3\xbc" "rfe");
  EXPECT_TRUE(found_drafts) << ::testing::PrintToString(names);

  const std::string folder = NewFolder(s.get(), "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 & co");
  absl::StatusOr<std::vector<ListEntry>> listed = s->List("", folder);
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, folder);
  EXPECT_NE((*listed)[0].wire_name, folder);  // went over the wire in modified UTF-7

  absl::StatusOr<MailboxInfo> empty = s->Examine(folder);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->exists, 0u);
  EXPECT_TRUE(empty->read_only);
  absl::StatusOr<StatusInfo> st = s->Status("INBOX");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->messages, static_cast<uint32_t>(ImapServerFixture::kInboxMessages));
  EXPECT_TRUE(st->uid_validity.has_value());

  EXPECT_EQ(s->Examine("No such folder").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s->Status("No such folder").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(s->Select("INBOX").ok());  // a folder that is selected cannot always be deleted
  EXPECT_TRUE(s->Delete(folder).ok());
  listed = s->List("", folder);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_P(InteropTest, FolderWildcardsExpandWithList) {
  std::unique_ptr<Session> s = LoggedIn();
  ASSERT_NE(s, nullptr);
  absl::StatusOr<std::vector<ListEntry>> root = s->List("", "");
  ASSERT_TRUE(root.ok());
  ASSERT_FALSE(root->empty());
  const char sep = (*root)[0].delimiter;
  const std::string top = UniqueName("proj");
  const std::string child = absl::StrCat(top, std::string(1, sep), "2024");
  ASSERT_TRUE(s->Create(top).ok());
  ASSERT_TRUE(s->Create(child).ok());
  // "/" in a pattern stands for the server's separator, whatever it is.
  absl::StatusOr<std::vector<std::string>> folders =
      records::ResolveFolders(*s, {absl::StrCat(top, "/*"), "INBOX", absl::StrCat(top, "*")}, "INBOX");
  ASSERT_TRUE(folders.ok()) << folders.status();
  EXPECT_THAT(*folders, ::testing::ElementsAre(child, "INBOX", top));
  folders = records::ResolveFolders(*s, {}, "Archive");
  ASSERT_TRUE(folders.ok());
  EXPECT_THAT(*folders, ::testing::ElementsAre("Archive"));
  folders = records::ResolveFolders(*s, {"no-such-*"}, "INBOX");
  ASSERT_TRUE(folders.ok());
  EXPECT_TRUE(folders->empty());
}

TEST_P(InteropTest, AppendSearchFetchRoundTrip) {
  std::unique_ptr<Session> s = LoggedIn();
  ASSERT_NE(s, nullptr);
  const std::string folder = NewFolder(s.get(), "roundtrip");
  const std::string m1 = MakeMessage("=?utf-8?q?Rechnung_f=C3=BCr_Januar?=");
  const std::string m2 = MakeMessage("Quarterly report", 5000);
  const std::string m3 = MakeMessage("Lunch on Friday");
  std::vector<uint32_t> uids;
  for (const std::string* m : {&m1, &m2, &m3}) {
    absl::StatusOr<AppendResult> a = s->Append(folder, *m, {"\\Seen"});
    ASSERT_TRUE(a.ok()) << a.status();
    if (s->HasCapability("UIDPLUS")) {
      ASSERT_TRUE(a->uid.has_value());
      uids.push_back(*a->uid);
    }
  }
  ASSERT_TRUE(s->Examine(folder).ok());
  Session::SearchCriteria all;
  all.Key("ALL");
  absl::StatusOr<wire::UidSet> found = s->UidSearch(all);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->size(), 3u);
  if (!uids.empty()) {
    EXPECT_EQ(found->ToVector(), uids);
  }

  Session::SearchCriteria by_subject;
  by_subject.Key("SUBJECT").String("Rechnung f\xc3\xbcr");  // needs CHARSET UTF-8
  found = s->UidSearch(by_subject);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 1u);
  const uint32_t invoice_uid = found->min();

  Session::SearchCriteria injection;
  injection.Key("SUBJECT").String("x\r\nA99 LOGOUT");  // a literal, not a command
  found = s->UidSearch(injection);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->empty());

  wire::UidSet every;
  every.AddRange(1, 0xFFFFFFFFu);
  std::map<uint32_t, std::string> bodies = FetchBodies(s.get(), {every});
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[invoice_uid], m1);
  std::vector<std::string> got;
  for (const auto& [uid, body] : bodies) got.push_back(body);
  EXPECT_THAT(got, ::testing::UnorderedElementsAre(m1, m2, m3));
}

TEST_P(InteropTest, PipelinedFetchReturnsEveryMessageOnce) {
  std::unique_ptr<Session> s = LoggedIn();
  ASSERT_NE(s, nullptr);
  const std::string folder = NewFolder(s.get(), "pipeline");
  std::map<std::string, int> expected;
  for (int i = 0; i < 30; ++i) {
    const std::string m = MakeMessage(absl::StrCat("message ", i), 100 + static_cast<size_t>(i) * 9000);
    expected[m]++;
    ASSERT_TRUE(s->Append(folder, m).ok());
  }
  ASSERT_TRUE(s->Examine(folder).ok());
  Session::SearchCriteria all;
  all.Key("ALL");
  absl::StatusOr<wire::UidSet> uids = s->UidSearch(all);
  ASSERT_TRUE(uids.ok());
  std::map<uint32_t, std::string> bodies = FetchBodies(s.get(), uids->Chunks(7));
  ASSERT_EQ(bodies.size(), 30u);
  std::map<std::string, int> got;
  for (const auto& [uid, body] : bodies) got[body]++;
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(s->Noop().ok());  // the connection is free again
}

TEST_P(InteropTest, TwentyMegabyteMessageStreamsInBoundedMemory) {
  std::unique_ptr<Session> s = LoggedIn();
  ASSERT_NE(s, nullptr);
  const std::string folder = NewFolder(s.get(), "big");
  const std::string big = MakeMessage("twenty megabytes", 20u << 20);
  ASSERT_TRUE(s->Append(folder, big).ok());
  ASSERT_TRUE(s->Examine(folder).ok());
  wire::UidSet every;
  every.AddRange(1, 0xFFFFFFFFu);
  size_t max_buffered = 0;
  std::map<uint32_t, std::string> bodies = FetchBodies(s.get(), {every}, &max_buffered);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies.begin()->second.size(), big.size());
  EXPECT_EQ(Sha256Hex(bodies.begin()->second), Sha256Hex(big));
  // The parser never held more than a few reads' worth of the body.
  EXPECT_LT(max_buffered, 1u << 20);
}

TEST_P(InteropTest, StoreCopyMoveExpunge) {
  std::unique_ptr<Session> s = LoggedIn();
  ASSERT_NE(s, nullptr);
  const std::string source = NewFolder(s.get(), "source");
  const std::string target = NewFolder(s.get(), "target");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s->Append(source, MakeMessage(absl::StrCat("m", i))).ok());
  absl::StatusOr<MailboxInfo> box = s->Select(source);
  ASSERT_TRUE(box.ok());
  Session::SearchCriteria all;
  all.Key("ALL");
  wire::UidSet uids = s->UidSearch(all).value();
  ASSERT_EQ(uids.size(), 3u);

  wire::UidSet first;
  first.Add(uids.min());
  ASSERT_TRUE(s->UidStore(first, "+FLAGS.SILENT", {"\\Flagged", "Project-X"}).ok());
  Session::SearchCriteria flagged;
  flagged.Key("FLAGGED");
  EXPECT_EQ(s->UidSearch(flagged).value(), first);
  Session::SearchCriteria keyword;
  keyword.Key("KEYWORD Project-X");
  EXPECT_EQ(s->UidSearch(keyword).value(), first);
  EXPECT_EQ(s->UidStore(first, "+FLAGS", {"bad flag"}).code(), absl::StatusCode::kInvalidArgument);

  absl::StatusOr<CopyResult> copied = s->UidCopy(first, target);
  ASSERT_TRUE(copied.ok()) << copied.status();
  if (s->HasCapability("UIDPLUS")) {
    EXPECT_EQ(copied->source_uids, first);
    EXPECT_EQ(copied->destination_uids.size(), 1u);
  }
  absl::StatusOr<CopyResult> moved = s->UidMove(uids, target);
  ASSERT_TRUE(moved.ok()) << moved.status();
  if (s->HasCapability("UIDPLUS")) {
    EXPECT_EQ(moved->destination_uids.size(), 3u);
  }
  EXPECT_TRUE(s->UidSearch(all).value().empty());
  absl::StatusOr<StatusInfo> st = s->Status(target);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->messages, 4u);

  ASSERT_TRUE(s->Select(target).ok());
  wire::UidSet in_target = s->UidSearch(all).value();
  wire::UidSet one;
  one.Add(in_target.min());
  ASSERT_TRUE(s->UidStore(one, "+FLAGS.SILENT", {"\\Deleted"}).ok());
  ASSERT_TRUE(s->UidExpunge(one).ok());
  EXPECT_EQ(s->UidSearch(all).value().size(), 3u);
  std::vector<MailboxEvent> events = s->TakeEvents();
  bool saw_expunge = false;
  for (const MailboxEvent& e : events) saw_expunge |= e.kind == MailboxEvent::Kind::kExpunge;
  EXPECT_TRUE(saw_expunge);
}

TEST_P(InteropTest, IdleReportsNewMail) {
  std::unique_ptr<Session> watcher = LoggedIn();
  std::unique_ptr<Session> writer = LoggedIn();
  ASSERT_NE(watcher, nullptr);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(watcher->HasCapability("IDLE"));
  const std::string folder = NewFolder(writer.get(), "idle");
  ASSERT_TRUE(watcher->Select(folder).ok());
  ASSERT_TRUE(writer->Append(folder, MakeMessage("wake up")).ok());
  // The watcher has not seen the new message yet; IDLE reports it.
  absl::StatusOr<std::vector<MailboxEvent>> events = watcher->Idle(absl::Seconds(30));
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_FALSE(events->empty());
  EXPECT_EQ((*events)[0].kind, MailboxEvent::Kind::kExists);
  EXPECT_EQ((*events)[0].number, 1u);
  EXPECT_EQ(watcher->selected()->exists, 1u);
  // With nothing new, IDLE returns when its time is up, and the session
  // goes on.
  events = watcher->Idle(absl::Milliseconds(300));
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty());
  EXPECT_TRUE(watcher->Noop().ok());
}

TEST_P(InteropTest, MessagesExpungedByAnotherConnectionWhileFetching) {
  std::unique_ptr<Session> reader = LoggedIn();
  std::unique_ptr<Session> remover = LoggedIn();
  ASSERT_NE(reader, nullptr);
  ASSERT_NE(remover, nullptr);
  const std::string folder = NewFolder(remover.get(), "vanishing");
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(remover->Append(folder, MakeMessage(absl::StrCat("v", i), 2000)).ok());
  }
  ASSERT_TRUE(reader->Examine(folder).ok());
  Session::SearchCriteria all;
  all.Key("ALL");
  wire::UidSet uids = reader->UidSearch(all).value();
  absl::StatusOr<std::unique_ptr<FetchStream>> f =
      reader->UidFetch(uids.Chunks(10), "(UID RFC822.SIZE BODY.PEEK[])");
  ASSERT_TRUE(f.ok());
  absl::StatusOr<FetchStream::Event> e = (*f)->Next();
  ASSERT_TRUE(e.ok()) << e.status();
  // Now another connection removes every message.
  ASSERT_TRUE(remover->Select(folder).ok());
  ASSERT_TRUE(remover->UidStore(uids, "+FLAGS.SILENT", {"\\Deleted"}).ok());
  ASSERT_TRUE(remover->UidExpunge(uids).ok());
  // The reader's stream still ends cleanly: with what the server still
  // delivers, or with the server's NO for what it cannot.
  int messages = 0;
  absl::Status end;
  while (true) {
    e = (*f)->Next();
    if (!e.ok()) {
      end = e.status();
      break;
    }
    if (*e == FetchStream::Event::kDone) break;
    if (*e != FetchStream::Event::kMessage) continue;
    // The server may also tell us about the other connection's flag
    // changes with FETCH responses that carry no body.
    bool has_body = false;
    for (const wire::Value& v : (*f)->message().values[0].list) has_body |= v.IsAtom("BODY[]");
    if (has_body) ++messages;
  }
  EXPECT_TRUE(end.ok() || end.code() == absl::StatusCode::kFailedPrecondition ||
              end.code() == absl::StatusCode::kUnavailable)
      << end;
  EXPECT_LE(messages, 40);
  f->reset();
  EXPECT_TRUE(reader->Noop().ok());  // and the connection is usable
}

TEST_P(InteropTest, StartTlsAndCompress) {
  absl::StatusOr<std::unique_ptr<Transport>> t =
      DialTcp("localhost", server_->imap_port(), absl::Now() + absl::Seconds(10));
  ASSERT_TRUE(t.ok());
  Session s(*std::move(t), SessionOptions());
  ASSERT_TRUE(s.ReadGreeting().ok());
  ASSERT_TRUE(s.RefreshCapabilities().ok());
  // Without TLS no credentials go out.
  EXPECT_EQ(s.Login(ImapServerFixture::kUser, ImapServerFixture::kPassword, AuthMethod::kAuto).code(),
            absl::StatusCode::kFailedPrecondition);
  TlsOptions tls;
  tls.server_name = "localhost";
  tls.extra_ca_pem = server_->ca_pem();
  ASSERT_TRUE(s.StartTls(tls).ok());
  ASSERT_TRUE(s.Login(ImapServerFixture::kUser, ImapServerFixture::kPassword, AuthMethod::kAuto).ok());
  if (s.capabilities().empty()) {
    ASSERT_TRUE(s.RefreshCapabilities().ok());
  }
  if (!s.HasCapability("COMPRESS=DEFLATE")) GTEST_SKIP() << "no COMPRESS=DEFLATE offered";
  ASSERT_TRUE(s.Compress().ok());
  EXPECT_TRUE(s.compressed());
  absl::StatusOr<MailboxInfo> box = s.Examine("INBOX");
  ASSERT_TRUE(box.ok()) << box.status();
  EXPECT_EQ(box->exists, static_cast<uint32_t>(ImapServerFixture::kInboxMessages));
  wire::UidSet every;
  every.AddRange(1, 0xFFFFFFFFu);
  std::map<uint32_t, std::string> bodies = FetchBodies(&s, {every});
  EXPECT_EQ(bodies.size(), static_cast<size_t>(ImapServerFixture::kInboxMessages));
  for (const auto& [uid, body] : bodies) EXPECT_THAT(body, HasSubstr("Message-ID:"));
  EXPECT_TRUE(s.Logout().ok());
}

std::string ServerName(const ::testing::TestParamInfo<ServerKind>& param_info) {
  return testing_fixtures::ServerKindName(param_info.param);
}

INSTANTIATE_TEST_SUITE_P(Servers, InteropTest,
                         ::testing::Values(ServerKind::kDovecot, ServerKind::kCyrus), ServerName);

}  // namespace
}  // namespace imap
