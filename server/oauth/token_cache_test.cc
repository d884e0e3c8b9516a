// TokenCache and the token sources against scripts/oauth-introspect.py, a
// real token endpoint on 127.0.0.1 (one per test).
#include "server/oauth/token_cache.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/connection_store.h"
#include "server/oauth/test_oauth_server.h"
#include "server/oauth/token_source.h"

namespace server::oauth {
namespace {

using connector::v1::Connection;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kSecret[] = "test-secret";

// Every secret a test configures; none may show in any message.
const std::vector<std::string>& AllSecrets() {
  static const auto* secrets =
      new std::vector<std::string>{"test-secret", "app-secret", "refresh-alice", "refresh-nobody",
                                   "wrong-secret-value"};
  return *secrets;
}

void ExpectNoSecret(const absl::Status& status) {
  for (const std::string& secret : AllSecrets()) {
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(secret)));
  }
}

absl::Time Deadline() { return absl::Now() + absl::Seconds(20); }

class TokenCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A proxy in the environment of whoever runs the tests must not catch
    // our loopback requests (ProxyFromTheEnvironmentIsUsed sets one).
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    unsetenv("http_proxy");
    absl::StatusOr<std::unique_ptr<TestOAuthServer>> s = TestOAuthServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  Connection RefreshConnection(const std::string& refresh_token = "refresh-alice") const {
    Connection c;
    c.set_name("alice mailbox");
    c.set_username("alice");
    c.set_timeout_ms(5000);
    auto* g = c.mutable_oauth2()->mutable_refresh_token_grant();
    g->set_token_url(server_->Url("/token"));
    g->set_client_id("test-client");
    g->set_client_secret(kSecret);
    g->set_refresh_token(refresh_token);
    g->set_scope("https://mail.google.com/");
    return c;
  }

  Connection ClientCredentialsConnection() const {
    Connection c;
    c.set_name("app mailbox");
    c.set_username("alice");
    c.set_timeout_ms(5000);
    auto* g = c.mutable_oauth2()->mutable_client_credentials();
    g->set_token_url(server_->Url("/token"));
    g->set_client_id("app-client");
    g->set_client_secret("app-secret");
    g->set_scope("https://outlook.office365.com/.default");
    return c;
  }

  // The error of one Get on `c` by a fresh cache.
  absl::Status ErrorOf(const Connection& c) {
    TokenCache cache{TokenCache::Options()};
    absl::StatusOr<AccessToken> t = cache.Get(c, Deadline());
    EXPECT_FALSE(t.ok());
    return t.ok() ? absl::OkStatus() : t.status();
  }

  std::unique_ptr<TestOAuthServer> server_;
};

TEST_F(TokenCacheTest, RefreshGrantTokenIsCachedAndAcceptedByIntrospection) {
  TokenCache cache{TokenCache::Options()};
  absl::StatusOr<AccessToken> t = cache.Get(RefreshConnection(), Deadline());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->token, StartsWith("at-"));
  EXPECT_TRUE(t->refreshable);
  EXPECT_GT(t->expires_at, absl::Now() + absl::Minutes(59));
  EXPECT_TRUE(server_->IsActiveFor(t->token, "alice"));
  EXPECT_FALSE(server_->IsActiveFor("at-made-up", "alice"));

  absl::StatusOr<AccessToken> again = cache.Get(RefreshConnection(), Deadline());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->token, t->token);
  EXPECT_EQ(server_->Stat("refresh_token_grants"), 1);
}

TEST_F(TokenCacheTest, RotatedRefreshTokenIsPersistedAndUsedByStaleCopies) {
  ASSERT_TRUE(server_->Control(R"({"rotate": true})").ok());
  struct Rotation {
    std::string name, old_token, new_token;
  };
  absl::Mutex mu;
  std::vector<Rotation> rotations;
  TokenCache::Options options;
  options.persist = [&](const std::string& name, const std::string& old_token, const std::string& new_token) {
    absl::MutexLock lock(&mu);
    rotations.push_back({name, old_token, new_token});
    return absl::OkStatus();
  };
  TokenCache cache(std::move(options));

  const Connection stale = RefreshConnection();  // still holds refresh-alice
  absl::StatusOr<AccessToken> first = cache.Get(stale, Deadline());
  ASSERT_TRUE(first.ok()) << first.status();
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(rotations.size(), 1u);
    EXPECT_EQ(rotations[0].name, "alice mailbox");
    EXPECT_EQ(rotations[0].old_token, "refresh-alice");
    EXPECT_THAT(rotations[0].new_token, StartsWith("rt-"));
  }
  // refresh-alice no longer works at the endpoint; the stale copy still
  // refreshes, with the rotated token.
  absl::StatusOr<AccessToken> second = cache.Get(stale, Deadline(), /*force_refresh=*/true, first->token);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->token, first->token);
  absl::MutexLock lock(&mu);
  ASSERT_EQ(rotations.size(), 2u);
  EXPECT_EQ(rotations[1].old_token, rotations[0].new_token);
  EXPECT_EQ(server_->Stat("refresh_token_grants"), 2);
}

