// OAuth 2.0 end to end: the real server binary logs in to Dovecot with
// XOAUTH2, Dovecot checks every token against the test authorization
// server (scripts/oauth-introspect.py, started by the Dovecot sandbox),
// and the connector gets its tokens from that server's token endpoint.
// Tokens live 2 seconds here, so streams outlive many of them; a cutting
// proxy makes them reconnect and log in again with fresh tokens.
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "imap/session/session.h"
#include "tests/fixtures/fault_proxy.h"
#include "tests/fixtures/engine_session.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/loopback_listener.h"
#include "tests/fixtures/server_process.h"
#include "tests/fixtures/temp_dir.h"

namespace {

using connector::v1::Connection;
using connector::v1::Record;
using connector::v1::StreamRecordsRequest;
using connector::v1::StreamRecordsResponse;
using testing_fixtures::ImapServerFixture;
using testing_fixtures::ServerKind;
using testing_fixtures::ServerProcess;
using ::testing::HasSubstr;

// One HTTP/1.0 request to 127.0.0.1:port; the answer's body ("" on error).
std::string Http(int port, const std::string& method, const std::string& path,
                 const std::string& body = "") {
  const int fd = testing_fixtures::ConnectToLoopback(port);
  if (fd < 0) return "";
  const std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
                   "Content-Length: ", body.size(), "\r\n\r\n", body);
  (void)!send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string answer;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) answer.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

// A number from the authorization server's /stats JSON.
int StatOf(const std::string& json, const std::string& key) {
  const size_t at = json.find(absl::StrCat("\"", key, "\": "));
  if (at == std::string::npos) return -1;
  absl::string_view rest = absl::string_view(json).substr(at + key.size() + 4);
  rest = rest.substr(0, rest.find_first_not_of("0123456789"));
  int v = -1;
  (void)absl::SimpleAtoi(rest, &v);
  return v;
}

