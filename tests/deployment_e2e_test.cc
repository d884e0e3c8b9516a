// What a deployment relies on, through the real binary: connections
// declared in a file with passwords from a secrets directory, gRPC over TLS
// and mTLS, a bearer token on every call, the plaintext health port for
// probes, the Prometheus metrics endpoint, and passwords sealed at rest
// with --secret_key_file.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "connector/v1/connector.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/fixtures/dovecot_environment.h"
#include "tests/fixtures/imap_server_fixture.h"
#include "tests/fixtures/loopback_listener.h"
#include "tests/fixtures/server_process.h"

namespace {

using testing_fixtures::ImapServerFixture;
using testing_fixtures::RunCommand;
using testing_fixtures::ServerProcess;
using ::testing::HasSubstr;

ImapServerFixture* dovecot = nullptr;


void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// A number the server logged after `marker` ("metrics on port 1234").
int LoggedPort(const std::string& log, const std::string& marker) {
  const size_t at = log.find(marker);
  if (at == std::string::npos) return 0;
  int port = 0;
  const size_t start = at + marker.size();
  (void)absl::SimpleAtoi(log.substr(start, log.find_first_not_of("0123456789", start) - start), &port);
  return port;
}

// GET /metrics over plain HTTP; the body, or "" on failure.
std::string FetchMetrics(int port) {
  const int fd = testing_fixtures::ConnectToLoopback(port);
  if (fd < 0) return "";
  const std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
  (void)!send(fd, request.data(), request.size(), 0);
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

class DeploymentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(dovecot, nullptr);
    char tmpl[] = "/tmp/imapc-deploy-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    server_.reset();
    RunCommand(absl::StrCat("rm -rf '", dir_, "'"));
  }

  // Writes connections.json with one connection "support" and its secret.
  void Declare(const std::string& extra_json = "", bool with_secret = true) {
    const std::string ca = absl::StrCat(dir_, "/ca.pem");
    WriteFile(ca, dovecot->ca_pem());
    std::string escaped;
    for (char c : dovecot->ca_pem()) {
      if (c == '\n') {
        escaped += "\\n";
      } else {
        escaped += c;
      }
    }
    WriteFile(dir_ + "/connections.json",
              absl::StrCat("{\"connections\": [{\"name\": \"support\", \"serverUrl\": \"imaps://localhost:",
                           dovecot->imaps_port(), "\", \"username\": \"alice\", \"timeoutMs\": 10000,",
                           " \"tls\": {\"caBundlePem\": \"", escaped, "\"}", extra_json, "}]}"));
    RunCommand(absl::StrCat("mkdir -p '", dir_, "/secrets'"));
    if (with_secret) WriteFile(dir_ + "/secrets/support", "alice-password\n");
  }

  std::vector<std::string> DeclaredFlags() {
    return {absl::StrCat("--connections_file=", dir_, "/connections.json"),
            absl::StrCat("--secrets_dir=", dir_, "/secrets")};
  }

  void Start(std::vector<std::string> flags) {
    absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(dir_ + "/store", flags);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
  }

  // Makes a CA, a server certificate for localhost and a client certificate.
  void MakeCertificates() {
    const std::string d = dir_;
    const std::string cmd = absl::StrCat(
        "cd '", d, "' && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca ",
        "-keyout ca.key -out ca.crt 2>/dev/null && ",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null && ",
        "printf 'subjectAltName=DNS:localhost' > san.ext && ",
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 ",
        "-extfile san.ext -out server.crt 2>/dev/null && ",
        "openssl req -newkey rsa:2048 -nodes -subj /CN=orchestrator -keyout client.key -out client.csr 2>/dev/null && ",
        "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out client.crt 2>/dev/null");
    ASSERT_EQ(RunCommand(cmd), 0);
  }

  std::string Read(const std::string& name) {
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::shared_ptr<grpc::Channel> TlsChannel(bool client_cert) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = Read("ca.crt");
    if (client_cert) {
      options.pem_private_key = Read("client.key");
      options.pem_cert_chain = Read("client.crt");
    }
    const std::string port = server_->address().substr(server_->address().rfind(':') + 1);
    return grpc::CreateChannel(absl::StrCat("localhost:", port), grpc::SslCredentials(options));
  }

