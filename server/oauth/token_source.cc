#include "server/oauth/token_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/oauth/client_assertion.h"
#include "server/oauth/http_client.h"
#include "server/oauth/token_error.h"

namespace server::oauth {
namespace {

constexpr size_t kMaxTokenFileBytes = 64 * 1024;
constexpr size_t kMaxDescriptionBytes = 400;

// Text from the endpoint made safe for a message: secrets cut out, control
// characters turned into spaces, length bounded.
std::string Sanitize(absl::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const std::string& secret : secrets) {
    // Short values would cut ordinary words; real secrets are long.
    if (secret.size() >= 6) out = absl::StrReplaceAll(out, {{secret, "[redacted]"}});
  }
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  if (out.size() > kMaxDescriptionBytes) {
    out.resize(kMaxDescriptionBytes);
    // Do not leave half a UTF-8 sequence at the end.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out;
}

std::string StringField(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  if (it == s.fields().end() || it->second.kind_case() != google::protobuf::Value::kStringValue) return "";
  return it->second.string_value();
}

}  // namespace

GrantRequest GrantRequestFor(const connector::v1::OAuth2& oauth2, const std::string& refresh_token) {
  GrantRequest r;
  if (oauth2.has_refresh_token_grant()) {
    const auto& g = oauth2.refresh_token_grant();
    r.token_url = g.token_url();
    r.grant_type = "refresh_token";
    r.client_id = g.client_id();
    r.client_secret = g.client_secret();
    r.refresh_token = refresh_token.empty() ? g.refresh_token() : refresh_token;
    r.scope = g.scope();
  } else if (oauth2.has_client_credentials()) {
    const auto& g = oauth2.client_credentials();
    r.token_url = g.token_url();
    r.grant_type = "client_credentials";
    r.client_id = g.client_id();
    r.client_secret = g.client_secret();
    r.client_certificate_pem = g.client_certificate_pem();
    r.client_private_key_pem = g.client_private_key_pem();
    r.scope = g.scope();
  }
  return r;
}

absl::StatusOr<GrantResult> ParseTokenAnswer(const std::string& where, long http_status,
                                             const std::string& body,
                                             const std::vector<std::string>& secrets) {
  google::protobuf::Struct json;
  const bool parsed = google::protobuf::util::JsonStringToMessage(body, &json).ok();
  const std::string error = parsed ? Sanitize(StringField(json, "error"), secrets) : "";
  const std::string description =
      parsed ? Sanitize(StringField(json, "error_description"), secrets) : "";
  const std::string oauth_error =
      error.empty() ? "" : absl::StrCat(" (", error, description.empty() ? "" : ": ", description, ")");

  if (http_status >= 500) {
    return TokenError(TokenErrorKind::kServerError, absl::StatusCode::kUnavailable,
                      absl::StrCat(where, " answered HTTP ", http_status, oauth_error,
                                   "; the identity provider has a problem, try again later"));
  }
  if (http_status != 200 || !error.empty()) {
    if (error == "invalid_grant") {
      return TokenError(TokenErrorKind::kInvalidGrant, absl::StatusCode::kUnauthenticated,
                        absl::StrCat(where, " refused the grant", oauth_error,
                                     ": the refresh token is expired or revoked; sign in again and "
                                     "configure the new refresh token"));
    }
    if (error == "invalid_client" || (error.empty() && http_status == 401)) {
      return TokenError(TokenErrorKind::kInvalidClient, absl::StatusCode::kUnauthenticated,
                        absl::StrCat(where, " refused the client", oauth_error,
                                     ": check client_id, tenant and the client secret or certificate "
                                     "(expired? uploaded to the application?)"));
    }
    if (!error.empty()) {
      return TokenError(TokenErrorKind::kRejected, absl::StatusCode::kPermissionDenied,
                        absl::StrCat(where, " refused the request", oauth_error));
    }
    if (http_status >= 400) {
      return TokenError(TokenErrorKind::kRejected, absl::StatusCode::kPermissionDenied,
                        absl::StrCat(where, " answered HTTP ", http_status,
                                     " without an OAuth error; is token_url right?"));
    }
    return TokenError(TokenErrorKind::kMalformed, absl::StatusCode::kUnavailable,
                      absl::StrCat(where, " answered HTTP ", http_status, ", not a token"));
  }
  if (!parsed) {
    return TokenError(TokenErrorKind::kMalformed, absl::StatusCode::kUnavailable,
                      absl::StrCat(where, " answered HTTP 200 with something that is not a JSON "
                                          "object; is token_url right?"));
  }
  GrantResult result;
  result.access_token = StringField(json, "access_token");
  if (result.access_token.empty()) {
    return TokenError(TokenErrorKind::kMalformed, absl::StatusCode::kUnavailable,
                      absl::StrCat(where, " answered HTTP 200 without an access_token"));
  }
  const std::string token_type = StringField(json, "token_type");
  if (!token_type.empty() && !absl::EqualsIgnoreCase(token_type, "bearer")) {
    return TokenError(TokenErrorKind::kMalformed, absl::StatusCode::kUnavailable,
                      absl::StrCat(where, " issued a token of type ", Sanitize(token_type, secrets),
                                   "; IMAP needs a Bearer token"));
  }
  // expires_in is a number, though some endpoints send it as a string.
  auto it = json.fields().find("expires_in");
  if (it != json.fields().end()) {
    double seconds = -1;
    if (it->second.kind_case() == google::protobuf::Value::kNumberValue) {
      seconds = it->second.number_value();
    } else if (it->second.kind_case() == google::protobuf::Value::kStringValue &&
               !absl::SimpleAtod(it->second.string_value(), &seconds)) {
      seconds = -1;
    }
    if (std::isfinite(seconds) && seconds >= 0 && seconds < 1e9) {
      result.expires_in = absl::Seconds(seconds);
    }
  }
  result.refresh_token = StringField(json, "refresh_token");
  return result;
}

absl::StatusOr<GrantResult> RequestToken(const GrantRequest& request, absl::Duration timeout) {
  const std::string where = absl::StrCat("token endpoint ", request.token_url);
  FormFields form = {{"grant_type", request.grant_type}};
  if (request.grant_type == "refresh_token") form.emplace_back("refresh_token", request.refresh_token);
  // client_secret_post: both Microsoft and Google accept the client in the
  // body, and a public client has no secret to put in an Authorization
  // header anyway.
  form.emplace_back("client_id", request.client_id);
  std::string assertion;
  if (!request.client_private_key_pem.empty()) {
    // RFC 7521 section 4.2 / RFC 7523 section 2.2, as Entra ID wants it:
    // a fresh assertion per request, its audience the token endpoint.
    absl::StatusOr<std::string> jwt =
        MakeClientAssertion(request.client_certificate_pem, request.client_private_key_pem,
                            request.client_id, request.token_url, absl::Now());
    if (!jwt.ok()) {
      return TokenError(TokenErrorKind::kInvalidClient, absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("cannot sign the client assertion for ", where, ": ",
                                     jwt.status().message()));
    }
    assertion = *std::move(jwt);
    form.emplace_back("client_assertion_type", std::string(kJwtBearerAssertionType));
    form.emplace_back("client_assertion", assertion);
  } else if (!request.client_secret.empty()) {
    form.emplace_back("client_secret", request.client_secret);
  }
  if (!request.scope.empty()) form.emplace_back("scope", request.scope);

  absl::StatusOr<HttpResponse> response = PostForm(request.token_url, form, timeout);
  if (!response.ok()) return response.status();
  // The assertion is a credential until it expires: cut it out of answers
  // too.
  absl::StatusOr<GrantResult> result =
      ParseTokenAnswer(where, response->status, response->body,
                       {request.client_secret, request.refresh_token, assertion});
  if (result.ok() && result->refresh_token == request.refresh_token) result->refresh_token.clear();
  return result;
}

absl::StatusOr<FileVersion> StatTokenFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return TokenError(TokenErrorKind::kTokenFile, absl::StatusCode::kFailedPrecondition,
                      absl::StrCat("token file ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return TokenError(TokenErrorKind::kTokenFile, absl::StatusCode::kFailedPrecondition,
                      absl::StrCat("token file ", path, " is not a regular file"));
  }
  FileVersion v;
  v.device = static_cast<uint64_t>(st.st_dev);
  v.inode = static_cast<uint64_t>(st.st_ino);
  v.size = static_cast<int64_t>(st.st_size);
  v.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return v;
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path, FileVersion* version) {
  auto fail = [&path](absl::string_view why) {
    return TokenError(TokenErrorKind::kTokenFile, absl::StatusCode::kFailedPrecondition,
                      absl::StrCat("token file ", path, ": ", why));
  };
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail("is not a regular file");
  }
  std::string data;
  char buffer[8192];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      close(fd);
      return fail(std::strerror(e));
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > kMaxTokenFileBytes) {
      close(fd);
      return fail(absl::StrCat("is larger than ", kMaxTokenFileBytes, " bytes"));
    }
  }
  close(fd);
  // The version of what was read: stat'ed through the same descriptor, so
  // a file replaced by rename after our read is seen as changed next time.
  if (version != nullptr) {
    version->device = static_cast<uint64_t>(st.st_dev);
    version->inode = static_cast<uint64_t>(st.st_ino);
    version->size = static_cast<int64_t>(st.st_size);
    version->mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  const absl::string_view token = absl::StripAsciiWhitespace(data);
  if (token.empty()) return fail("is empty");
  for (size_t i = 0; i < token.size(); ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c < 0x20 || c == 0x7f) return fail(absl::StrCat("holds a control character at byte ", i + 1));
  }
  return std::string(token);
}

}  // namespace server::oauth