class OAuthE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<ImapServerFixture>> imap = ImapServerFixture::Start(ServerKind::kDovecot);
    ASSERT_TRUE(imap.ok()) << imap.status();
    imap_ = imap->release();
    // OAUTH_URL is the introspection URL; the token endpoint is beside it.
    const std::string oauth_url = imap_->EnvValue("OAUTH_URL");
    absl::string_view url = oauth_url;
    ASSERT_TRUE(absl::ConsumePrefix(&url, "http://127.0.0.1:"));
    ASSERT_TRUE(absl::SimpleAtoi(url.substr(0, url.find('/')), &auth_port_));
    data_dir_ = new testing_fixtures::TempDir("imapc-oauth-e2e");
    ASSERT_TRUE(data_dir_->ok());
    StartConnector();
    // The folder every stream reads: 2,000 small messages.
    std::unique_ptr<imap::Session> s = EngineSession();
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->Create(kFolder).ok());
    for (int i = 1; i <= kMessages; ++i) {
      ASSERT_TRUE(s->Append(kFolder, absl::StrCat("From: a@example.com\r\nSubject: m", i,
                                                  "\r\nMessage-ID: <m", i, "@oauth.test>\r\n\r\nbody ", i, "\r\n"))
                      .ok());
    }
    (void)s->Logout();
  }
  static void TearDownTestSuite() {
    if (connector_ != nullptr) connector_->Stop(SIGTERM);
    delete connector_;
    delete imap_;
    delete data_dir_;
  }
  static void StartConnector() {
    absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(data_dir_->path());
    ASSERT_TRUE(s.ok()) << s.status();
    connector_ = s->release();
  }
  void SetUp() override {
    ASSERT_NE(connector_, nullptr);
    stub_ = connector::v1::Connector::NewStub(connector_->channel());
    Control(R"({"fail": "none", "delay": 0, "expires_in": 2, "rotate": false, "reset_stats": true})");
  }

  static std::unique_ptr<imap::Session> EngineSession() {
    return testing_fixtures::LoggedInEngineSession(*imap_);
  }

  static std::string Control(const std::string& json) { return Http(auth_port_, "POST", "/control", json); }
  static int Grants() { return StatOf(Http(auth_port_, "GET", "/stats"), "grants"); }

  // A connection that logs in with XOAUTH2 and a refresh-token grant.
  static Connection OAuthConnection(const std::string& name, int port = 0) {
    Connection c;
    c.set_name(name);
    c.set_username(ImapServerFixture::kUser);
    c.set_server_url(absl::StrCat("imaps://localhost:", port != 0 ? port : imap_->imaps_port()));
    c.mutable_tls()->set_ca_bundle_pem(imap_->ca_pem());
    c.set_timeout_ms(10000);
    c.set_default_folder(kFolder);
    c.set_auth_mechanism(connector::v1::AUTH_MECHANISM_XOAUTH2);
    auto* grant = c.mutable_oauth2()->mutable_refresh_token_grant();
    grant->set_token_url(absl::StrCat("http://127.0.0.1:", auth_port_, "/token"));
    grant->set_client_id("test-client");
    grant->set_client_secret("test-secret");
    grant->set_refresh_token("refresh-alice");
    return c;
  }

  struct Streamed {
    grpc::Status status;
    std::vector<Record> records;
  };
  // Streams `request`; `per_batch` is the reader's pause per batch (a slow
  // consumer, so that the stream outlives several tokens); with `until`,
  // cancels once it holds true.
  Streamed Stream(const StreamRecordsRequest& request, absl::Duration per_batch = absl::ZeroDuration(),
                  const std::function<bool(const std::vector<Record>&)>& until = nullptr,
                  connector::v1::Connector::Stub* stub = nullptr) {
    Streamed out;
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(240)));
    std::unique_ptr<grpc::ClientReader<StreamRecordsResponse>> reader =
        (stub != nullptr ? stub : stub_.get())->StreamRecords(&ctx, request);
    StreamRecordsResponse batch;
    while (reader->Read(&batch)) {
      for (const Record& r : batch.records()) out.records.push_back(r);
      if (until && until(out.records)) {
        ctx.TryCancel();
        break;
      }
      if (per_batch > absl::ZeroDuration()) absl::SleepFor(per_batch);
    }
    out.status = reader->Finish();
    return out;
  }

  connector::v1::TestConnectionResponse TestConnection(const Connection& c) {
    connector::v1::TestConnectionRequest req;
    *req.mutable_connection() = c;
    connector::v1::TestConnectionResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = stub_->TestConnection(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  static constexpr char kFolder[] = "oauth-e2e";
  static constexpr int kMessages = 2000;
  static ImapServerFixture* imap_;
  static ServerProcess* connector_;
  static testing_fixtures::TempDir* data_dir_;
  static int auth_port_;
  std::unique_ptr<connector::v1::Connector::Stub> stub_;
};

ImapServerFixture* OAuthE2eTest::imap_ = nullptr;
ServerProcess* OAuthE2eTest::connector_ = nullptr;
testing_fixtures::TempDir* OAuthE2eTest::data_dir_ = nullptr;
int OAuthE2eTest::auth_port_ = 0;

// 2,000 messages through a proxy that cuts the first connections, read
// slowly, with 2-second tokens: every reconnect logs in with a fresh token,
// and every message arrives exactly once.
TEST_F(OAuthE2eTest, StreamOutlivesManyTokensAndDropsWithoutLossOrRepeat) {
  // Each of the first four connections is cut 1.7 to 2.5 s after it
  // opened: past 80% of a token's life, so every reconnect needs a new one.
  testing_fixtures::FaultProxy proxy(imap_->imaps_port(), /*seed=*/5, /*faulty=*/4,
                                     absl::Milliseconds(1700), absl::Milliseconds(2500));
  StreamRecordsRequest req;
  *req.mutable_connection()->mutable_connection() = OAuthConnection("oauth-stream", proxy.port());
  req.set_query("SELECT uid, subject");
  req.set_max_batch_records(50);
  req.set_parallelism(1);
  // A small flow-control window, so that the slow reader holds the IMAP
  // side back (gRPC would otherwise buffer the whole folder at once).
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 * 1024);
  auto small_window = connector::v1::Connector::NewStub(
      grpc::CreateCustomChannel(connector_->address(), grpc::InsecureChannelCredentials(), args));
  Streamed st = Stream(req, absl::Milliseconds(150), nullptr, small_window.get());
  ASSERT_TRUE(st.status.ok()) << st.status.error_message();
  ASSERT_EQ(st.records.size(), static_cast<size_t>(kMessages));
  std::set<uint32_t> uids;
  for (size_t i = 0; i < st.records.size(); ++i) {
    uids.insert(st.records[i].uid());
    EXPECT_EQ(st.records[i].fields().at("subject").string_value(), absl::StrCat("m", i + 1));
  }
  EXPECT_EQ(uids.size(), static_cast<size_t>(kMessages));
  EXPECT_GT(proxy.cut(), 0) << proxy.accepted() << " connections";
  // Every connection opened at least 1.7 s after the one before, past 80%
  // of the token it logged in with: each needed a token of its own. (How
  // many connections there were depends on how much of the folder a
  // FETCH asks for, which the server's buffers can hold after a cut.)
  EXPECT_GE(proxy.accepted(), 2);
  EXPECT_GE(Grants(), proxy.accepted());
}