TEST_F(TokenCacheTest, RotatedRefreshTokenIsWrittenToTheConnectionStore) {
  ASSERT_TRUE(server_->Control(R"({"rotate": true})").ok());
  absl::StatusOr<std::unique_ptr<ConnectionStore>> store = ConnectionStore::Open(server_->dir() + "/data");
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Put(RefreshConnection()).ok());
  TokenCache::Options options;
  options.persist = PersistRefreshTokenTo(store->get());
  TokenCache cache(std::move(options));

  ASSERT_TRUE(cache.Get(RefreshConnection(), Deadline()).ok());
  absl::StatusOr<Connection> stored = (*store)->Get("alice mailbox");
  ASSERT_TRUE(stored.ok());
  const std::string rotated = stored->oauth2().refresh_token_grant().refresh_token();
  EXPECT_THAT(rotated, StartsWith("rt-"));
  // It survives a restart: a store opened anew reads it from disk.
  store->reset();
  absl::StatusOr<std::unique_ptr<ConnectionStore>> reopened = ConnectionStore::Open(server_->dir() + "/data");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Get("alice mailbox")->oauth2().refresh_token_grant().refresh_token(), rotated);

  // A Configure in between (another refresh token stored) wins.
  TokenCache::PersistRefreshToken persist = PersistRefreshTokenTo(reopened->get());
  absl::Status s = persist("alice mailbox", "refresh-alice", "rt-late");
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_EQ((*reopened)->Get("alice mailbox")->oauth2().refresh_token_grant().refresh_token(), rotated);

  // Declared connections are read-only.
  Connection declared = RefreshConnection();
  declared.set_name("declared");
  ASSERT_TRUE((*reopened)->Declare({declared}).ok());
  EXPECT_EQ(persist("declared", "refresh-alice", "rt-x").code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TokenCacheTest, ClientCredentialsGrant) {
  ASSERT_TRUE(server_->Control(R"({"client_user": "bob"})").ok());
  TokenCache cache{TokenCache::Options()};
  absl::StatusOr<AccessToken> t = cache.Get(ClientCredentialsConnection(), Deadline());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(server_->IsActiveFor(t->token, "bob"));
  EXPECT_EQ(server_->Stat("client_credentials_grants"), 1);
}

TEST_F(TokenCacheTest, TokenFileIsReadAgainWhenItChanges) {
  const std::string path = server_->dir() + "/token";
  auto write = [&path](const std::string& text) {
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << text;
    ASSERT_EQ(rename(tmp.c_str(), path.c_str()), 0);  // as a Kubernetes Secret update does
  };
  Connection c;
  c.set_name("file mailbox");
  c.mutable_oauth2()->mutable_token_file()->set_path(path);
  TokenCache cache{TokenCache::Options()};

  absl::StatusOr<AccessToken> missing = cache.Get(c, Deadline());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(GetTokenErrorKind(missing.status()), TokenErrorKind::kTokenFile);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);

  write("first-token\n");
  absl::StatusOr<AccessToken> t = cache.Get(c, Deadline());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token, "first-token");
  EXPECT_TRUE(t->refreshable);
  write("second-token\n");
  t = cache.Get(c, Deadline());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->token, "second-token");

  write("  \n");
  t = cache.Get(c, Deadline());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(GetTokenErrorKind(t.status()), TokenErrorKind::kTokenFile);
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("is empty"));
}

TEST_F(TokenCacheTest, RenewsAtEightyPercentOfTheLifetime) {
  ASSERT_TRUE(server_->Control(R"({"expires_in": 100})").ok());
  absl::Mutex mu;
  absl::Time now = absl::Now();
  TokenCache::Options options;
  options.now = [&] {
    absl::MutexLock lock(&mu);
    return now;
  };
  auto advance = [&](absl::Duration d) {
    absl::MutexLock lock(&mu);
    now += d;
  };
  TokenCache cache(std::move(options));
  absl::StatusOr<AccessToken> first = cache.Get(RefreshConnection(), Deadline());
  ASSERT_TRUE(first.ok()) << first.status();

  advance(absl::Seconds(79));
  absl::StatusOr<AccessToken> before = cache.Get(RefreshConnection(), Deadline());
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->token, first->token);
  EXPECT_EQ(server_->Stat("grants"), 1);

  advance(absl::Seconds(2));  // 81 s of 100
  absl::StatusOr<AccessToken> after = cache.Get(RefreshConnection(), Deadline());
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->token, first->token);
  EXPECT_EQ(server_->Stat("grants"), 2);

  // A failed renewal ahead of expiry keeps the still-valid token...
  advance(absl::Seconds(81));
  ASSERT_TRUE(server_->Control(R"({"fail": "server_error"})").ok());
  absl::StatusOr<AccessToken> kept = cache.Get(RefreshConnection(), Deadline());
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->token, after->token);
  // ...until it has expired.
  advance(absl::Seconds(20));
  absl::StatusOr<AccessToken> expired = cache.Get(RefreshConnection(), Deadline());
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(GetTokenErrorKind(expired.status()), TokenErrorKind::kServerError);
}

