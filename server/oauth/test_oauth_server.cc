#include "server/oauth/test_oauth_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

#ifndef IMAPC_OAUTH_SERVER_SCRIPT
#error "IMAPC_OAUTH_SERVER_SCRIPT must name scripts/oauth-introspect.py"
#endif

namespace server::oauth {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestOAuthServer>> TestOAuthServer::Start(std::vector<std::string> args) {
  std::unique_ptr<TestOAuthServer> server(new TestOAuthServer());
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/oauth-test-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  server->dir_ = templ;
  const std::string port_file = server->dir_ + "/port";
  const std::string pid_file = server->dir_ + "/pid";

  std::vector<std::string> argv_strings = {"/usr/bin/python3", IMAPC_OAUTH_SERVER_SCRIPT, "--port-file",
                                           port_file, "--pid-file", pid_file};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    execv(argv[0], argv.data());
    _exit(127);
  }
  server->pid_ = pid;

  // Wait for the port file (the script writes it atomically once it
  // listens), or for the child to die.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    int port = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file)), &port) && port > 0) {
      server->port_ = port;
      return server;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->pid_ = -1;
      return absl::InternalError("oauth-introspect.py exited before it listened");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError("oauth-introspect.py did not start within 20 s");
}

TestOAuthServer::~TestOAuthServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!dir_.empty()) {
    // Only our own files: port, pid and whatever a test wrote there.
    std::string command = absl::StrCat("rm -rf '", dir_, "'");
    if (std::system(command.c_str()) != 0) {
    }
  }
}

std::string TestOAuthServer::Url(absl::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

absl::StatusOr<std::string> TestOAuthServer::Request(absl::string_view method, absl::string_view path,
                                                     absl::string_view content_type,
                                                     absl::string_view body) const {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return absl::UnavailableError("connect to the OAuth test server failed");
  }
  const std::string request =
      absl::StrCat(method, " ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: ", content_type,
                   "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return absl::UnavailableError("send failed");
    }
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  while (true) {
    const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  const size_t end = answer.find("\r\n\r\n");
  if (end == std::string::npos) return absl::UnavailableError("no HTTP answer");
  if (answer.compare(0, 12, "HTTP/1.0 200") != 0 && answer.compare(0, 12, "HTTP/1.1 200") != 0) {
    return absl::UnavailableError(answer.substr(0, answer.find("\r\n")));
  }
  return answer.substr(end + 4);
}

absl::Status TestOAuthServer::Control(absl::string_view json) const {
  return Request("POST", "/control", "application/json", json).status();
}

int TestOAuthServer::Stat(absl::string_view counter) const {
  absl::StatusOr<std::string> stats = Request("GET", "/stats", "text/plain", "");
  if (!stats.ok()) return -1;
  // {"grants": 1, ...}: the number after "counter":
  const std::string key = absl::StrCat("\"", counter, "\": ");
  const size_t at = stats->find(key);
  if (at == std::string::npos) return -1;
  size_t end = at + key.size();
  while (end < stats->size() && std::isdigit(static_cast<unsigned char>((*stats)[end]))) ++end;
  int value = -1;
  if (!absl::SimpleAtoi(absl::string_view(*stats).substr(at + key.size(), end - at - key.size()), &value)) {
    return -1;
  }
  return value;
}

bool TestOAuthServer::IsActiveFor(absl::string_view token, absl::string_view user) const {
  absl::StatusOr<std::string> answer =
      Request("POST", "/introspect", "application/x-www-form-urlencoded", absl::StrCat("token=", token));
  return answer.ok() && *answer == absl::StrCat("{\"active\": true, \"username\": \"", user, "\"}");
}

}  // namespace server::oauth
