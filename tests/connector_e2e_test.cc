// The server binary, driven through gRPC, against a real Dovecot started
// for this test: configuration, validation, persistence, and every way
// TestConnection can succeed or fail.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/fixtures/bad_request.h"
#include "tests/fixtures/dovecot_environment.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/loopback_listener.h"
#include "tests/fixtures/server_process.h"
#include "tests/fixtures/temp_dir.h"

namespace {

using connector::v1::Connection;
using connector::v1::Stage;
using connector::v1::TestConnectionResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using testing_fixtures::ImapServerFixture;
using testing_fixtures::ServerProcess;

ImapServerFixture* dovecot = nullptr;


// The BadRequest field names carried by a gRPC error.
using testing_fixtures::ViolatedFields;

class ConnectorE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(dovecot, nullptr);
    ASSERT_TRUE(temp_dir_.ok());
    data_dir_ = temp_dir_.path() + "/store";
    StartServer();
  }
  void TearDown() override {
    server_.reset();  // before temp_dir_ goes
  }

  void StartServer(const std::vector<std::string>& flags = {}) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(data_dir_, flags);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    stub_ = connector::v1::Connector::NewStub(server_->channel());
  }

  // A connection that works against the fixture's implicit TLS port.
  Connection GoodConnection(const std::string& name = "mail") {
    Connection c;
    c.set_name(name);
    c.set_username(ImapServerFixture::kUser);
    c.set_password(ImapServerFixture::kPassword);
    c.set_server_url(absl::StrCat("imaps://localhost:", dovecot->imaps_port()));
    c.mutable_tls()->set_ca_bundle_pem(dovecot->ca_pem());
    c.set_timeout_ms(10000);
    return c;
  }

  grpc::Status Configure(const Connection& c, connector::v1::ConfigureResponse* response) {
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    *request.mutable_connection() = c;
    return stub_->Configure(&ctx, request, response);
  }

  TestConnectionResponse TestInline(const Connection& c, grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    connector::v1::TestConnectionRequest request;
    *request.mutable_connection() = c;
    TestConnectionResponse response;
    grpc::Status s = stub_->TestConnection(&ctx, request, &response);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return response;
  }

  static const Stage* FindStage(const TestConnectionResponse& r, const std::string& name) {
    for (const Stage& s : r.stages()) {
      if (s.name() == name) return &s;
    }
    return nullptr;
  }

  static std::string LastStageName(const TestConnectionResponse& r) {
    return r.stages().empty() ? "" : r.stages(r.stages_size() - 1).name();
  }

  testing_fixtures::TempDir temp_dir_{"imapc-data"};
  std::string data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<connector::v1::Connector::Stub> stub_;
};

