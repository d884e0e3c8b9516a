// One OAuth 2.0 token request (RFC 6749 section 6 refresh-token grant or
// section 4.4 client-credentials grant) and the reading of a token file.
// No caching here: token_cache.h decides when to call these.
//
//   GrantRequest r = GrantRequestFor(connection.oauth2(), refresh_token);
//   absl::StatusOr<GrantResult> g = RequestToken(r, absl::Seconds(30));
#ifndef SERVER_OAUTH_TOKEN_SOURCE_H_
#define SERVER_OAUTH_TOKEN_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connector/v1/connector.pb.h"

namespace server::oauth {

struct GrantRequest {
  std::string token_url;
  std::string grant_type;  // "refresh_token" or "client_credentials"
  std::string client_id;
  std::string client_secret;  // empty: a public client, or a certificate
  // client_credentials only: authenticate by a JWT assertion signed with
  // this key (client_assertion.h) instead of client_secret.
  std::string client_certificate_pem;
  std::string client_private_key_pem;
  std::string refresh_token;  // refresh_token grant only
  std::string scope;          // space-separated; empty: not sent
};

struct GrantResult {
  std::string access_token;
  // expires_in as answered; nullopt if the endpoint sent none.
  std::optional<absl::Duration> expires_in;
  // A new refresh token (rotation); empty if the endpoint sent none or the
  // same one.
  std::string refresh_token;
};

// The request for `oauth2`'s refresh_token_grant (with `refresh_token`
// instead of the configured one when not empty) or client_credentials.
// REQUIRES: one of those two sources is set; presets already applied
// (ValidateConnection does that).
GrantRequest GrantRequestFor(const connector::v1::OAuth2& oauth2,
                             const std::string& refresh_token = "");

// Performs `request` against its token endpoint within `timeout`. Errors
// carry a TokenErrorKind (token_error.h); their messages hold the URL and
// the endpoint's error and error_description, never the request's secrets
// (they are cut out of the description too). Thread-safe.
absl::StatusOr<GrantResult> RequestToken(const GrantRequest& request, absl::Duration timeout);

// Parses a token endpoint's answer (exposed for tests). `secrets` are cut
// out of any text that comes back in an error.
absl::StatusOr<GrantResult> ParseTokenAnswer(const std::string& where, long http_status,
                                             const std::string& body,
                                             const std::vector<std::string>& secrets);

// What identifies a file's version without reading it.
struct FileVersion {
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileVersion& o) const {
    return device == o.device && inode == o.inode && size == o.size && mtime_ns == o.mtime_ns;
  }
  bool operator!=(const FileVersion& o) const { return !(*this == o); }
};

// stat() of `path`; kTokenFile (FAILED_PRECONDITION) if it cannot be
// stat'ed or is not a regular file.
absl::StatusOr<FileVersion> StatTokenFile(const std::string& path);

// The token in `path`, surrounding white space removed; kTokenFile if the
// file is unreadable, empty, larger than 64 KiB or holds a control
// character inside the token. *version (if given) is set to the version
// read.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path, FileVersion* version = nullptr);

}  // namespace server::oauth

#endif  // SERVER_OAUTH_TOKEN_SOURCE_H_
