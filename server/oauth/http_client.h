// A form POST over HTTP(S) with libcurl, for OAuth 2.0 token endpoints.
// TLS is verified against the system's CAs; proxies come from the usual
// environment variables (https_proxy, HTTPS_PROXY, all_proxy, no_proxy);
// redirects are not followed, so secrets only ever go to the given URL.
//
//   absl::StatusOr<HttpResponse> r = PostForm(url, {{"grant_type", "refresh_token"}}, absl::Seconds(30));
#ifndef SERVER_OAUTH_HTTP_CLIENT_H_
#define SERVER_OAUTH_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace server::oauth {

struct HttpResponse {
  long status = 0;  // HTTP status code
  std::string content_type;
  std::string body;  // at most kMaxHttpBodyBytes
};

inline constexpr size_t kMaxHttpBodyBytes = 1 << 20;

using FormFields = std::vector<std::pair<std::string, std::string>>;

// POSTs `form` (application/x-www-form-urlencoded) to `url` and returns the
// answer, whatever its HTTP status. `timeout` bounds the whole exchange and
// the connect alone. Errors carry a TokenErrorKind (token_error.h):
// kUnreachable (UNAVAILABLE; DEADLINE_EXCEEDED for a timeout), kTls
// (UNAVAILABLE), kMalformed for a body over kMaxHttpBodyBytes. Messages name
// the URL, never the form. Thread-safe.
absl::StatusOr<HttpResponse> PostForm(absl::string_view url, const FormFields& form,
                                      absl::Duration timeout);

}  // namespace server::oauth

#endif  // SERVER_OAUTH_HTTP_CLIENT_H_
