// imap-connector: the gRPC server. Flags: --listen, --data_dir, --agent.
// SIGTERM or SIGINT turn health to NOT_SERVING, let running calls finish
// (up to --shutdown_grace), and exit 0.
#include <pthread.h>
#include <signal.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/connection_store.h"
#include "server/connector_service.h"
#include "server/log.h"

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
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "how long running calls may take to finish after SIGTERM");

namespace {

constexpr char kServiceName[] = "connector.v1.Connector";

// Splits "host:port" or "[v6]:port"; returns false if malformed.
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

  absl::StatusOr<std::unique_ptr<server::ConnectionStore>> store =
      server::ConnectionStore::Open(absl::GetFlag(FLAGS_data_dir));
  if (!store.ok()) {
    server::LogError(absl::StrCat("--data_dir: ", store.status().message()));
    return 1;
  }
  server::StreamTuning tuning;
  tuning.poll_interval = absl::GetFlag(FLAGS_follow_poll_interval);
  tuning.backoff_initial = absl::GetFlag(FLAGS_reconnect_backoff);
  tuning.max_reconnect_attempts = absl::GetFlag(FLAGS_reconnect_attempts);
  server::ConnectorService service(store->get(), agent, tuning);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> rpc_server = builder.BuildAndStart();
  if (rpc_server == nullptr || port == 0) {
    server::LogError(absl::StrCat("cannot listen on ", listen));
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = rpc_server->GetHealthCheckService();
  health->SetServingStatus(kServiceName, true);
  const std::string host = listen.substr(0, listen.rfind(':'));
  server::LogInfo(absl::StrCat("imap-connector listening on ", host, ":", port, " (agent '", agent,
                               "', store ", (*store)->path(), ")"));

  std::thread signal_waiter([&] {
    int sig = 0;
    sigwait(&shutdown_signals, &sig);
    server::LogInfo(absl::StrCat("received ", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                                 ", shutting down"));
    health->SetServingStatus(false);  // NOT_SERVING for every service
    rpc_server->Shutdown(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_shutdown_grace)));
  });
  rpc_server->Wait();
  signal_waiter.join();
  server::LogInfo("stopped");
  return 0;
}