  static grpc::Status List(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& token = "") {
    auto stub = connector::v1::Connector::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    connector::v1::ListConnectionsResponse response;
    return stub->ListConnections(&ctx, connector::v1::ListConnectionsRequest(), &response);
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DeploymentTest, DeclaredConnectionsAreServedReadOnlyWithPasswordsFromFiles) {
  Declare(", \"postActions\": {\"markSeen\": true}");
  Start(DeclaredFlags());
  auto stub = connector::v1::Connector::NewStub(server_->channel());
  {
    grpc::ClientContext ctx;
    connector::v1::ListConnectionsResponse list;
    ASSERT_TRUE(stub->ListConnections(&ctx, {}, &list).ok());
    ASSERT_EQ(list.connections_size(), 1);
    EXPECT_EQ(list.connections(0).name(), "support");
    EXPECT_TRUE(list.connections(0).has_password());
    EXPECT_TRUE(list.connections(0).password().empty());
    EXPECT_TRUE(list.connections(0).post_actions().mark_seen());
  }
  {
    grpc::ClientContext ctx;
    connector::v1::TestConnectionRequest request;
    request.set_name("support");
    connector::v1::TestConnectionResponse response;
    ASSERT_TRUE(stub->TestConnection(&ctx, request, &response).ok());
    EXPECT_TRUE(response.ok()) << response.message();
  }
  {
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    request.mutable_connection()->set_name("support");
    request.mutable_connection()->set_server_url("imap.example.com");
    request.mutable_connection()->set_username("x");
    request.mutable_connection()->set_password("y");
    connector::v1::ConfigureResponse response;
    grpc::Status s = stub->Configure(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(s.error_message(), HasSubstr("--connections_file"));
  }
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("alice-password")));
}

TEST_F(DeploymentTest, BadDeclarationsStopTheServerWithTheReason) {
  Declare("", /*with_secret=*/false);
  absl::StatusOr<std::unique_ptr<ServerProcess>> s = ServerProcess::Start(dir_ + "/store", DeclaredFlags());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("'support'"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("secrets/support"));

  Declare(", \"password\": \"inline\"");
  s = ServerProcess::Start(dir_ + "/store", DeclaredFlags());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("has a password in the file"));
}

TEST_F(DeploymentTest, TlsAndClientCertificates) {
  MakeCertificates();
  Start({absl::StrCat("--tls_cert_file=", dir_, "/server.crt"), absl::StrCat("--tls_key_file=", dir_, "/server.key")});
  EXPECT_TRUE(List(TlsChannel(false)).ok());
  EXPECT_FALSE(List(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials())).ok());

  Start({absl::StrCat("--tls_cert_file=", dir_, "/server.crt"), absl::StrCat("--tls_key_file=", dir_, "/server.key"),
         absl::StrCat("--tls_client_ca_file=", dir_, "/ca.crt")});
  EXPECT_TRUE(List(TlsChannel(true)).ok());
  EXPECT_FALSE(List(TlsChannel(false)).ok());
}