TEST_F(ConnectorE2eTest, HealthAndReflection) {
  auto health = grpc::health::v1::Health::NewStub(server_->channel());
  for (const char* service : {"", "connector.v1.Connector"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&ctx, request, &response).ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(server_->channel());
  grpc::ClientContext ctx;
  auto stream = reflection->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest request;
  request.set_list_services("");
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse response;
  ASSERT_TRUE(stream->Read(&response));
  std::set<std::string> services;
  for (const auto& s : response.list_services_response().service()) services.insert(s.name());
  EXPECT_TRUE(services.count("connector.v1.Connector"));
  EXPECT_TRUE(services.count("grpc.health.v1.Health"));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ConnectorE2eTest, ConfigureStoresWithoutReturningThePassword) {
  connector::v1::ConfigureResponse response;
  ASSERT_TRUE(Configure(GoodConnection(), &response).ok());
  const Connection& stored = response.connection();
  EXPECT_EQ(stored.password(), "");
  EXPECT_TRUE(stored.has_password());
  EXPECT_EQ(stored.effective_host(), "localhost");
  EXPECT_EQ(stored.effective_port(), dovecot->imaps_port());
  EXPECT_EQ(stored.effective_security(), connector::v1::SECURITY_IMPLICIT_TLS);
  EXPECT_TRUE(stored.is_active());
  EXPECT_TRUE(stored.is_source());
  EXPECT_FALSE(stored.is_target());
  EXPECT_EQ(stored.cloud_agent(), "cloud");
  EXPECT_EQ(stored.default_folder(), "INBOX");
  EXPECT_FALSE(response.replaced());

  grpc::ClientContext get_ctx;
  connector::v1::GetConnectionRequest get;
  get.set_name("mail");
  Connection got;
  ASSERT_TRUE(stub_->GetConnection(&get_ctx, get, &got).ok());
  EXPECT_EQ(got.password(), "");
  EXPECT_EQ(got.username(), ImapServerFixture::kUser);

  ASSERT_TRUE(Configure(GoodConnection("another"), &response).ok());
  grpc::ClientContext list_ctx;
  connector::v1::ListConnectionsResponse list;
  ASSERT_TRUE(stub_->ListConnections(&list_ctx, {}, &list).ok());
  ASSERT_EQ(list.connections_size(), 2);
  EXPECT_EQ(list.connections(0).name(), "another");
  EXPECT_EQ(list.connections(1).name(), "mail");
  for (const Connection& c : list.connections()) EXPECT_EQ(c.password(), "");

  struct stat st;
  ASSERT_EQ(stat((data_dir_ + "/connections.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr(ImapServerFixture::kPassword)));
}

TEST_F(ConnectorE2eTest, ReconfigureWithEmptyPasswordKeepsIt) {
  connector::v1::ConfigureResponse response;
  ASSERT_TRUE(Configure(GoodConnection(), &response).ok());
  Connection update = GoodConnection();
  update.clear_password();
  update.set_default_folder("Archive");
  ASSERT_TRUE(Configure(update, &response).ok());
  EXPECT_TRUE(response.replaced());
  grpc::ClientContext ctx;
  connector::v1::TestConnectionRequest request;
  request.set_name("mail");
  TestConnectionResponse result;
  ASSERT_TRUE(stub_->TestConnection(&ctx, request, &result).ok());
  EXPECT_TRUE(result.ok()) << result.message();
  EXPECT_EQ(result.folder(), "Archive");
  EXPECT_EQ(result.message_count(), 1u);
}

TEST_F(ConnectorE2eTest, EveryValidationErrorNamesItsField) {
  Connection bad;
  bad.set_name("bad/name");
  bad.set_cloud_agent("someone-else");
  bad.set_implementation_type(static_cast<connector::v1::ImplementationType>(3));
  bad.set_is_source(false);
  bad.set_is_target(false);
  bad.set_timeout_ms(5);
  bad.set_datetime_format("%Y-%Q");
  bad.set_username("user\r\nA1 LOGOUT");
  bad.set_server_url("http://mail.example.com");
  bad.set_port(70000);
  bad.set_security(static_cast<connector::v1::Security>(9));
  bad.mutable_tls()->set_ca_bundle_pem("not a certificate");
  bad.mutable_tls()->set_insecure_skip_verify(true);
  bad.set_auth_mechanism(static_cast<connector::v1::AuthMechanism>(42));
  bad.set_default_folder("In\nbox");
  connector::v1::ConfigureResponse response;
  grpc::Status s = Configure(bad, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s),
              UnorderedElementsAre("connection.name", "connection.cloud_agent",
                                   "connection.implementation_type", "connection.is_source",
                                   "connection.timeout_ms", "connection.datetime_format",
                                   "connection.username", "connection.password",
                                   "connection.server_url", "connection.port",
                                   "connection.security", "connection.tls.ca_bundle_pem",
                                   "connection.tls.insecure_skip_verify",
                                   "connection.auth_mechanism", "connection.default_folder"));
  EXPECT_THAT(s.error_message(), HasSubstr("connection.datetime_format: at position 4"));

  // Nothing was stored.
  grpc::ClientContext list_ctx;
  connector::v1::ListConnectionsResponse list;
  ASSERT_TRUE(stub_->ListConnections(&list_ctx, {}, &list).ok());
  EXPECT_EQ(list.connections_size(), 0);
}

TEST_F(ConnectorE2eTest, ServerUrlForms) {
  struct Case {
    std::string url;
    std::string host;
    int port;
    connector::v1::Security security;
  };
  const Case cases[] = {
      {"mail.example.com", "mail.example.com", 993, connector::v1::SECURITY_IMPLICIT_TLS},
      {"mail.example.com:1993", "mail.example.com", 1993, connector::v1::SECURITY_IMPLICIT_TLS},
      {"imap://Mail.Example.com", "mail.example.com", 143, connector::v1::SECURITY_STARTTLS},
      {"imaps://mail.example.com:10993/", "mail.example.com", 10993,
       connector::v1::SECURITY_IMPLICIT_TLS},
      {"User.Name@mail.com", "mail.com", 993, connector::v1::SECURITY_IMPLICIT_TLS},
      {"[::1]:1143", "::1", 1143, connector::v1::SECURITY_IMPLICIT_TLS},
  };
  for (const Case& c : cases) {
    Connection conn = GoodConnection();
    conn.set_server_url(c.url);
    connector::v1::ConfigureResponse response;
    grpc::Status s = Configure(conn, &response);
    ASSERT_TRUE(s.ok()) << c.url << ": " << s.error_message();
    EXPECT_EQ(response.connection().effective_host(), c.host) << c.url;
    EXPECT_EQ(response.connection().effective_port(), c.port) << c.url;
    EXPECT_EQ(response.connection().effective_security(), c.security) << c.url;
  }
  Connection email = GoodConnection();
  email.set_server_url("User.Name@mail.com");
  connector::v1::ConfigureResponse response;
  ASSERT_TRUE(Configure(email, &response).ok());
  EXPECT_THAT(response.notes(), ::testing::Contains(HasSubstr("e-mail address")));
}

TEST_F(ConnectorE2eTest, GoodLoginOnEveryListener) {
  Connection tls = GoodConnection();
  TestConnectionResponse r = TestInline(tls);
  EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r.message_count(), static_cast<uint32_t>(ImapServerFixture::kInboxMessages));
  EXPECT_NE(r.uid_validity(), 0u);
  EXPECT_THAT(r.capabilities(), ::testing::Contains("IMAP4REV1"));
  std::vector<std::string> names;
  for (const Stage& s : r.stages()) names.push_back(s.name());
  EXPECT_THAT(names, ElementsAre("connect", "tls", "greeting", "capability", "starttls", "login",
                                 "examine", "logout"));
  EXPECT_EQ(FindStage(r, "starttls")->result(), Stage::SKIPPED);
  EXPECT_EQ(FindStage(r, "tls")->result(), Stage::OK);
  EXPECT_THAT(FindStage(r, "tls")->detail(), HasSubstr("certificate verified for localhost"));

  Connection starttls = GoodConnection();
  starttls.set_server_url(absl::StrCat("imap://localhost:", dovecot->imap_port()));
  r = TestInline(starttls);
  EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r.security(), connector::v1::SECURITY_STARTTLS);
  EXPECT_EQ(FindStage(r, "tls")->result(), Stage::SKIPPED);
  EXPECT_EQ(FindStage(r, "starttls")->result(), Stage::OK);

  Connection plain = GoodConnection();
  plain.set_server_url(absl::StrCat("localhost:", dovecot->imap_port()));
  plain.set_security(connector::v1::SECURITY_NONE);
  plain.clear_tls();
  plain.set_auth_mechanism(connector::v1::AUTH_MECHANISM_LOGIN);
  r = TestInline(plain);
  EXPECT_TRUE(r.ok()) << r.message();

  Connection folder = GoodConnection();
  folder.set_default_folder("Entw\xc3\xbc" "rfe");
  r = TestInline(folder);
  EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r.message_count(), 1u);
}

