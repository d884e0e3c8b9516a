#include "server/imap_connect.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "imap/session/transport.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/record_stream.h"

namespace server {

using connector::v1::Connection;

namespace {

// Server alerts reach the log, but a server that sends one per command
// must not flood it: at most kAlertsPerMinute a minute per connection name.
constexpr int kAlertsPerMinute = 5;

void LogAlert(const std::string& connection_name, absl::string_view alert) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* windows = new std::map<std::string, std::pair<absl::Time, int>>();
  int suppressed = 0;
  {
    absl::MutexLock lock(&mu);
    auto& [start, count] = (*windows)[connection_name];
    const absl::Time now = absl::Now();
    if (now - start >= absl::Minutes(1)) {
      suppressed = std::max(0, count - kAlertsPerMinute);
      start = now;
      count = 0;
    }
    if (++count > kAlertsPerMinute) return;
  }
  LogWarning(absl::StrCat("connection '", connection_name.substr(0, 100), "': the server says [ALERT] ",
                          alert,
                          suppressed > 0 ? absl::StrCat(" (", suppressed, " more alerts not logged)")
                                         : ""));
}

// A transport that holds a governor slot for as long as it lives (the
// session owns its transport, so the slot frees with the session).
class PermitTransport : public imap::Transport {
 public:
  PermitTransport(std::unique_ptr<imap::Transport> inner, ConnectionGovernor::Permit permit,
                  StreamControl* control)
      : inner_(std::move(inner)), permit_(std::move(permit)), control_(control) {
    if (control_ != nullptr) control_->Attach(this);
  }
  ~PermitTransport() override {
    if (control_ != nullptr) control_->Detach(this);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t capacity, absl::Time deadline) override {
    return inner_->Read(buf, capacity, deadline);
  }
  void ExpectComing(uint64_t bytes) override { inner_->ExpectComing(bytes); }
  absl::Status Write(absl::string_view bytes, absl::Time deadline) override {
    return inner_->Write(bytes, deadline);
  }
  absl::Status StartTls(const imap::TlsOptions& options, absl::Time deadline) override {
    return inner_->StartTls(options, deadline);
  }
  bool IsTls() const override { return inner_->IsTls(); }
  std::string TlsDescription() const override { return inner_->TlsDescription(); }
  std::string PeerAddress() const override { return inner_->PeerAddress(); }
  void Interrupt() override { inner_->Interrupt(); }

 private:
  std::unique_ptr<imap::Transport> inner_;
  ConnectionGovernor::Permit permit_;  // after inner_: the slot frees once the socket is closed
  StreamControl* const control_;
};

}  // namespace

namespace {
oauth::TokenCache* token_cache = nullptr;  // set once before serving
}  // namespace

void SetTokenCache(oauth::TokenCache* cache) { token_cache = cache; }

void ForgetToken(const std::string& name) {
  if (token_cache != nullptr) token_cache->Forget(name);
}

bool UsesOAuthSource(const Connection& c) {
  if (!c.has_oauth2() || c.oauth2().source_case() == connector::v1::OAuth2::SOURCE_NOT_SET) return false;
  const auto m = c.auth_mechanism();
  return m == connector::v1::AUTH_MECHANISM_XOAUTH2 || m == connector::v1::AUTH_MECHANISM_OAUTHBEARER ||
         m == connector::v1::AUTH_MECHANISM_AUTO;
}

absl::StatusOr<oauth::AccessToken> AccessTokenFor(const Connection& c, absl::Time deadline,
                                                  bool force_refresh, absl::string_view refused) {
  if (token_cache == nullptr) {
    return absl::FailedPreconditionError("this server has no OAuth 2.0 token cache");
  }
  return token_cache->Get(c, deadline, force_refresh, refused);
}

