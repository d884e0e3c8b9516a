// imap-connector: the gRPC server. Flags: --listen, --data_dir, --agent;
// for deployments also --connections_file/--secrets_dir (declared
// connections), --tls_* (gRPC over TLS, mTLS), --auth_token_file (bearer
// token), --health_listen (plaintext health for probes), --metrics_listen
// (Prometheus), --cursor_key_file (keys sealing cursors), --secret_key_file
// (keys sealing stored passwords and OAuth secrets),
// --replicas_share_data_dir (false for replicas with a data directory each:
// the server then keeps no state). SIGTERM or SIGINT
// turn health to NOT_SERVING, end follow streams at once (UNAVAILABLE with
// their resume cursor), let other calls finish (up to --shutdown_grace),
// and exit 0.
#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/bearer_auth.h"
#include "server/connection_store.h"
#include "server/imap_connect.h"
#include "server/oauth/token_cache.h"
#include "server/connector_service.h"
#include "server/cursor_seal.h"
#include "server/declared_connections.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/request_parse_interceptor.h"
#include "server/secret_box.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve gRPC on; port 0 picks a free port (logged at start)");
ABSL_FLAG(std::string, data_dir, "./imap-connector-data",
          "directory for the connection store (created with mode 0700)");
ABSL_FLAG(std::string, agent, "cloud", "this agent's name; connections name the agent that runs them");
ABSL_FLAG(absl::Duration, follow_poll_interval, absl::Seconds(30),
          "StreamRecords follow mode: how often folders are checked for new mail when IDLE "
          "cannot be used (no IDLE, or several folders)");
ABSL_FLAG(absl::Duration, reconnect_backoff, absl::Milliseconds(100),
          "first wait before reconnecting a stream whose IMAP connection dropped (doubles up to 10s)");
ABSL_FLAG(int, reconnect_attempts, 8,
          "failed reconnects in a row after which a stream gives up");
ABSL_FLAG(std::string, connections_file, "",
          "JSON file of connections declared by the operator ({\"connections\": [...]}, proto3 JSON, "
          "no passwords); served read-only besides those made with Configure");
ABSL_FLAG(std::string, secrets_dir, "",
          "directory holding one file per declared connection, named after it, with its password");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM certificate chain: serve gRPC over TLS");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "PEM CA bundle: require and verify client certificates (mTLS); needs --tls_cert_file");
ABSL_FLAG(std::string, auth_token_file, "",
          "file holding a token every call must send as \"authorization: Bearer <token>\"");
ABSL_FLAG(std::string, health_listen, "",
          "host:port for a plaintext gRPC server with only grpc.health.v1 (for probes when "
          "--listen uses TLS); it reports the same status");