TEST_F(ConnectorE2eTest, EveryAuthMechanism) {
  struct Case {
    connector::v1::AuthMechanism mechanism;
    const char* secret;
    const char* name;
  };
  const Case cases[] = {
      {connector::v1::AUTH_MECHANISM_AUTO, ImapServerFixture::kPassword, "SCRAM-SHA-256"},
      {connector::v1::AUTH_MECHANISM_LOGIN, ImapServerFixture::kPassword, "LOGIN"},
      {connector::v1::AUTH_MECHANISM_PLAIN, ImapServerFixture::kPassword, "PLAIN"},
      {connector::v1::AUTH_MECHANISM_SCRAM_SHA_256, ImapServerFixture::kPassword, "SCRAM-SHA-256"},
      {connector::v1::AUTH_MECHANISM_SCRAM_SHA_1, ImapServerFixture::kPassword, "SCRAM-SHA-1"},
      {connector::v1::AUTH_MECHANISM_XOAUTH2, "good-token-alice", "XOAUTH2"},
      {connector::v1::AUTH_MECHANISM_OAUTHBEARER, "good-token-alice", "OAUTHBEARER"},
  };
  for (const Case& k : cases) {
    Connection c = GoodConnection();
    c.set_auth_mechanism(k.mechanism);
    c.set_password(k.secret);
    TestConnectionResponse r = TestInline(c);
    EXPECT_TRUE(r.ok()) << k.name << ": " << r.message();
    ASSERT_NE(FindStage(r, "login"), nullptr);
    EXPECT_THAT(FindStage(r, "login")->detail(), HasSubstr(std::string("with ") + k.name));
    c.set_password("wrong-secret");
    r = TestInline(c);
    EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_AUTH_FAILED) << k.name;
  }
}

