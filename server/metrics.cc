#include "server/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace server {

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics;
  return *metrics;
}

void Metrics::CallFinished(absl::string_view method, absl::StatusCode code) {
  absl::MutexLock lock(&mu_);
  ++calls_[{std::string(method), absl::StatusCodeToString(code)}];
}

void Metrics::ImapError(absl::string_view category) {
  absl::MutexLock lock(&mu_);
  ++imap_errors_[std::string(category)];
}

void Metrics::ImapCommand(absl::string_view command, absl::Duration took, bool ok) {
  const double seconds = absl::ToDoubleSeconds(took);
  absl::MutexLock lock(&mu_);
  Histogram& h = commands_[{std::string(command), ok}];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.total;
  h.sum += seconds;
}

std::string Metrics::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  absl::StrAppend(&out,
                  "# HELP imapc_calls_total gRPC calls finished, by method and status code.\n"
                  "# TYPE imapc_calls_total counter\n");
  for (const auto& [key, n] : calls_) {
    absl::StrAppend(&out, "imapc_calls_total{method=\"", key.first, "\",code=\"", key.second,
                    "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP imapc_open_streams StreamRecords calls running now.\n"
                  "# TYPE imapc_open_streams gauge\n"
                  "imapc_open_streams ",
                  open_streams_.load(), "\n",
                  "# HELP imapc_records_streamed_total Records sent by StreamRecords.\n"
                  "# TYPE imapc_records_streamed_total counter\n"
                  "imapc_records_streamed_total ",
                  records_.load(), "\n",
                  "# HELP imapc_record_bytes_streamed_total Serialized bytes of the records sent.\n"
                  "# TYPE imapc_record_bytes_streamed_total counter\n"
                  "imapc_record_bytes_streamed_total ",
                  record_bytes_.load(), "\n",
                  "# HELP imapc_imap_errors_total IMAP failures seen by calls, by category.\n"
                  "# TYPE imapc_imap_errors_total counter\n");
  for (const auto& [category, n] : imap_errors_) {
    absl::StrAppend(&out, "imapc_imap_errors_total{category=\"", category, "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP imapc_imap_command_seconds Time from sending an IMAP command to its "
                  "tagged answer.\n"
                  "# TYPE imapc_imap_command_seconds histogram\n");
  for (const auto& [key, h] : commands_) {
    const std::string labels =
        absl::StrCat("command=\"", key.first, "\",ok=\"", key.second ? "true" : "false", "\"");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      absl::StrAppend(&out, "imapc_imap_command_seconds_bucket{", labels, ",le=\"",
                      absl::StrFormat("%g", kBuckets[i]), "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "imapc_imap_command_seconds_bucket{", labels, ",le=\"+Inf\"} ", h.total,
                    "\n", "imapc_imap_command_seconds_sum{", labels, "} ",
                    absl::StrFormat("%.6f", h.sum), "\n", "imapc_imap_command_seconds_count{",
                    labels, "} ", h.total, "\n");
  }
  return out;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not host:port"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve '", host, "'"));
  }
  std::unique_ptr<MetricsServer> server(new MetricsServer);
  server->fd_ = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(server->fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const bool bound = server->fd_ >= 0 && bind(server->fd_, found->ai_addr, found->ai_addrlen) == 0 &&
                     listen(server->fd_, 16) == 0;
  freeaddrinfo(found);
  if (!bound) return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": ", std::strerror(errno)));
  sockaddr_storage local{};
  socklen_t len = sizeof(local);
  getsockname(server->fd_, reinterpret_cast<sockaddr*>(&local), &len);
  server->port_ = ntohs(local.ss_family == AF_INET6
                            ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                            : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  if (pipe2(server->stop_pipe_, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

MetricsServer::~MetricsServer() {
  if (stop_pipe_[1] >= 0) close(stop_pipe_[1]);
  if (thread_.joinable()) thread_.join();
  if (stop_pipe_[0] >= 0) close(stop_pipe_[0]);
  if (fd_ >= 0) close(fd_);
}

void MetricsServer::Serve() {
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno == EINTR) continue;
    if (fds[1].revents != 0) return;
    const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    // One short request at a time; a client that sends nothing for 2 s is dropped.
    std::string request;
    char buf[1024];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
      pollfd p{client, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) break;
      const ssize_t n = recv(client, buf, sizeof(buf), 0);
      if (n <= 0) break;
      request.append(buf, static_cast<size_t>(n));
    }
    std::string body, status = "200 OK", type = "text/plain; version=0.0.4";
    if (request.rfind("GET /metrics ", 0) == 0 || request.rfind("GET /metrics?", 0) == 0) {
      body = Metrics::Global().Render();
    } else {
      status = "404 Not Found";
      body = "only GET /metrics is served here\n";
      type = "text/plain";
    }
    const std::string response = absl::StrCat("HTTP/1.0 ", status, "\r\nContent-Type: ", type,
                                              "\r\nContent-Length: ", body.size(),
                                              "\r\nConnection: close\r\n\r\n", body);
    size_t sent = 0;
    while (sent < response.size()) {
      const ssize_t n = send(client, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    close(client);
  }
}

}  // namespace server