absl::Status LogIn(imap::Session& session, const Connection& c, absl::Time deadline,
                   oauth::AccessToken* token) {
  imap::AuthMethod method = ToAuthMethod(c.auth_mechanism());
  if (token == nullptr) return session.Login(c.username(), c.password(), method);
  if (method == imap::AuthMethod::kAuto) {
    // AUTO picks among password mechanisms; a token needs a bearer one.
    if (session.capabilities().empty()) IMAPC_RETURN_IF_ERROR(session.RefreshCapabilities());
    method = session.HasCapability("AUTH=XOAUTH2") || !session.HasCapability("AUTH=OAUTHBEARER")
                 ? imap::AuthMethod::kXoauth2
                 : imap::AuthMethod::kOauthBearer;
  }
  absl::Status s = session.Login(c.username(), token->token, method);
  if (!absl::IsUnauthenticated(s) || !token->refreshable) return s;
  // The token may have been revoked or expired early: renew it once.
  absl::StatusOr<oauth::AccessToken> renewed = AccessTokenFor(c, deadline, true, token->token);
  if (!renewed.ok()) {
    return imap::Annotate(renewed.status(),
                          absl::StrCat("the server refused the token (", s.message(),
                                       "), and renewing it failed"));
  }
  *token = *std::move(renewed);
  return session.Login(c.username(), token->token, method);
}

std::string MailboxKey(const Connection& c) {
  return absl::StrCat(absl::AsciiStrToLower(c.effective_host()), ":", c.effective_port(), "/",
                      c.username());
}

int MaxConnections(const Connection& c) { return c.max_connections() > 0 ? c.max_connections() : 10; }

std::unique_ptr<imap::Transport> HoldingPermit(std::unique_ptr<imap::Transport> inner,
                                               ConnectionGovernor::Permit permit,
                                               StreamControl* control) {
  return std::make_unique<PermitTransport>(std::move(inner), std::move(permit), control);
}

imap::SessionOptions SessionOptionsFor(const Connection& c, absl::Time deadline) {
  imap::SessionOptions options;
  const absl::Duration timeout = absl::Milliseconds(c.timeout_ms() > 0 ? c.timeout_ms() : 30000);
  options.response_timeout = timeout;
  options.command_timeout = 10 * timeout;
  if (c.max_message_bytes() > 0) options.max_message_bytes = static_cast<uint64_t>(c.max_message_bytes());
  options.overall_deadline = deadline;
  options.allow_plaintext_auth = c.effective_security() == connector::v1::SECURITY_NONE;
  options.on_command = [](absl::string_view command, absl::Duration took, bool ok) {
    Metrics::Global().ImapCommand(command, took, ok);
  };
  options.on_alert = [name = c.name()](absl::string_view alert) { LogAlert(name, alert); };
  return options;
}

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

  // The token first: a token endpoint that fails need not cost a connection.
  std::optional<oauth::AccessToken> token;
  if (UsesOAuthSource(c)) {
    absl::StatusOr<oauth::AccessToken> t = AccessTokenFor(c, deadline);
    if (!t.ok()) return fail("token", t.status());
    token = *std::move(t);
    step("token", "an OAuth 2.0 access token");
  }
  absl::StatusOr<ConnectionGovernor::Permit> permit =
      options.wait_for_slot
          ? ConnectionGovernor::Global().Acquire(MailboxKey(c), MaxConnections(c), deadline,
                                                 options.cancelled)
          : ConnectionGovernor::Global().TryAcquire(MailboxKey(c), MaxConnections(c));
  if (!permit.ok()) return fail("connect", permit.status());
  started = absl::Now();  // the connect step is the connection, not the queue
  absl::StatusOr<std::unique_ptr<imap::Transport>> transport =
      imap::DialTcp(c.effective_host(), c.effective_port(), wait_until());
  if (!transport.ok()) return fail("connect", transport.status());
  *transport = HoldingPermit(*std::move(transport), *std::move(permit), options.control);
  step("connect", absl::StrCat("connected to ", (*transport)->PeerAddress()));

  imap::TlsOptions tls;
  tls.server_name = c.effective_host();
  tls.extra_ca_pem = c.tls().ca_bundle_pem();
  tls.insecure_skip_verify = c.tls().insecure_skip_verify();
  if (c.effective_security() == connector::v1::SECURITY_IMPLICIT_TLS) {
    if (absl::Status s = (*transport)->StartTls(tls, wait_until()); !s.ok()) return fail("tls", s);
    step("tls", (*transport)->TlsDescription());
  }

  auto session = std::make_unique<imap::Session>(*std::move(transport), SessionOptionsFor(c, deadline));
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
    if (absl::Status s = LogIn(*session, c, deadline, token.has_value() ? &*token : nullptr); !s.ok()) {
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