TEST_F(DeploymentTest, BearerTokenOnEveryCallButNotOnTheHealthPort) {
  WriteFile(dir_ + "/token", "s3cret-token\n");
  Start({absl::StrCat("--auth_token_file=", dir_, "/token"), "--health_listen=127.0.0.1:0"});
  EXPECT_EQ(List(server_->channel()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List(server_->channel(), "wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(List(server_->channel(), "s3cret-token").ok());

  const int health_port = LoggedPort(server_->log(), "health service also on port ");
  ASSERT_GT(health_port, 0);
  auto health = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", health_port), grpc::InsecureChannelCredentials()));
  for (const std::string service : {"", "connector.v1.Connector"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&ctx, request, &response).ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
}

TEST_F(DeploymentTest, MetricsCountCallsRecordsAndImapCommands) {
  Declare();
  std::vector<std::string> flags = DeclaredFlags();
  flags.push_back("--metrics_listen=127.0.0.1:0");
  Start(flags);
  const int port = LoggedPort(server_->log(), "metrics on port ");
  ASSERT_GT(port, 0);
  auto stub = connector::v1::Connector::NewStub(server_->channel());
  connector::v1::StreamRecordsRequest request;
  request.mutable_connection()->set_name("support");
  grpc::ClientContext ctx;
  auto reader = stub->StreamRecords(&ctx, request);
  connector::v1::StreamRecordsResponse batch;
  int records = 0;
  while (reader->Read(&batch)) records += batch.records_size();
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(records, ImapServerFixture::kInboxMessages);
  {
    grpc::ClientContext bad;
    connector::v1::TestQueryRequest q;
    q.mutable_connection()->set_name("nope");
    connector::v1::TestQueryResponse r;
    EXPECT_FALSE(stub->TestQuery(&bad, q, &r).ok());
  }
  const std::string metrics = FetchMetrics(port);
  EXPECT_THAT(metrics, HasSubstr("imapc_calls_total{method=\"StreamRecords\",code=\"OK\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("imapc_calls_total{method=\"TestQuery\",code=\"NOT_FOUND\"} 1"));
  EXPECT_THAT(metrics, HasSubstr(absl::StrCat("imapc_records_streamed_total ", records)));
  EXPECT_THAT(metrics, HasSubstr("imapc_open_streams 0"));
  EXPECT_THAT(metrics, HasSubstr("imapc_imap_command_seconds_count{command=\"UID FETCH\",ok=\"true\"}"));
  EXPECT_THAT(metrics, HasSubstr("imapc_imap_command_seconds_bucket{command=\"EXAMINE\",ok=\"true\",le=\"+Inf\"}"));
}

// A password given to Configure is sealed in DATA_DIR/connections.json
// under --secret_key_file, and still logs in after a restart; without the
// key the server refuses to start, naming the key, and changes nothing.
TEST_F(DeploymentTest, PasswordsAreSealedAtRestAndSurviveARestart) {
  // Key id: printf KEY | base64 -d | sha256sum | cut -c1-8.
  WriteFile(dir_ + "/secret-keys", "# imap-connector secret keys\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
  const std::string key_id = "630dcd29";
  const std::vector<std::string> flags = {absl::StrCat("--secret_key_file=", dir_, "/secret-keys")};
  Start(flags);
  EXPECT_THAT(server_->log(), HasSubstr(absl::StrCat("stored secrets are sealed with key ", key_id)));
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("clear text")));
  {
    auto stub = connector::v1::Connector::NewStub(server_->channel());
    grpc::ClientContext ctx;
    connector::v1::ConfigureRequest request;
    connector::v1::Connection& c = *request.mutable_connection();
    c.set_name("sealed-support");
    c.set_server_url(absl::StrCat("imaps://localhost:", dovecot->imaps_port()));
    c.set_username("alice");
    c.set_password("alice-password");
    c.set_timeout_ms(10000);
    c.mutable_tls()->set_ca_bundle_pem(dovecot->ca_pem());
    connector::v1::ConfigureResponse response;
    grpc::Status s = stub->Configure(&ctx, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const std::string stored = Read("store/connections.json");
  EXPECT_THAT(stored, HasSubstr("sealed-support"));
  EXPECT_THAT(stored, HasSubstr(absl::StrCat("\"password\": \"sealed:v1:", key_id, ":")));
  EXPECT_THAT(stored, ::testing::Not(HasSubstr("alice-password")));
  ASSERT_EQ(server_->Stop(SIGTERM), 0);

  Start(flags);
  {
    auto stub = connector::v1::Connector::NewStub(server_->channel());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    connector::v1::TestConnectionRequest request;
    request.set_name("sealed-support");
    connector::v1::TestConnectionResponse response;
    grpc::Status s = stub->TestConnection(&ctx, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(response.ok()) << response.message();
  }
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("alice-password")));
  ASSERT_EQ(server_->Stop(SIGTERM), 0);
  server_.reset();
  EXPECT_EQ(Read("store/connections.json"), stored);

  // Without the key file the server warns once; this store is sealed, so it
  // stops and says which key it needs.
  absl::StatusOr<std::unique_ptr<ServerProcess>> keyless = ServerProcess::Start(dir_ + "/store");
  ASSERT_FALSE(keyless.ok());
  const std::string keyless_log(keyless.status().message());
  EXPECT_THAT(keyless_log, HasSubstr(absl::StrCat("sealed with key ", key_id)));
  EXPECT_THAT(keyless_log, ::testing::Not(HasSubstr("alice-password")));
  // The one warning a server without a key file gives at start.
  const std::string warning = "no --secret_key_file: passwords and OAuth secrets";
  const size_t first = keyless_log.find(warning);
  EXPECT_NE(first, std::string::npos) << keyless_log;
  EXPECT_EQ(keyless_log.find(warning, first + 1), std::string::npos) << keyless_log;
  EXPECT_EQ(Read("store/connections.json"), stored);
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new testing_fixtures::DovecotEnvironment(&dovecot));
  return RUN_ALL_TESTS();
}