// Follow mode across token lifetimes and dropped connections: mail appended
// while the stream waits arrives exactly once.
TEST_F(OAuthE2eTest, FollowModeKeepsGoingWithFreshTokens) {
  const std::string folder = "oauth-follow";
  std::unique_ptr<imap::Session> writer = EngineSession();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Create(folder).ok());
  testing_fixtures::FaultProxy proxy(imap_->imaps_port(), /*seed=*/9, /*faulty=*/3,
                                     absl::Milliseconds(1700), absl::Milliseconds(2500));
  Connection c = OAuthConnection("oauth-follow", proxy.port());
  c.set_default_folder(folder);
  c.set_idle_refresh_ms(1000);
  StreamRecordsRequest req;
  *req.mutable_connection()->mutable_connection() = c;
  req.set_query("SELECT uid, subject");
  req.set_follow(true);
  req.set_max_batch_records(1);
  constexpr int kAppended = 5;
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (int i = 1; i <= kAppended && !stop; ++i) {
      // Spread over more than two token lifetimes.
      absl::SleepFor(absl::Milliseconds(1500));
      EXPECT_TRUE(writer->Append(folder, absl::StrCat("From: b@example.com\r\nSubject: f", i, "\r\n\r\nx\r\n")).ok());
    }
  });
  const absl::Time give_up = absl::Now() + absl::Seconds(90);
  Streamed st = Stream(req, absl::ZeroDuration(), [&](const std::vector<Record>& got) {
    return got.size() >= static_cast<size_t>(kAppended) || absl::Now() > give_up;
  });
  stop = true;
  appender.join();
  EXPECT_EQ(st.status.error_code(), grpc::StatusCode::CANCELLED) << st.status.error_message();
  ASSERT_EQ(st.records.size(), static_cast<size_t>(kAppended));
  for (int i = 0; i < kAppended; ++i) {
    EXPECT_EQ(st.records[i].fields().at("subject").string_value(), absl::StrCat("f", i + 1));
  }
  EXPECT_GE(Grants(), 2);
}

// 32 streams starting together on one connection cause one grant, and
// once that token is near its end, 32 more cause one more.
TEST_F(OAuthE2eTest, ConcurrentStreamsShareOneRefreshPerExpiry) {
  Control(R"({"expires_in": 6, "delay": 0.5})");  // slow, so that they all wait for it
  Connection c = OAuthConnection("oauth-burst");
  c.set_default_folder("INBOX");
  auto burst = [&] {
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 32; ++i) {
      threads.emplace_back([&] {
        StreamRecordsRequest req;
        *req.mutable_connection()->mutable_connection() = c;
        req.set_query("SELECT uid");
        req.set_parallelism(1);
        Streamed st = Stream(req);
        if (st.status.ok() && st.records.size() == static_cast<size_t>(ImapServerFixture::kInboxMessages)) ++ok;
      });
    }
    for (std::thread& t : threads) t.join();
    return ok.load();
  };
  const absl::Time first = absl::Now();
  EXPECT_EQ(burst(), 32);
  EXPECT_EQ(Grants(), 1);
  // Past 80% of the 6-second lifetime (the cache's renewal point), the
  // next burst renews once for all.
  absl::SleepFor(first + absl::Seconds(6) - absl::Now());
  EXPECT_EQ(burst(), 32);
  EXPECT_EQ(Grants(), 2);
}