TEST_F(ConnectorE2eTest, WrongPassword) {
  Connection c = GoodConnection();
  c.set_password("not-the-password");
  TestConnectionResponse r = TestInline(c);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_AUTH_FAILED);
  EXPECT_EQ(LastStageName(r), "login");
  EXPECT_EQ(FindStage(r, "login")->result(), Stage::FAILED);
  EXPECT_THAT(r.message(), HasSubstr("AUTHENTICATIONFAILED"));
  EXPECT_THAT(r.message(), ::testing::Not(HasSubstr("not-the-password")));
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("not-the-password")));
}

TEST_F(ConnectorE2eTest, UntrustedCertificateIsRefused) {
  Connection c = GoodConnection();
  c.clear_tls();
  TestConnectionResponse r = TestInline(c);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_CERTIFICATE);
  EXPECT_EQ(LastStageName(r), "tls");
  EXPECT_THAT(r.message(), HasSubstr("self-signed"));

  // The same over STARTTLS: no credentials go out.
  c.set_server_url(absl::StrCat("imap://localhost:", dovecot->imap_port()));
  r = TestInline(c);
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_CERTIFICATE);
  EXPECT_EQ(LastStageName(r), "starttls");

  // Explicitly skipping verification works, and says so.
  c.mutable_tls()->set_insecure_skip_verify(true);
  r = TestInline(c);
  EXPECT_TRUE(r.ok()) << r.message();
  EXPECT_THAT(FindStage(r, "starttls")->detail(), HasSubstr("NOT verified"));
}

TEST_F(ConnectorE2eTest, WrongHostNameIsRefused) {
  Connection c = GoodConnection();
  // The certificate names only "localhost".
  c.set_server_url(absl::StrCat("127.0.0.1:", dovecot->imaps_port()));
  TestConnectionResponse r = TestInline(c);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_CERTIFICATE);
  EXPECT_THAT(r.message(), HasSubstr("127.0.0.1"));
}

TEST_F(ConnectorE2eTest, MissingFolder) {
  Connection c = GoodConnection();
  c.set_default_folder("Does/Not/Exist");
  TestConnectionResponse r = TestInline(c);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_FOLDER_NOT_FOUND);
  EXPECT_EQ(LastStageName(r), "examine");
  EXPECT_THAT(r.message(), HasSubstr("Does/Not/Exist"));
}

TEST_F(ConnectorE2eTest, ClosedPort) {
  Connection c = GoodConnection();
  c.set_server_url(absl::StrCat("localhost:", testing_fixtures::PickFreePort()));
  TestConnectionResponse r = TestInline(c);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_REFUSED);
  EXPECT_EQ(LastStageName(r), "connect");
}

TEST_F(ConnectorE2eTest, ImplicitTlsOnThePlainPortFailsInTls) {
  Connection c = GoodConnection();
  c.set_server_url(absl::StrCat("localhost:", dovecot->imap_port()));
  TestConnectionResponse r = TestInline(c);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_TLS);
  EXPECT_EQ(LastStageName(r), "tls");
}

// Accepts connections (the kernel completes the handshake for the backlog)
// and never says anything.
using SilentServer = testing_fixtures::LoopbackListener;

TEST_F(ConnectorE2eTest, SilentServerTimesOutAtTheGreeting) {
  SilentServer silent;
  Connection c = GoodConnection();
  c.set_server_url(absl::StrCat("imap://localhost:", silent.port()));
  c.set_timeout_ms(700);
  TestConnectionResponse r = TestInline(c);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.category(), connector::v1::FAILURE_CATEGORY_TIMEOUT);
  EXPECT_EQ(LastStageName(r), "greeting");
  const Stage* greeting = FindStage(r, "greeting");
  ASSERT_NE(greeting, nullptr);
  // Waited for the whole timeout, and not for much longer (a generous
  // bound: this checks that the timeout applies, not how fast we are).
  EXPECT_GE(greeting->duration_ms(), 690);
  EXPECT_LT(greeting->duration_ms(), 700 + 5000);
  EXPECT_THAT(r.message(), HasSubstr("700 ms"));
}