TEST_F(TokenCacheTest, ThirtyTwoConcurrentCallersCauseOneGrant) {
  // A slow endpoint, so that the callers really overlap.
  ASSERT_TRUE(server_->Control(R"({"delay": 0.5})").ok());
  TokenCache cache{TokenCache::Options()};
  constexpr int kThreads = 32;
  absl::Barrier* start = new absl::Barrier(kThreads);
  std::vector<std::string> tokens(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      if (start->Block()) delete start;
      absl::StatusOr<AccessToken> t = cache.Get(RefreshConnection(), Deadline());
      tokens[i] = t.ok() ? t->token : std::string(t.status().message());
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& token : tokens) EXPECT_EQ(token, tokens[0]);
  EXPECT_THAT(tokens[0], StartsWith("at-"));
  EXPECT_EQ(server_->Stat("token_requests"), 1);
  EXPECT_EQ(server_->Stat("grants"), 1);
}

TEST_F(TokenCacheTest, CallersRefusedWithTheSameTokenShareOneRefresh) {
  TokenCache cache{TokenCache::Options()};
  absl::StatusOr<AccessToken> refused = cache.Get(RefreshConnection(), Deadline());
  ASSERT_TRUE(refused.ok());
  ASSERT_TRUE(server_->Control(R"({"delay": 0.3})").ok());
  constexpr int kThreads = 8;
  absl::Barrier* start = new absl::Barrier(kThreads);
  std::vector<std::string> tokens(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      if (start->Block()) delete start;
      absl::StatusOr<AccessToken> t = cache.Get(RefreshConnection(), Deadline(), true, refused->token);
      tokens[i] = t.ok() ? t->token : std::string(t.status().message());
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& token : tokens) {
    EXPECT_EQ(token, tokens[0]);
    EXPECT_NE(token, refused->token);
  }
  EXPECT_EQ(server_->Stat("grants"), 2);
}

TEST_F(TokenCacheTest, WaitersGiveUpAtTheirDeadline) {
  ASSERT_TRUE(server_->Control(R"({"delay": 2})").ok());
  TokenCache cache{TokenCache::Options()};
  std::thread slow([&] { EXPECT_TRUE(cache.Get(RefreshConnection(), Deadline()).ok()); });
  // Wait until the first caller's request has reached the endpoint.
  while (server_->Stat("token_requests") < 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const absl::Time started = absl::Now();
  absl::StatusOr<AccessToken> t = cache.Get(RefreshConnection(), absl::Now() + absl::Milliseconds(200));
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - started, absl::Seconds(1.5));
  slow.join();
}

TEST_F(TokenCacheTest, InvalidGrant) {
  absl::Status s = ErrorOf(RefreshConnection("refresh-nobody"));
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kInvalidGrant);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()),
              AllOf(HasSubstr("invalid_grant"), HasSubstr("unknown, expired or revoked"), HasSubstr("sign in again"),
                    HasSubstr(server_->Url("/token"))));
  ExpectNoSecret(s);
}

TEST_F(TokenCacheTest, InvalidClient) {
  Connection c = RefreshConnection();
  c.mutable_oauth2()->mutable_refresh_token_grant()->set_client_secret("wrong-secret-value");
  absl::Status s = ErrorOf(c);
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kInvalidClient);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(s.message()), HasSubstr("invalid_client"));
  ExpectNoSecret(s);
}

TEST_F(TokenCacheTest, OtherOAuthErrorIsRejected) {
  ASSERT_TRUE(server_->Control(R"({"fail": "invalid_scope"})").ok());
  absl::Status s = ErrorOf(RefreshConnection());
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kRejected);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(s.message()), HasSubstr("invalid_scope: The scope is not allowed"));
  ExpectNoSecret(s);
}

TEST_F(TokenCacheTest, ServerError) {
  ASSERT_TRUE(server_->Control(R"({"fail": "server_error"})").ok());
  absl::Status s = ErrorOf(RefreshConnection());
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kServerError);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("HTTP 503 (temporarily_unavailable: The service is down"));
  ExpectNoSecret(s);
}