// A rotated refresh token replaces the stored one: after a restart the
// server still logs in, although the first refresh token stopped working.
TEST_F(OAuthE2eTest, RotatedRefreshTokenIsStoredAndSurvivesARestart) {
  Control(R"({"rotate": true, "refresh_tokens": {"refresh-rotating": "alice"}})");
  Connection c = OAuthConnection("oauth-rotating");
  c.mutable_oauth2()->mutable_refresh_token_grant()->set_refresh_token("refresh-rotating");
  {
    connector::v1::ConfigureRequest req;
    *req.mutable_connection() = c;
    connector::v1::ConfigureResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->Configure(&ctx, req, &resp).ok());
    // Write-only: the answer does not carry the secrets.
    EXPECT_TRUE(resp.connection().oauth2().refresh_token_grant().refresh_token().empty());
    EXPECT_TRUE(resp.connection().oauth2().refresh_token_grant().client_secret().empty());
  }
  connector::v1::TestConnectionRequest by_name;
  by_name.set_name("oauth-rotating");
  for (int round = 0; round < 2; ++round) {
    connector::v1::TestConnectionResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub_->TestConnection(&ctx, by_name, &resp).ok());
    EXPECT_TRUE(resp.ok()) << resp.message();
    if (round == 0) {
      connector_->Stop(SIGTERM);
      delete connector_;
      connector_ = nullptr;
      StartConnector();
      stub_ = connector::v1::Connector::NewStub(connector_->channel());
    }
  }
  EXPECT_EQ(Grants(), 2);  // one per server process, each with the then-current refresh token
  const std::string store = testing_fixtures::ReadFile(data_dir_->path() + "/connections.json");
  EXPECT_THAT(store, ::testing::Not(HasSubstr("\"refresh-rotating\"")));
}

// Each token endpoint failure has its TestConnection category, in stage
// "token", and no secret in the message.
TEST_F(OAuthE2eTest, TokenFailuresHaveTheirCategories) {
  struct Case {
    std::string fail;
    connector::v1::FailureCategory category;
    std::string words;
  };
  const std::vector<Case> cases = {
      {"invalid_grant", connector::v1::FAILURE_CATEGORY_OAUTH_INVALID_GRANT, "sign in again"},
      {"invalid_client", connector::v1::FAILURE_CATEGORY_OAUTH_INVALID_CLIENT, "client"},
      {"invalid_scope", connector::v1::FAILURE_CATEGORY_OAUTH_REJECTED, "scope"},
      {"server_error", connector::v1::FAILURE_CATEGORY_OAUTH_MALFORMED, "503"},
      {"malformed", connector::v1::FAILURE_CATEGORY_OAUTH_MALFORMED, "token"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.fail);
    Control(absl::StrCat(R"({"fail": ")", k.fail, R"("})"));
    connector::v1::TestConnectionResponse r = TestConnection(OAuthConnection(absl::StrCat("oauth-", k.fail)));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.category(), k.category) << r.message();
    ASSERT_GT(r.stages_size(), 0);
    EXPECT_EQ(r.stages(0).name(), "token");
    EXPECT_THAT(r.message(), HasSubstr(k.words));
    EXPECT_THAT(r.message(), ::testing::Not(HasSubstr("test-secret")));
    EXPECT_THAT(r.message(), ::testing::Not(HasSubstr("refresh-alice")));
  }
  Control(R"({"fail": "none"})");
  // Nothing listens there.
  Connection unreachable = OAuthConnection("oauth-unreachable");
  unreachable.mutable_oauth2()->mutable_refresh_token_grant()->set_token_url(
      absl::StrCat("http://127.0.0.1:", testing_fixtures::PickFreePort(), "/token"));
  EXPECT_EQ(TestConnection(unreachable).category(), connector::v1::FAILURE_CATEGORY_OAUTH_UNREACHABLE);
  // TLS to a server that speaks plain HTTP.
  Connection tls = OAuthConnection("oauth-tls");
  tls.mutable_oauth2()->mutable_refresh_token_grant()->set_token_url(
      absl::StrCat("https://127.0.0.1:", auth_port_, "/token"));
  EXPECT_EQ(TestConnection(tls).category(), connector::v1::FAILURE_CATEGORY_OAUTH_TLS);
  // A token file that is not there.
  Connection file = OAuthConnection("oauth-file");
  file.mutable_oauth2()->mutable_token_file()->set_path("/nonexistent/imapc-token");
  EXPECT_EQ(TestConnection(file).category(), connector::v1::FAILURE_CATEGORY_OAUTH_TOKEN_FILE);
  // And a good one: every stage passes, the token stage first.
  connector::v1::TestConnectionResponse good = TestConnection(OAuthConnection("oauth-good"));
  EXPECT_TRUE(good.ok()) << good.message();
}