TEST_F(ConnectorE2eTest, CallDeadlineIsHonoured) {
  SilentServer silent;
  Connection c = GoodConnection("slow");
  c.set_server_url(absl::StrCat("imap://localhost:", silent.port()));
  c.set_timeout_ms(600000);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(800));
  connector::v1::TestConnectionRequest request;
  *request.mutable_connection() = c;
  TestConnectionResponse response;
  grpc::Status s = stub_->TestConnection(&ctx, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server itself gives up at the deadline instead of waiting for the
  // ten-minute timeout: it logs the end of the call.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (server_->log().find("TestConnection 'slow (inline)': DEADLINE_EXCEEDED") ==
             std::string::npos &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));  // polling the log for a condition
  }
  EXPECT_THAT(server_->log(), HasSubstr("TestConnection 'slow (inline)': DEADLINE_EXCEEDED"));
}

TEST_F(ConnectorE2eTest, ClientCancellationStopsTheImapWaitAtOnce) {
  SilentServer silent;
  Connection c = GoodConnection("hanging");
  c.set_server_url(absl::StrCat("imap://localhost:", silent.port()));
  c.set_timeout_ms(600000);  // the IMAP wait alone would last ten minutes
  grpc::ClientContext ctx;
  connector::v1::TestConnectionRequest request;
  *request.mutable_connection() = c;
  TestConnectionResponse response;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(500));  // let the call reach the greeting wait
    ctx.TryCancel();
  });
  grpc::Status s = stub_->TestConnection(&ctx, request, &response);
  canceller.join();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED);
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (server_->log().find("TestConnection 'hanging (inline)': CANCELLED") == std::string::npos &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));  // polling the log for a condition
  }
  EXPECT_THAT(server_->log(), HasSubstr("TestConnection 'hanging (inline)': CANCELLED"));
}