TEST_F(TokenCacheTest, MalformedAnswers) {
  ASSERT_TRUE(server_->Control(R"({"fail": "malformed"})").ok());
  absl::Status s = ErrorOf(RefreshConnection());
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kMalformed);
  EXPECT_THAT(std::string(s.message()), HasSubstr("not a JSON object"));
  ASSERT_TRUE(server_->Control(R"({"fail": "no_access_token"})").ok());
  s = ErrorOf(RefreshConnection());
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kMalformed);
  EXPECT_THAT(std::string(s.message()), HasSubstr("without an access_token"));
  ExpectNoSecret(s);
}

TEST_F(TokenCacheTest, UnreachableEndpoint) {
  // A port nobody listens on: bound, then closed.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  Connection c = RefreshConnection();
  c.mutable_oauth2()->mutable_refresh_token_grant()->set_token_url(
      absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/token"));
  absl::Status s = ErrorOf(c);
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kUnreachable);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("could not be reached"));
  ExpectNoSecret(s);
}

TEST_F(TokenCacheTest, SlowEndpointTimesOutAfterTimeoutMs) {
  ASSERT_TRUE(server_->Control(R"({"delay": 3})").ok());
  Connection c = RefreshConnection();
  c.set_timeout_ms(300);
  const absl::Time started = absl::Now();
  absl::Status s = ErrorOf(c);
  EXPECT_LT(absl::Now() - started, absl::Seconds(2));
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kUnreachable);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(s.message()), HasSubstr("did not answer within"));
}

TEST_F(TokenCacheTest, TlsFailure) {
  // https:// to a plain-HTTP server: the TLS handshake fails.
  Connection c = RefreshConnection();
  c.mutable_oauth2()->mutable_refresh_token_grant()->set_token_url(
      absl::StrCat("https://127.0.0.1:", server_->port(), "/token"));
  absl::Status s = ErrorOf(c);
  EXPECT_EQ(GetTokenErrorKind(s), TokenErrorKind::kTls);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("TLS failed"));
  ExpectNoSecret(s);
}

TEST_F(TokenCacheTest, ProxyFromTheEnvironmentIsUsed) {
  // The test server doubles as an HTTP proxy: it answers the absolute URL
  // a proxy receives. token.invalid cannot resolve, so only the proxy can
  // have answered.
  setenv("http_proxy", server_->Url("").c_str(), 1);
  Connection c = RefreshConnection();
  c.mutable_oauth2()->mutable_refresh_token_grant()->set_token_url("http://token.invalid/token");
  TokenCache cache{TokenCache::Options()};
  absl::StatusOr<AccessToken> t = cache.Get(c, Deadline());
  unsetenv("http_proxy");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(server_->IsActiveFor(t->token, "alice"));
}

TEST_F(TokenCacheTest, StaticTokenAndPasswordAreNotRefreshable) {
  TokenCache cache{TokenCache::Options()};
  Connection c;
  c.set_name("static");
  c.set_password("token-in-password");
  absl::StatusOr<AccessToken> t = cache.Get(c, Deadline());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->token, "token-in-password");
  EXPECT_FALSE(t->refreshable);
  c.mutable_oauth2()->mutable_static_token()->set_access_token("static-token");
  t = cache.Get(c, Deadline(), /*force_refresh=*/true);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->token, "static-token");
  EXPECT_FALSE(t->refreshable);
}

TEST(ParseTokenAnswerTest, SecretsInTheDescriptionAreCutOut) {
  absl::StatusOr<GrantResult> r = ParseTokenAnswer(
      "token endpoint X", 400,
      R"({"error": "invalid_grant", "error_description": "refresh token rt-123456789 is revoked"})",
      {"rt-123456789", "s3cr3t-value"});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              AllOf(HasSubstr("refresh token [redacted] is revoked"), Not(HasSubstr("rt-123456789"))));
}

TEST(ParseTokenAnswerTest, ExpiresInAsStringAndTokenType) {
  absl::StatusOr<GrantResult> r = ParseTokenAnswer(
      "X", 200, R"({"access_token": "a", "token_type": "bearer", "expires_in": "3599"})", {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->expires_in, absl::Seconds(3599));
  r = ParseTokenAnswer("X", 200, R"({"access_token": "a", "token_type": "mac"})", {});
  EXPECT_EQ(GetTokenErrorKind(r.status()), TokenErrorKind::kMalformed);
  r = ParseTokenAnswer("X", 200, R"(["access_token"])", {});
  EXPECT_EQ(GetTokenErrorKind(r.status()), TokenErrorKind::kMalformed);
}

}  // namespace
}  // namespace server::oauth