// Declared connections (a mounted ConfigMap and Secret, as the Helm chart
// does): one reads its token from a file an outside agent keeps fresh, one
// runs a refresh-token grant with its secrets in the secrets directory.
TEST_F(OAuthE2eTest, DeclaredConnectionsTakeTokensFromFilesAndSecrets) {
  const testing_fixtures::TempDir declared("imapc-oauth-declared");
  ASSERT_TRUE(declared.ok());
  const std::string& dir = declared.path();
  ASSERT_EQ(mkdir((dir + "/secrets").c_str(), 0700), 0);
  ASSERT_EQ(mkdir((dir + "/data").c_str(), 0700), 0);
  auto write = [](const std::string& path, const std::string& text) {
    FILE* f = fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(text.c_str(), f);
    fclose(f);
  };
  const std::string token_file = dir + "/access-token";
  write(token_file, "good-token-alice\n");
  write(dir + "/secrets/granted.refresh_token", "refresh-alice\n");
  write(dir + "/secrets/granted.client_secret", "test-secret\n");
  const std::string common = absl::StrCat(
      R"("serverUrl": "imaps://localhost:)", imap_->imaps_port(), R"(", "username": "alice", )",
      R"("authMechanism": "AUTH_MECHANISM_XOAUTH2", "tls": {"caBundlePem": )", "\"",
      absl::StrReplaceAll(imap_->ca_pem(), {{"\n", "\\n"}}), "\"}");
  write(dir + "/connections.json",
        absl::StrCat(R"({"connections": [)", R"({"name": "from-file", )", common,
                     R"(, "oauth2": {"tokenFile": {"path": ")", token_file, R"("}}}, )",
                     R"({"name": "granted", )", common,
                     R"(, "oauth2": {"refreshTokenGrant": {"tokenUrl": "http://127.0.0.1:)", auth_port_,
                     R"(/token", "clientId": "test-client"}}}]})"));
  absl::StatusOr<std::unique_ptr<ServerProcess>> server = ServerProcess::Start(
      dir + "/data", {absl::StrCat("--connections_file=", dir, "/connections.json"),
                      absl::StrCat("--secrets_dir=", dir, "/secrets")});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = connector::v1::Connector::NewStub((*server)->channel());
  auto test = [&](const std::string& name) {
    connector::v1::TestConnectionRequest req;
    req.set_name(name);
    connector::v1::TestConnectionResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(stub->TestConnection(&ctx, req, &resp).ok());
    return resp;
  };
  EXPECT_TRUE(test("from-file").ok()) << test("from-file").message();
  EXPECT_TRUE(test("granted").ok()) << test("granted").message();
  // The agent writes a token the server does not know: refused, and read
  // again on the retry; then a good one again, picked up without a restart.
  write(token_file, "not-a-token\n");
  connector::v1::TestConnectionResponse refused = test("from-file");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.category(), connector::v1::FAILURE_CATEGORY_AUTH_FAILED) << refused.message();
  write(token_file, "good-token-alice\n");
  EXPECT_TRUE(test("from-file").ok());
  (*server)->Stop(SIGTERM);
}

// The server refuses a token the cache still thinks valid (revoked early):
// the login renews it once and succeeds.
TEST_F(OAuthE2eTest, RefusedTokenIsRenewedOnceAndTheLoginRetried) {
  Control(R"({"expires_in": 3600})");
  Connection c = OAuthConnection("oauth-revoked");
  ASSERT_TRUE(TestConnection(c).ok());
  // Forget every issued access token: introspection now says inactive.
  Control(R"({"revoke_access_tokens": true})");
  connector::v1::TestConnectionResponse r = TestConnection(c);
  EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(Grants(), 2);
}

}  // namespace
