#include "server/oauth/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

#include "absl/base/call_once.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/oauth/token_error.h"

namespace server::oauth {
namespace {

absl::once_flag curl_init_once;

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};

struct Sink {
  std::string* body;
  bool overflow = false;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<Sink*>(user);
  const size_t n = size * count;
  if (sink->body->size() + n > kMaxHttpBodyBytes) {
    sink->overflow = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  sink->body->append(data, n);
  return n;
}

std::string Encode(CURL* curl, const FormFields& form) {
  std::string out;
  for (const auto& [name, value] : form) {
    std::unique_ptr<char, CurlStringDeleter> n(
        curl_easy_escape(curl, name.data(), static_cast<int>(name.size())));
    std::unique_ptr<char, CurlStringDeleter> v(
        curl_easy_escape(curl, value.data(), static_cast<int>(value.size())));
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, n ? n.get() : "", "=", v ? v.get() : "");
  }
  return out;
}

bool IsTlsError(CURLcode code) {
  switch (code) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<HttpResponse> PostForm(absl::string_view url, const FormFields& form,
                                      absl::Duration timeout) {
  absl::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  const std::string where = absl::StrCat("token endpoint ", url);
  if (timeout <= absl::ZeroDuration()) {
    return TokenError(TokenErrorKind::kUnreachable, absl::StatusCode::kDeadlineExceeded,
                      absl::StrCat(where, ": no time left before the deadline"));
  }
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return absl::InternalError("curl_easy_init failed");
  CURL* h = curl.get();

  const std::string url_string(url);
  const std::string body = Encode(h, form);
  HttpResponse response;
  Sink sink{&response.body};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const long timeout_ms = static_cast<long>(
      std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)))));
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(nullptr, "Accept: application/json"));

  curl_easy_setopt(h, CURLOPT_URL, url_string.c_str());
  // Only HTTP(S), even through a proxy's redirect or a URL typo; secrets in
  // the body must never go anywhere else.
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "imap-connector");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  // Threads: no SIGALRM for DNS timeouts (libcurl's threaded resolver).
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  // Verification is libcurl's default; set it anyway so that no build
  // option or environment can turn it off behind our back.
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  // CURLOPT_PROXY is deliberately left unset: libcurl then reads the proxy
  // environment variables.

  const CURLcode code = curl_easy_perform(h);
  if (code != CURLE_OK) {
    const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    if (sink.overflow) {
      return TokenError(TokenErrorKind::kMalformed, absl::StatusCode::kUnavailable,
                        absl::StrCat(where, " answered more than ", kMaxHttpBodyBytes,
                                     " bytes; a token answer is small"));
    }
    if (IsTlsError(code)) {
      return TokenError(TokenErrorKind::kTls, absl::StatusCode::kUnavailable,
                        absl::StrCat(where, ": TLS failed: ", detail));
    }
    if (code == CURLE_OPERATION_TIMEDOUT) {
      return TokenError(TokenErrorKind::kUnreachable, absl::StatusCode::kDeadlineExceeded,
                        absl::StrCat(where, " did not answer within ", absl::FormatDuration(timeout),
                                     ": ", detail));
    }
    return TokenError(TokenErrorKind::kUnreachable, absl::StatusCode::kUnavailable,
                      absl::StrCat(where, " could not be reached: ", detail));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  char* content_type = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK && content_type) {
    response.content_type = absl::AsciiStrToLower(content_type);
  }
  return response;
}

}  // namespace server::oauth