ABSL_FLAG(std::string, metrics_listen, "", "host:port serving Prometheus metrics at /metrics");
ABSL_FLAG(int, max_receive_message_mb, 64,
          "largest request message accepted, in MiB (a WriteRecords message carries a whole e-mail)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "how long running calls may take to finish after SIGTERM (follow streams end at once, "
          "with their resume cursor)");
ABSL_FLAG(std::string, cursor_key_file, "",
          "file of keys that seal cursors, one per line (at least 16 bytes each): the first signs, "
          "all verify, so a new key goes first during a rotation. Replicas serving the same "
          "connections need the same file (e.g. a Secret). Default: DATA_DIR/cursor-keys, created "
          "with a random key on first start");

ABSL_FLAG(std::string, secret_key_file, "",
          "file of AES-256 keys that seal the passwords and OAuth secrets stored in "
          "DATA_DIR/connections.json, one per line as the base64 of 32 bytes (openssl rand -base64 "
          "32): the first seals, all open, so a new key goes first during a rotation and the old one "
          "stays until a start with the new file has re-sealed everything. Keys are named in logs by id (first 8 "
          "hex digits of the SHA-256 of the 32 bytes). Default: secrets stored in clear text (a warning "
          "at start)");
ABSL_FLAG(bool, replicas_share_data_dir, true,
          "true: every replica of this server sees this --data_dir (a single server, or replicas on "
          "one ReadWriteMany volume; several processes may share it safely). false: each replica "
          "has its own, so the server keeps no state another replica would need: Configure and "
          "DeleteConnection are refused (declare connections in --connections_file), "
          "StreamRecords refuses since_last_ack and Acknowledge records nothing (clients resume "
          "with resume_after); needs --cursor_key_file, the same on every replica");

namespace {

constexpr char kServiceName[] = "connector.v1.Connector";

// Splits "host:port" or "[v6]:port"; returns false if malformed.
// The server credentials the TLS flags ask for, or an error naming the flag.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials() {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key = absl::GetFlag(FLAGS_tls_key_file);
  const std::string client_ca = absl::GetFlag(FLAGS_tls_client_ca_file);
  if (cert.empty() && key.empty()) {
    if (!client_ca.empty()) {
      return absl::InvalidArgumentError("--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  if (cert.empty() || key.empty()) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  absl::StatusOr<std::string> cert_pem = server::ReadSecretFile(cert);
  if (!cert_pem.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_cert_file: ", cert_pem.status().message()));
  absl::StatusOr<std::string> key_pem = server::ReadSecretFile(key);
  if (!key_pem.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_key_file: ", key_pem.status().message()));
  pair.cert_chain = *cert_pem;
  pair.private_key = *key_pem;
  options.pem_key_cert_pairs.push_back(pair);
  if (!client_ca.empty()) {
    absl::StatusOr<std::string> ca = server::ReadSecretFile(client_ca);
    if (!ca.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_client_ca_file: ", ca.status().message()));
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

bool ValidListenAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string port = address.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) return false;
  return std::stoi(port) <= 65535;
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before gRPC starts any thread, so that every
  // thread inherits the mask and only the sigwait below receives them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Few malloc arenas: every stream's worker threads would otherwise get
  // arenas of their own (glibc allows 8 per core), each holding freed
  // memory apart from the others. With 32 concurrent streams four arenas
  // keep the resident size about 15% lower at no measurable CPU cost. An
  // operator's MALLOC_ARENA_MAX still wins.
  if (getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);

  absl::SetProgramUsageMessage(
      "imap-connector --listen=HOST:PORT --data_dir=DIR [--agent=NAME]\n"
      "Serves the connector.v1.Connector gRPC API (see proto/connector/v1/connector.proto).");
  absl::ParseCommandLine(argc, argv);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string agent = absl::GetFlag(FLAGS_agent);
  if (!ValidListenAddress(listen)) {
    server::LogError(absl::StrCat("--listen: '", listen, "' is not host:port"));
    return 2;
  }
  if (agent.empty()) {
    server::LogError("--agent: must not be empty");
    return 2;
  }

  server::ConnectionStoreOptions store_options;
  if (const std::string key_file = absl::GetFlag(FLAGS_secret_key_file); !key_file.empty()) {
    absl::StatusOr<server::SecretBox> secrets = server::SecretBox::Load(key_file);
    if (!secrets.ok()) {
      server::LogError(absl::StrCat("--secret_key_file: ", secrets.status().message()));
      return 1;
    }
    server::LogInfo(absl::StrCat("stored secrets are sealed with key ", secrets->sealing_key_id(),
                                 " (", secrets->key_ids().size(),
                                 secrets->key_ids().size() == 1 ? " key" : " keys", " in ", key_file, ")"));
    store_options.secrets = *std::move(secrets);
  } else {
    server::LogWarning(
        "no --secret_key_file: passwords and OAuth secrets of connections made with Configure are "
        "stored in clear text in the data directory");
  }
  absl::StatusOr<std::unique_ptr<server::ConnectionStore>> store =
      server::ConnectionStore::Open(absl::GetFlag(FLAGS_data_dir), std::move(store_options));
  if (!store.ok()) {
    server::LogError(absl::StrCat("--data_dir: ", store.status().message()));
    return 1;
  }
  const std::string connections_file = absl::GetFlag(FLAGS_connections_file);
  if (!connections_file.empty()) {
    absl::StatusOr<std::vector<connector::v1::Connection>> declared = server::LoadDeclaredConnections(
        connections_file, absl::GetFlag(FLAGS_secrets_dir), agent);
    absl::Status s = declared.ok() ? (*store)->Declare(*declared) : declared.status();
    if (!s.ok()) {
      server::LogError(absl::StrCat("--connections_file: ", s.message()));
      return 1;
    }
    server::LogInfo(absl::StrCat(declared->size(), " declared connections from ", connections_file));
  }
  const bool share_data_dir = absl::GetFlag(FLAGS_replicas_share_data_dir);
  if (!share_data_dir && absl::GetFlag(FLAGS_cursor_key_file).empty()) {
    // Each replica would make its own DATA_DIR/cursor-keys and refuse the
    // cursors the others sealed.
    server::LogError(
        "--replicas_share_data_dir=false needs --cursor_key_file (the same keys on every replica, "
        "e.g. a mounted Secret): otherwise each replica makes its own cursor key and refuses the "
        "cursors of the others");
    return 1;
  }
  if (!share_data_dir) {
    server::LogInfo(
        "replicas do not share the data directory (--replicas_share_data_dir=false): Configure, "
        "DeleteConnection and since_last_ack are refused, Acknowledge records nothing");
  }
  absl::StatusOr<server::CursorSealer> sealer =
      server::CursorSealer::Load(absl::GetFlag(FLAGS_cursor_key_file), absl::GetFlag(FLAGS_data_dir));
  if (!sealer.ok()) {
    server::LogError(absl::StrCat(absl::GetFlag(FLAGS_cursor_key_file).empty() ? "--data_dir: "
                                                                               : "--cursor_key_file: ",
                                  sealer.status().message()));
    return 1;
  }
  server::BearerAuth auth;
  if (const std::string token_file = absl::GetFlag(FLAGS_auth_token_file); !token_file.empty()) {
    absl::StatusOr<std::string> token = server::ReadSecretFile(token_file);
    if (!token.ok() || token->empty()) {
      server::LogError(absl::StrCat("--auth_token_file: ",
                                    token.ok() ? "the file is empty" : token.status().message()));
      return 1;
    }
    auth = server::BearerAuth(*std::move(token));
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials();
  if (!credentials.ok()) {
    server::LogError(std::string(credentials.status().message()));
    return 1;
  }
  std::unique_ptr<server::MetricsServer> metrics;
  if (const std::string address = absl::GetFlag(FLAGS_metrics_listen); !address.empty()) {
    absl::StatusOr<std::unique_ptr<server::MetricsServer>> m = server::MetricsServer::Start(address);
    if (!m.ok()) {
      server::LogError(absl::StrCat("--metrics_listen: ", m.status().message()));
      return 1;
    }
    metrics = *std::move(m);
    server::LogInfo(absl::StrCat("metrics on port ", metrics->port(), " at /metrics"));
  }

  server::StreamTuning tuning;
  tuning.poll_interval = absl::GetFlag(FLAGS_follow_poll_interval);
  tuning.backoff_initial = absl::GetFlag(FLAGS_reconnect_backoff);
  tuning.max_reconnect_attempts = absl::GetFlag(FLAGS_reconnect_attempts);
  // One OAuth 2.0 token cache for every call; rotated refresh tokens go
  // back into the store.
  server::oauth::TokenCache::Options token_options;
  token_options.persist = server::oauth::PersistRefreshTokenTo(store->get());
  server::oauth::TokenCache token_cache(std::move(token_options));
  server::SetTokenCache(&token_cache);
  server::ConnectorService service(store->get(), agent, tuning, std::move(auth), *std::move(sealer),
                                   share_data_dir);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, *credentials, &port);
  builder.SetMaxReceiveMessageSize(std::max(1, absl::GetFlag(FLAGS_max_receive_message_mb)) << 20);
  builder.RegisterService(&service);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<server::RequestParseInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> rpc_server = builder.BuildAndStart();
  if (rpc_server == nullptr || port == 0) {
    server::LogError(absl::StrCat("cannot listen on ", listen));
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = rpc_server->GetHealthCheckService();
  health->SetServingStatus(kServiceName, true);

  // Probes cannot speak TLS or send tokens: a second, plaintext server
  // carries only the health service and mirrors the main one's status.
  std::unique_ptr<grpc::Server> health_server;
  grpc::HealthCheckServiceInterface* probe_health = nullptr;
  if (const std::string address = absl::GetFlag(FLAGS_health_listen); !address.empty()) {
    if (!ValidListenAddress(address)) {
      server::LogError(absl::StrCat("--health_listen: '", address, "' is not host:port"));
      return 2;
    }
    grpc::ServerBuilder health_builder;
    int health_port = 0;
    health_builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &health_port);
    health_server = health_builder.BuildAndStart();
    if (health_server == nullptr || health_port == 0) {
      server::LogError(absl::StrCat("cannot listen on ", address));
      return 1;
    }
    probe_health = health_server->GetHealthCheckService();
    probe_health->SetServingStatus(kServiceName, true);
    server::LogInfo(absl::StrCat("health service also on port ", health_port, " (plaintext)"));
  }
  const std::string host = listen.substr(0, listen.rfind(':'));
  server::LogInfo(absl::StrCat("imap-connector listening on ", host, ":", port, " (agent '", agent,
                               "', store ", (*store)->path(),
                               absl::GetFlag(FLAGS_tls_cert_file).empty() ? "" : ", TLS",
                               absl::GetFlag(FLAGS_tls_client_ca_file).empty() ? "" : ", client certificates required",
                               absl::GetFlag(FLAGS_auth_token_file).empty() ? "" : ", bearer token required",
                               ")"));

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&shutdown_signals, &sig);
    server::LogInfo(absl::StrCat("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                                 ", shutting down"));
    health->SetServingStatus(false);  // NOT_SERVING for every service
    if (probe_health != nullptr) probe_health->SetServingStatus(false);
    const absl::Time grace_end = absl::Now() + absl::GetFlag(FLAGS_shutdown_grace);
    // Follow streams never finish by themselves: end them now, telling
    // their clients where to resume, instead of holding the grace period.
    service.BeginShutdown(grace_end);
    rpc_server->Shutdown(absl::ToChronoTime(grace_end));
  });
  rpc_server->Wait();
  signal_waiter.join();
  if (health_server != nullptr) health_server->Shutdown(absl::ToChronoTime(absl::Now()));
  server::LogInfo("stopped");
  return 0;
}