TEST_F(ConnectorE2eTest, InactiveAndUnknownConnections) {
  Connection c = GoodConnection();
  c.set_is_active(false);
  connector::v1::ConfigureResponse configured;
  ASSERT_TRUE(Configure(c, &configured).ok());
  EXPECT_FALSE(configured.connection().is_active());

  grpc::ClientContext ctx;
  connector::v1::TestConnectionRequest request;
  request.set_name("mail");
  TestConnectionResponse response;
  grpc::Status s = stub_->TestConnection(&ctx, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("inactive"));

  grpc::ClientContext ctx2;
  request.set_name("nobody-configured-this");
  s = stub_->TestConnection(&ctx2, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext ctx3;
  connector::v1::DeleteConnectionRequest del;
  del.set_name("mail");
  connector::v1::DeleteConnectionResponse deleted;
  EXPECT_TRUE(stub_->DeleteConnection(&ctx3, del, &deleted).ok());
  grpc::ClientContext ctx4;
  EXPECT_EQ(stub_->DeleteConnection(&ctx4, del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ConnectorE2eTest, InlineConnectionNeedsAPassword) {
  Connection c = GoodConnection();
  c.clear_password();
  grpc::Status s;
  TestInline(c, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(s), ElementsAre("connection.password"));
}

TEST_F(ConnectorE2eTest, SurvivesRestartAndStopsGracefully) {
  connector::v1::ConfigureResponse response;
  ASSERT_TRUE(Configure(GoodConnection(), &response).ok());
  stub_.reset();  // an open client connection would hold up the shutdown
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  EXPECT_THAT(server_->log(), HasSubstr("received SIGTERM"));
  StartServer();
  grpc::ClientContext ctx;
  connector::v1::TestConnectionRequest request;
  request.set_name("mail");
  TestConnectionResponse result;
  ASSERT_TRUE(stub_->TestConnection(&ctx, request, &result).ok());
  EXPECT_TRUE(result.ok()) << result.message();
  // With the client's connection still open, SIGINT too ends in exit 0.
  EXPECT_EQ(server_->Stop(SIGINT), 0);
  EXPECT_THAT(server_->log(), HasSubstr("received SIGINT"));
}

TEST_F(ConnectorE2eTest, SigtermTurnsHealthNotServing) {
  auto health = grpc::health::v1::Health::NewStub(server_->channel());
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("connector.v1.Connector");
  auto watch = health->Watch(&ctx, request);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  server_->Signal(SIGTERM);
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  ctx.TryCancel();  // a watcher would otherwise hold the shutdown for its grace period
  watch->Finish();
  watch.reset();
  stub_.reset();
  health.reset();
  EXPECT_EQ(server_->Wait(), 0);
}

// Every description in the BadRequest of `status`, by field.
std::map<std::string, std::string> Descriptions(const grpc::Status& status) {
  std::map<std::string, std::string> out;
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return out;
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad;
    if (bad.ParseFromString(any.value())) {
      for (const auto& v : bad.field_violations()) out[v.field()] = v.description();
    }
  }
  return out;
}

// A 10 KB value is quoted as its first 100 characters and its length, so
// the status (and its details trailer) stays far below the 8 KiB of
// metadata a default client accepts.
TEST_F(ConnectorE2eTest, LongValuesAreQuotedShortly) {
  const std::string huge(10240, 'a');
  const std::string quoted = absl::StrCat("'", std::string(100, 'a'), "…' (10240 bytes)");

  grpc::ClientContext ctx;
  connector::v1::GetConnectionRequest get;
  get.set_name(huge);
  Connection got;
  grpc::Status s = stub_->GetConnection(&ctx, get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message().substr(0, 300);
  EXPECT_EQ(s.error_message(), absl::StrCat("no connection named ", quoted));

  grpc::ClientContext ctx2;
  connector::v1::TestConnectionRequest by_name;
  by_name.set_name(huge);
  TestConnectionResponse response;
  s = stub_->TestConnection(&ctx2, by_name, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message().substr(0, 300);
  EXPECT_THAT(s.error_message(), HasSubstr(quoted));

  // Bad values of an inline connection, quoted in the BadRequest.
  Connection c = GoodConnection(huge);
  c.set_cloud_agent(huge);
  c.set_server_url(absl::StrCat(std::string(10240, 'b'), "!:143"));
  grpc::Status inline_status;
  TestInline(c, &inline_status);
  EXPECT_EQ(inline_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << inline_status.error_message().substr(0, 300);
  EXPECT_LT(inline_status.error_message().size(), 1200u);
  EXPECT_LT(inline_status.error_details().size(), 2500u);
  std::map<std::string, std::string> d = Descriptions(inline_status);
  EXPECT_THAT(d["connection.cloud_agent"], HasSubstr(absl::StrCat("names agent ", quoted)));
  EXPECT_THAT(d["connection.server_url"], HasSubstr("…' (10241 bytes) is not a valid host name"));
  EXPECT_THAT(d["connection.name"], HasSubstr("is 10240 bytes long"));
}

// Bytes that are not UTF-8 in a string field: protobuf refuses the request
// before any handler runs, and the answer still says what is wrong.
TEST_F(ConnectorE2eTest, InvalidUtf8IsAnsweredInvalidArgument) {
  const std::string bad = "sales\xff\xfe";
  grpc::ClientContext ctx;
  connector::v1::GetConnectionRequest get;
  get.set_name(bad);
  Connection got;
  grpc::Status s = stub_->GetConnection(&ctx, get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("the GetConnection request could not be parsed: a string "
                                           "field is not valid UTF-8"));

  // A nested field of a unary call with a body.
  Connection c = GoodConnection();
  c.set_username(bad);
  grpc::Status inline_status;
  TestInline(c, &inline_status);
  EXPECT_EQ(inline_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(inline_status.error_message(), HasSubstr("TestConnection request could not be parsed"));

  // The server-streaming call (gRPC answers it UNIMPLEMENTED by itself).
  grpc::ClientContext ctx2;
  connector::v1::StreamRecordsRequest stream_request;
  stream_request.mutable_connection()->set_name(bad);
  auto reader = stub_->StreamRecords(&ctx2, stream_request);
  connector::v1::StreamRecordsResponse batch;
  EXPECT_FALSE(reader->Read(&batch));
  s = reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("StreamRecords request could not be parsed"));

  // The server is unharmed, and valid requests are not touched.
  grpc::ClientContext ctx3;
  get.set_name("nobody");
  EXPECT_EQ(stub_->GetConnection(&ctx3, get, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

// Streams `request` to its end (or `max_records` records, then cancels);
// returns the status, the records' cursors and the last batch cursor.
struct StreamOutcome {
  grpc::Status status;
  std::vector<std::string> record_cursors;
  std::string last_cursor;
  std::multimap<grpc::string_ref, grpc::string_ref> trailers;
  std::string resume_trailer;
};

StreamOutcome StreamAll(connector::v1::Connector::Stub& stub,
                        const connector::v1::StreamRecordsRequest& request, int max_records = -1) {
  StreamOutcome out;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto reader = stub.StreamRecords(&ctx, request);
  connector::v1::StreamRecordsResponse batch;
  while (reader->Read(&batch)) {
    for (const auto& r : batch.records()) out.record_cursors.push_back(r.cursor());
    if (!batch.cursor().empty()) out.last_cursor = batch.cursor();
    if (max_records >= 0 && static_cast<int>(out.record_cursors.size()) >= max_records) {
      ctx.TryCancel();
      break;
    }
  }
  out.status = reader->Finish();
  auto it = ctx.GetServerTrailingMetadata().find("imapc-resume-cursor");
  if (it != ctx.GetServerTrailingMetadata().end()) {
    out.resume_trailer = std::string(it->second.data(), it->second.size());
  }
  return out;
}

connector::v1::StreamRecordsRequest NamedStream(const std::string& name, bool follow = false) {
  connector::v1::StreamRecordsRequest r;
  r.mutable_connection()->set_name(name);
  r.set_query("SELECT uid");
  r.set_max_batch_records(1);
  r.set_follow(follow);
  return r;
}

grpc::Status Ack(connector::v1::Connector::Stub& stub, const std::string& name,
                 const std::string& cursor, connector::v1::AcknowledgeResponse* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  connector::v1::AcknowledgeRequest request;
  request.mutable_connection()->set_name(name);
  request.set_cursor(cursor);
  return stub.Acknowledge(&ctx, request, response);
}

// Cursors are sealed to their connection: another connection's cursor, or a
// changed one, is refused before anything is stored or streamed.
TEST_F(ConnectorE2eTest, CursorsAreBoundToTheirConnectionAndCannotBeForged) {
  connector::v1::ConfigureResponse configured;
  ASSERT_TRUE(Configure(GoodConnection("first"), &configured).ok());
  ASSERT_TRUE(Configure(GoodConnection("second"), &configured).ok());

  StreamOutcome first = StreamAll(*stub_, NamedStream("first"), 2);
  ASSERT_EQ(first.record_cursors.size(), 2u) << first.status.error_message();
  const std::string cursor = first.record_cursors[1];
  ASSERT_FALSE(cursor.empty());

  // Acknowledge on the other connection: refused, nothing stored.
  connector::v1::AcknowledgeResponse acked;
  grpc::Status s = Ack(*stub_, "second", cursor, &acked);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(ViolatedFields(s), ElementsAre("cursor"));
  EXPECT_THAT(s.error_message(), HasSubstr("not valid for connection 'second'"));
  grpc::ClientContext get_ctx;
  connector::v1::GetConnectionRequest get;
  get.set_name("second");
  Connection second;
  ASSERT_TRUE(stub_->GetConnection(&get_ctx, get, &second).ok());
  EXPECT_EQ(second.last_ack_cursor(), "");
  // ...so since_last_ack on it still works.
  connector::v1::StreamRecordsRequest since = NamedStream("second");
  since.set_since_last_ack(true);
  StreamOutcome all = StreamAll(*stub_, since);
  EXPECT_TRUE(all.status.ok()) << all.status.error_message();
  EXPECT_EQ(all.record_cursors.size(), static_cast<size_t>(ImapServerFixture::kInboxMessages));

  // Resuming the other connection from it: refused.
  connector::v1::StreamRecordsRequest resume = NamedStream("second");
  resume.set_resume_after(cursor);
  StreamOutcome foreign = StreamAll(*stub_, resume);
  EXPECT_EQ(foreign.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(foreign.status), ElementsAre("resume_after"));
  EXPECT_TRUE(foreign.record_cursors.empty());

  // A forged position (the signature of one cursor on another's position).
  const std::string earlier = first.record_cursors[0];
  const std::string forged =
      absl::StrCat(earlier.substr(0, earlier.rfind('.')), cursor.substr(cursor.rfind('.')));
  ASSERT_NE(forged, earlier);
  EXPECT_EQ(Ack(*stub_, "first", forged, &acked).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // Its own connection takes it, and answers a sealed cursor that resumes.
  s = Ack(*stub_, "first", cursor, &acked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(acked.cursor(), cursor);
  grpc::ClientContext get_ctx2;
  get.set_name("first");
  Connection stored;
  ASSERT_TRUE(stub_->GetConnection(&get_ctx2, get, &stored).ok());
  EXPECT_EQ(stored.last_ack_cursor(), cursor);

  // The key lives in the data directory: cursors survive a restart.
  stub_.reset();
  ASSERT_EQ(server_->Stop(SIGTERM), 0);
  StartServer();
  resume = NamedStream("first");
  resume.set_resume_after(cursor);
  StreamOutcome rest = StreamAll(*stub_, resume);
  EXPECT_TRUE(rest.status.ok()) << rest.status.error_message();
  EXPECT_EQ(rest.record_cursors.size(), static_cast<size_t>(ImapServerFixture::kInboxMessages - 2));

  // A cursor from before sealing (no signature) is still taken, with a
  // deprecation warning.
  const std::string unsealed = cursor.substr(0, cursor.rfind('.'));
  s = Ack(*stub_, "first", unsealed, &acked);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_THAT(server_->log(), HasSubstr("accepted an unsealed cursor"));
}

// SIGTERM ends a follow stream at once: UNAVAILABLE, with the cursor to
// resume from in the trailer, and the log says the server ended it.
TEST_F(ConnectorE2eTest, ShutdownEndsFollowStreamsAtOnceWithTheirCursor) {
  stub_.reset();
  server_.reset();
  StartServer({"--shutdown_grace=60s"});
  connector::v1::ConfigureResponse configured;
  ASSERT_TRUE(Configure(GoodConnection("follower"), &configured).ok());

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  connector::v1::StreamRecordsRequest request = NamedStream("follower", /*follow=*/true);
  request.set_max_batch_records(100);
  auto reader = stub_->StreamRecords(&ctx, request);
  connector::v1::StreamRecordsResponse batch;
  std::string last_cursor;
  size_t records = 0;
  // Read the mailbox to its end: the stream then waits for new mail.
  while (reader->Read(&batch)) {
    records += static_cast<size_t>(batch.records_size());
    if (!batch.cursor().empty()) last_cursor = batch.cursor();
    if (batch.folder_done() == "INBOX") break;
  }
  ASSERT_EQ(records, static_cast<size_t>(ImapServerFixture::kInboxMessages));
  ASSERT_FALSE(last_cursor.empty());

  const absl::Time signalled = absl::Now();
  server_->Signal(SIGTERM);
  while (reader->Read(&batch)) {
    if (!batch.cursor().empty()) last_cursor = batch.cursor();
  }
  const grpc::Status s = reader->Finish();
  const absl::Duration took = absl::Now() - signalled;
  EXPECT_LT(took, absl::Seconds(10)) << "the stream waited for the grace period";
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("shutting down"));
  auto trailer = ctx.GetServerTrailingMetadata().find("imapc-resume-cursor");
  ASSERT_NE(trailer, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()), last_cursor);

  stub_.reset();
  EXPECT_EQ(server_->Wait(), 0);
  EXPECT_LT(absl::Now() - signalled, absl::Seconds(20));
  EXPECT_THAT(server_->log(), HasSubstr("StreamRecords 'follower': ended by the server shutdown"));
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("client cancelled")));

  // The trailer's cursor resumes on the next server: nothing is repeated.
  StartServer();
  connector::v1::StreamRecordsRequest resume = NamedStream("follower");
  resume.set_resume_after(last_cursor);
  StreamOutcome rest = StreamAll(*stub_, resume);
  EXPECT_TRUE(rest.status.ok()) << rest.status.error_message();
  EXPECT_TRUE(rest.record_cursors.empty());
}

// A client that cancels its stream is logged as such (and not as a
// shutdown).
TEST_F(ConnectorE2eTest, ClientCancelIsLoggedAsTheClients) {
  connector::v1::ConfigureResponse configured;
  ASSERT_TRUE(Configure(GoodConnection("reader"), &configured).ok());
  StreamOutcome cancelled = StreamAll(*stub_, NamedStream("reader", /*follow=*/true), 1);
  EXPECT_EQ(cancelled.status.error_code(), grpc::StatusCode::CANCELLED);
  // The server logs once its worker has stopped, shortly after the client.
  const std::string logged = "StreamRecords 'reader': the client cancelled the stream";
  const absl::Time start = absl::Now();
  while (server_->log().find(logged) == std::string::npos && absl::Now() - start < absl::Seconds(10)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(server_->log(), HasSubstr(logged));
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("shutdown")));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new testing_fixtures::DovecotEnvironment(&dovecot));
  return RUN_ALL_TESTS();
}
