#include "server/imap_connect.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "imap/session/transport.h"
#include "imap/util/error_kind.h"
#include "server/metrics.h"

namespace server {

using connector::v1::Connection;

imap::AuthMethod ToAuthMethod(connector::v1::AuthMechanism m) {
  switch (m) {
    case connector::v1::AUTH_MECHANISM_LOGIN:
      return imap::AuthMethod::kLogin;
    case connector::v1::AUTH_MECHANISM_PLAIN:
      return imap::AuthMethod::kPlain;
    case connector::v1::AUTH_MECHANISM_SCRAM_SHA_256:
      return imap::AuthMethod::kScramSha256;
    case connector::v1::AUTH_MECHANISM_SCRAM_SHA_1:
      return imap::AuthMethod::kScramSha1;
    case connector::v1::AUTH_MECHANISM_XOAUTH2:
      return imap::AuthMethod::kXoauth2;
    case connector::v1::AUTH_MECHANISM_OAUTHBEARER:
      return imap::AuthMethod::kOauthBearer;
    default:
      return imap::AuthMethod::kAuto;
  }
}

absl::StatusOr<std::unique_ptr<imap::Session>> OpenSession(const Connection& c,
                                                           absl::Time deadline,
                                                           std::vector<TimedStep>* steps,
                                                           OpenOptions options) {
  const absl::Duration timeout = absl::Milliseconds(c.timeout_ms());
  auto wait_until = [&] { return std::min(absl::Now() + timeout, deadline); };
  absl::Time started = absl::Now();
  auto step = [&](absl::string_view name, std::string detail) {
    const absl::Time now = absl::Now();
    if (steps != nullptr) steps->push_back({std::string(name), now - started, std::move(detail)});
    started = now;
  };
  auto fail = [](absl::string_view name, const absl::Status& s) {
    return imap::Annotate(s, std::string(name));
  };

  absl::StatusOr<std::unique_ptr<imap::Transport>> transport =
      imap::DialTcp(c.effective_host(), c.effective_port(), wait_until());
  if (!transport.ok()) return fail("connect", transport.status());
  step("connect", absl::StrCat("connected to ", (*transport)->PeerAddress()));

  imap::TlsOptions tls;
  tls.server_name = c.effective_host();
  tls.extra_ca_pem = c.tls().ca_bundle_pem();
  tls.insecure_skip_verify = c.tls().insecure_skip_verify();
  if (c.effective_security() == connector::v1::SECURITY_IMPLICIT_TLS) {
    if (absl::Status s = (*transport)->StartTls(tls, wait_until()); !s.ok()) return fail("tls", s);
    step("tls", (*transport)->TlsDescription());
  }

  imap::SessionOptions session_options;
  session_options.response_timeout = timeout;
  session_options.overall_deadline = deadline;
  session_options.allow_plaintext_auth = c.effective_security() == connector::v1::SECURITY_NONE;
  session_options.on_command = [](absl::string_view command, absl::Duration took, bool ok) {
    Metrics::Global().ImapCommand(command, took, ok);
  };
  auto session = std::make_unique<imap::Session>(*std::move(transport), session_options);
  absl::StatusOr<imap::Greeting> greeting = session->ReadGreeting();
  if (!greeting.ok()) return fail("greeting", greeting.status());
  const bool preauth = greeting->status == imap::wire::StatusWord::kPreauth;
  if (c.effective_security() == connector::v1::SECURITY_STARTTLS) {
    if (preauth) {
      return imap::WithErrorKind(
          absl::FailedPreconditionError(
              "greeting: the server greeted with PREAUTH, which rules out STARTTLS; refusing to "
              "continue unencrypted"),
          imap::ErrorKind::kTls);
    }
    if (absl::Status s = session->StartTls(tls); !s.ok()) return fail("starttls", s);
    step("starttls", session->transport().TlsDescription());
  }
  if (!preauth) {
    if (absl::Status s = session->Login(c.username(), c.password(), ToAuthMethod(c.auth_mechanism()));
        !s.ok()) {
      return fail("login", s);
    }
    step("login", absl::StrCat("logged in as ", c.username(), " with ",
                               imap::AuthMethodName(session->auth_method())));
  }
  if (session->capabilities().empty()) {
    if (absl::Status s = session->RefreshCapabilities(); !s.ok()) return fail("capability", s);
  }
  if ((options.compress || c.compress()) && session->HasCapability("COMPRESS=DEFLATE")) {
    if (absl::Status s = session->Compress(); !s.ok()) return fail("compress", s);
    step("compress", "COMPRESS=DEFLATE");
  }
  return session;
}

}  // namespace server
