// For tests: scripts/oauth-introspect.py (a real OAuth 2.0 token endpoint
// and introspection server) started on 127.0.0.1 in a private folder, and
// a plain-socket client for its /control and /stats (independent of the
// libcurl client under test).
//
//   absl::StatusOr<std::unique_ptr<TestOAuthServer>> s = TestOAuthServer::Start();
//   (*s)->Control(R"({"rotate": true})");
//   std::string url = (*s)->Url("/token");
#ifndef SERVER_OAUTH_TEST_OAUTH_SERVER_H_
#define SERVER_OAUTH_TEST_OAUTH_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace server::oauth {

// Not thread-safe to start or stop; Request/Control/Stats may be called
// from several threads.
class TestOAuthServer {
 public:
  // Starts the server with `args` added to its command line; waits (up to
  // 20 s) until its port file appears.
  static absl::StatusOr<std::unique_ptr<TestOAuthServer>> Start(std::vector<std::string> args = {});
  // Stops it (SIGTERM) and waits for it; removes its folder.
  ~TestOAuthServer();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string Url(absl::string_view path) const;
  // The folder the server's files (and test files) live in.
  const std::string& dir() const { return dir_; }

  // One HTTP/1.0 exchange; returns the body of the answer, or an error if
  // the status is not 200.
  absl::StatusOr<std::string> Request(absl::string_view method, absl::string_view path,
                                      absl::string_view content_type, absl::string_view body) const;
  // POST /control with a JSON object.
  absl::Status Control(absl::string_view json) const;
  // A counter of GET /stats, e.g. "grants"; -1 on error.
  int Stat(absl::string_view counter) const;
  // Whether introspection calls `token` active for `user`.
  bool IsActiveFor(absl::string_view token, absl::string_view user) const;

 private:
  TestOAuthServer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

}  // namespace server::oauth

#endif  // SERVER_OAUTH_TEST_OAUTH_SERVER_H_
