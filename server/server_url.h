// Parses what an admin types into the "server URL" box: "host",
// "host:port", "imap://host[:port]", "imaps://host[:port]", "[v6]:port",
// or an e-mail address whose domain part is the host.
//
//   absl::StatusOr<ServerUrl> u = ParseServerUrl("imaps://mail.example.com:1993");
//   u->host == "mail.example.com", u->port == 1993, u->scheme == UrlScheme::kImaps
#ifndef SERVER_SERVER_URL_H_
#define SERVER_SERVER_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace server {

enum class UrlScheme { kNone, kImap, kImaps };

struct ServerUrl {
  std::string host;  // a DNS name or an IP address, without brackets
  int port = 0;      // 0 when the URL names none
  UrlScheme scheme = UrlScheme::kNone;
  bool from_email = false;  // the host is an e-mail address's domain part
};

// Returns the parsed URL, or INVALID_ARGUMENT saying what is wrong and
// where (the message does not name the field; callers do).
absl::StatusOr<ServerUrl> ParseServerUrl(absl::string_view text);

// True if `host` is a syntactically valid DNS name or IP address.
bool IsValidHost(absl::string_view host);

}  // namespace server

#endif  // SERVER_SERVER_URL_H_
