#include "server/test_connection.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "imap/session/session.h"
#include "imap/session/transport.h"
#include "imap/util/error_kind.h"
#include "server/imap_connect.h"
#include "server/oauth/token_error.h"
#include "server/status_convert.h"

namespace server {
namespace {

using connector::v1::Connection;
using connector::v1::FailureCategory;
using connector::v1::Stage;
using connector::v1::TestConnectionResponse;

FailureCategory CategoryOf(const absl::Status& s) {
  if (std::optional<oauth::TokenErrorKind> token = oauth::GetTokenErrorKind(s); token.has_value()) {
    switch (*token) {
      case oauth::TokenErrorKind::kInvalidGrant:
        return connector::v1::FAILURE_CATEGORY_OAUTH_INVALID_GRANT;
      case oauth::TokenErrorKind::kInvalidClient:
        return connector::v1::FAILURE_CATEGORY_OAUTH_INVALID_CLIENT;
      case oauth::TokenErrorKind::kRejected:
        return connector::v1::FAILURE_CATEGORY_OAUTH_REJECTED;
      case oauth::TokenErrorKind::kUnreachable:
        return connector::v1::FAILURE_CATEGORY_OAUTH_UNREACHABLE;
      case oauth::TokenErrorKind::kTls:
        return connector::v1::FAILURE_CATEGORY_OAUTH_TLS;
      case oauth::TokenErrorKind::kMalformed:
      case oauth::TokenErrorKind::kServerError:
        return connector::v1::FAILURE_CATEGORY_OAUTH_MALFORMED;
      case oauth::TokenErrorKind::kTokenFile:
        return connector::v1::FAILURE_CATEGORY_OAUTH_TOKEN_FILE;
    }
  }
  switch (imap::GetErrorKind(s)) {
    case imap::ErrorKind::kDns:
      return connector::v1::FAILURE_CATEGORY_DNS;
    case imap::ErrorKind::kRefused:
      return connector::v1::FAILURE_CATEGORY_REFUSED;
    case imap::ErrorKind::kTimeout:
      return connector::v1::FAILURE_CATEGORY_TIMEOUT;
    case imap::ErrorKind::kTls:
      return connector::v1::FAILURE_CATEGORY_TLS;
    case imap::ErrorKind::kCertificate:
      return connector::v1::FAILURE_CATEGORY_CERTIFICATE;
    case imap::ErrorKind::kAuth:
      return connector::v1::FAILURE_CATEGORY_AUTH_FAILED;
    case imap::ErrorKind::kNoMailbox:
      return connector::v1::FAILURE_CATEGORY_FOLDER_NOT_FOUND;
    default:
      if (s.code() == absl::StatusCode::kDeadlineExceeded) return connector::v1::FAILURE_CATEGORY_TIMEOUT;
      if (s.code() == absl::StatusCode::kUnauthenticated) return connector::v1::FAILURE_CATEGORY_AUTH_FAILED;
      return connector::v1::FAILURE_CATEGORY_PROTOCOL;
  }
}

// Advice for the admin, by category.
std::string Advice(FailureCategory category, const Connection& c) {
  switch (category) {
    case connector::v1::FAILURE_CATEGORY_DNS:
      return absl::StrCat("The host name ", Quote(c.effective_host()),
                          " does not resolve from this agent. Check server_url for typos.");
    case connector::v1::FAILURE_CATEGORY_REFUSED:
      return absl::StrCat("Nothing accepted a connection at ", Quote(c.effective_host()), " port ",
                          c.effective_port(),
                          ". Check the port (993 for implicit TLS, 143 for STARTTLS) and that the "
                          "server is reachable from this agent.");
    case connector::v1::FAILURE_CATEGORY_TIMEOUT:
      return absl::StrCat("The server did not answer, or did not finish answering, within ",
                          c.timeout_ms(),
                          " ms. Check the port and security setting (a TLS port answers nothing "
                          "to a plain connection, and the other way round), firewalls, or raise "
                          "timeout_ms.");
    case connector::v1::FAILURE_CATEGORY_TLS:
      return "TLS could not be set up. Check the security setting against what the port expects.";
    case connector::v1::FAILURE_CATEGORY_CERTIFICATE:
      return "The server's certificate is not trusted for this host. If the server uses a private "
             "CA or a self-signed certificate, put it in tls.ca_bundle_pem; if the host name "
             "differs from the certificate's, use the name the certificate was issued for.";
    case connector::v1::FAILURE_CATEGORY_AUTH_FAILED:
      return "The server refused the login. Check username and password (some providers need an "
             "app password) and auth_mechanism.";
    case connector::v1::FAILURE_CATEGORY_FOLDER_NOT_FOUND:
      return absl::StrCat("The folder ", Quote(c.default_folder()),
                          " cannot be opened. Check default_folder (names are case-sensitive "
                          "except INBOX, and the hierarchy separator depends on the server).");
    case connector::v1::FAILURE_CATEGORY_OAUTH_INVALID_GRANT:
      return "The refresh token was revoked or has expired: sign in again and configure the new "
             "refresh token (docs/oauth.md).";
    case connector::v1::FAILURE_CATEGORY_OAUTH_INVALID_CLIENT:
      return "The token endpoint does not accept this client: check oauth2 client_id, tenant, and "
             "the client secret or certificate (expired? uploaded to the application?).";
    case connector::v1::FAILURE_CATEGORY_OAUTH_REJECTED:
      return "The token endpoint refused the request: check the scope and that the app is "
             "granted IMAP access (docs/oauth.md).";
    case connector::v1::FAILURE_CATEGORY_OAUTH_UNREACHABLE:
      return "The token endpoint could not be reached from this agent: check token_url, DNS, "
             "firewalls and the https_proxy setting.";
    case connector::v1::FAILURE_CATEGORY_OAUTH_TLS:
      return "TLS with the token endpoint failed: check that this agent trusts its certificate "
             "(a proxy that inspects TLS needs its CA in the system store).";
    case connector::v1::FAILURE_CATEGORY_OAUTH_MALFORMED:
      return "The token endpoint answered, but not with a token: check token_url (it must be the "
             "OAuth 2.0 token endpoint) or try again if the provider has an outage.";
    case connector::v1::FAILURE_CATEGORY_OAUTH_TOKEN_FILE:
      return "The token file could not be read: check oauth2.token_file.path and that the agent "
             "keeping it fresh runs.";
    default:
      return "The server did not speak IMAP as expected. Check that server_url and port point to "
             "an IMAP server.";
  }
}

// What providers mean by their refusals, recognised by the words they use
// (in the answer or an [ALERT]); "" when none applies. Ahead of the
// general advice, which would only say "check the password".
std::string ProviderAdvice(absl::string_view text, const Connection& c) {
  const std::string lower = absl::AsciiStrToLower(text);
  auto mentions = [&](absl::string_view words) {
    return absl::StrContains(lower, absl::AsciiStrToLower(words));
  };
  const std::string host = absl::AsciiStrToLower(c.effective_host());
  const bool microsoft = absl::EndsWith(host, "office365.com") || absl::EndsWith(host, "outlook.com") ||
                         absl::EndsWith(host, "office.com");
  if (mentions("Application-specific password required")) {
    return "Gmail does not accept the account password over IMAP: create an app password (Google "
           "Account, Security, App passwords) and put it in password, or sign in with OAuth 2.0 "
           "(auth_mechanism XOAUTH2 with oauth2, provider GOOGLE).";
  }
  if (mentions("log in via your web browser") ||
      mentions("WEBALERT")) {
    return "Google blocked this sign-in as unusual: sign in to the account once in a browser, from "
           "the network this agent runs in, and try again; OAuth 2.0 (XOAUTH2) avoids this check.";
  }
  if (mentions("THROTTLED") || mentions("throttl")) {
    return "The provider is throttling this mailbox: streams back off and resume on their own; "
           "lower parallelism or max_connections if it persists.";
  }
  // "AUTHENTICATE failed." is Exchange Online's own wording.
  if (mentions("AUTHENTICATE failed") || (microsoft && mentions("LOGIN failed"))) {
    return "Microsoft 365 no longer accepts passwords over IMAP (basic authentication is "
           "disabled): use auth_mechanism XOAUTH2 with an oauth2 token source (provider MICROSOFT). "
           "For a shared mailbox, username is the shared mailbox's address and the token is that of "
           "a user (or app) with access to it.";
  }
  return "";
}

// Runs stages and records them in the response.
class StageRunner {
 public:
  StageRunner(TestConnectionResponse* response, absl::Time deadline,
              const std::function<bool()>& cancelled)
      : response_(response), deadline_(deadline), cancelled_(cancelled) {}

  // Runs `step` as stage `name`. `step` returns a detail line or an error.
  // Returns false if the test must stop here.
  template <typename Fn>
  bool Run(absl::string_view name, Fn step) {
    if (!interrupted_.ok()) return false;
    if (cancelled_ && cancelled_()) {
      interrupted_ = absl::CancelledError("TestConnection was cancelled by the client");
      return false;
    }
    const absl::Time start = absl::Now();
    absl::StatusOr<std::string> detail = step();
    Stage* stage = response_->add_stages();
    stage->set_name(std::string(name));
    stage->set_duration_ms(absl::ToDoubleMilliseconds(absl::Now() - start));
    const std::string alerts = NewAlerts();
    if (detail.ok()) {
      stage->set_result(Stage::OK);
      stage->set_detail(absl::StrCat(*detail, alerts));
      return true;
    }
    stage->set_result(Stage::FAILED);
    stage->set_detail(absl::StrCat(detail.status().message(), alerts));
    failure_alerts_ = alerts;
    if (absl::Now() >= deadline_) {
      interrupted_ = absl::DeadlineExceededError(
          absl::StrCat("the call's deadline passed during stage ", name));
      return false;
    }
    if (cancelled_ && cancelled_()) {
      interrupted_ = absl::CancelledError(absl::StrCat("TestConnection was cancelled during stage ", name));
      return false;
    }
    failure_ = detail.status();
    failed_stage_ = std::string(name);
    return false;
  }

  void Skip(absl::string_view name, absl::string_view why) {
    Stage* stage = response_->add_stages();
    stage->set_name(std::string(name));
    stage->set_result(Stage::SKIPPED);
    stage->set_detail(std::string(why));
  }

  // Where the session keeps the server's [ALERT]s; each stage's detail
  // ends with those that arrived during it.
  void WatchAlerts(const std::vector<std::string>* alerts) { alerts_ = alerts; }
  // The alerts of the failed stage, as appended to its detail.
  const std::string& failure_alerts() const { return failure_alerts_; }

  const absl::Status& interrupted() const { return interrupted_; }
  const absl::Status& failure() const { return failure_; }
  const std::string& failed_stage() const { return failed_stage_; }

 private:
  TestConnectionResponse* response_;
  absl::Time deadline_;
  const std::function<bool()>& cancelled_;
  absl::Status interrupted_;
  absl::Status failure_;
  std::string failed_stage_;
  const std::vector<std::string>* alerts_ = nullptr;
  size_t alerts_seen_ = 0;
  std::string failure_alerts_;

  std::string NewAlerts() {
    std::string out;
    if (alerts_ == nullptr) return out;
    for (; alerts_seen_ < alerts_->size(); ++alerts_seen_) {
      absl::StrAppend(&out, " [server alert: ", (*alerts_)[alerts_seen_], "]");
    }
    return out;
  }
};

}  // namespace

absl::StatusOr<TestConnectionResponse> RunConnectionTest(const Connection& c, absl::Time deadline,
                                                         const std::function<bool()>& cancelled,
                                                         StreamControl* control) {
  TestConnectionResponse response;
  response.set_host(c.effective_host());
  response.set_port(c.effective_port());
  response.set_security(c.effective_security());
  response.set_folder(c.default_folder());

  const absl::Duration timeout = absl::Milliseconds(c.timeout_ms());
  auto wait_until = [&] { return std::min(absl::Now() + timeout, deadline); };
  const bool implicit_tls = c.effective_security() == connector::v1::SECURITY_IMPLICIT_TLS;
  const bool starttls = c.effective_security() == connector::v1::SECURITY_STARTTLS;
  imap::TlsOptions tls;
  tls.server_name = c.effective_host();
  tls.extra_ca_pem = c.tls().ca_bundle_pem();
  tls.insecure_skip_verify = c.tls().insecure_skip_verify();

  StageRunner runner(&response, deadline, cancelled);
  std::unique_ptr<imap::Transport> transport;
  std::unique_ptr<imap::Session> session;
  // Declared after the session, so it detaches before the transport dies.
  std::optional<AttachedTransport> attached;
  bool preauth = false;
  auto record_capabilities = [&] {
    response.clear_capabilities();
    for (const std::string& cap : session->capabilities()) response.add_capabilities(cap);
  };

  // With an oauth2 source, the token comes first: its own stage, with its
  // own categories.
  std::optional<oauth::AccessToken> token;
  bool ok = true;
  if (UsesOAuthSource(c)) {
    ok = runner.Run("token", [&]() -> absl::StatusOr<std::string> {
      absl::StatusOr<oauth::AccessToken> t = AccessTokenFor(c, wait_until());
      if (!t.ok()) return t.status();
      token = *std::move(t);
      return token->expires_at == absl::InfiniteFuture()
                 ? std::string("an access token")
                 : absl::StrCat("an access token, valid for another ",
                                absl::ToInt64Seconds(token->expires_at - absl::Now()), " s");
    });
  }
  ok = ok && runner.Run("connect", [&]() -> absl::StatusOr<std::string> {
    // The test counts against max_connections like any call, but waits
    // for a slot only as long as it would for the server.
    absl::StatusOr<ConnectionGovernor::Permit> permit =
        ConnectionGovernor::Global().Acquire(MailboxKey(c), MaxConnections(c), wait_until(), cancelled);
    if (!permit.ok()) return permit.status();
    absl::StatusOr<std::unique_ptr<imap::Transport>> t =
        imap::DialTcp(c.effective_host(), c.effective_port(), wait_until());
    if (!t.ok()) return t.status();
    transport = HoldingPermit(*std::move(t), *std::move(permit));
    attached.emplace(control, transport.get());  // the session keeps this object
    return absl::StrCat("connected to ", transport->PeerAddress());
  });
  if (ok && implicit_tls) {
    ok = runner.Run("tls", [&]() -> absl::StatusOr<std::string> {
      absl::Status s = transport->StartTls(tls, wait_until());
      if (!s.ok()) return s;
      return absl::StrCat(transport->TlsDescription(),
                          tls.insecure_skip_verify ? ", certificate NOT verified"
                                                   : ", certificate verified for " + tls.server_name);
    });
  } else if (ok) {
    runner.Skip("tls", starttls ? "STARTTLS is used instead" : "security is NONE");
  }
  if (ok) {
    imap::SessionOptions options = SessionOptionsFor(c, deadline);
    // Each stage is one command: it gets timeout_ms, so that the whole test
    // ends within its stage budget whatever the server does.
    options.command_timeout = timeout;
    session = std::make_unique<imap::Session>(std::move(transport), options);
    runner.WatchAlerts(&session->alerts());
    ok = runner.Run("greeting", [&]() -> absl::StatusOr<std::string> {
      absl::StatusOr<imap::Greeting> g = session->ReadGreeting();
      if (!g.ok()) return g.status();
      preauth = g->status == imap::wire::StatusWord::kPreauth;
      if (preauth && starttls) {
        // RFC 3501: STARTTLS is impossible after PREAUTH; going on would mean
        // working unencrypted.
        return imap::WithErrorKind(
            absl::FailedPreconditionError(
                "the server greeted with PREAUTH, which rules out STARTTLS; refusing to continue "
                "unencrypted"),
            imap::ErrorKind::kTls);
      }
      return absl::StrCat(preauth ? "PREAUTH " : "OK ", g->text);
    });
  }
  if (ok) {
    ok = runner.Run("capability", [&]() -> absl::StatusOr<std::string> {
      absl::Status s = session->RefreshCapabilities();
      record_capabilities();
      if (!s.ok()) return s;
      return absl::StrCat(session->capabilities().size(), " capabilities");
    });
  }
  if (ok && starttls) {
    ok = runner.Run("starttls", [&]() -> absl::StatusOr<std::string> {
      absl::Status s = session->StartTls(tls);
      if (!s.ok()) return s;
      s = session->RefreshCapabilities();
      record_capabilities();
      if (!s.ok()) return s;
      return absl::StrCat(session->transport().TlsDescription(),
                          tls.insecure_skip_verify ? ", certificate NOT verified"
                                                   : ", certificate verified for " + tls.server_name);
    });
  } else if (ok) {
    runner.Skip("starttls", implicit_tls ? "implicit TLS is used" : "security is NONE");
  }
  if (ok && !preauth) {
    ok = runner.Run("login", [&]() -> absl::StatusOr<std::string> {
      absl::Status s = LogIn(*session, c, deadline, token.has_value() ? &*token : nullptr);
      if (!s.ok()) return s;
      // Capabilities often grow after login; ask if the server did not say.
      if (session->capabilities().empty()) {
        absl::Status caps = session->RefreshCapabilities();
        if (!caps.ok()) return caps;
      }
      record_capabilities();
      return absl::StrCat("logged in as ", c.username(), " with ",
                          imap::AuthMethodName(session->auth_method()));
    });
  } else if (ok) {
    runner.Skip("login", "already authenticated (PREAUTH)");
  }
  if (ok) {
    ok = runner.Run("examine", [&]() -> absl::StatusOr<std::string> {
      absl::StatusOr<imap::MailboxInfo> box = session->Examine(c.default_folder());
      if (!box.ok()) return box.status();
      response.set_message_count(box->exists);
      response.set_uid_validity(box->uid_validity);
      return absl::StrCat(Quote(c.default_folder(), '"'), ": ", box->exists, " messages, UIDVALIDITY ",
                          box->uid_validity);
    });
  }
  if (ok) {
    ok = runner.Run("logout", [&]() -> absl::StatusOr<std::string> {
      absl::Status s = session->Logout();
      if (!s.ok()) return s;
      return std::string("logged out");
    });
  }

  if (!runner.interrupted().ok()) return runner.interrupted();
  response.set_ok(ok);
  if (!ok) {
    const FailureCategory category = CategoryOf(runner.failure());
    response.set_category(category);
    absl::string_view what = runner.failure().message();
    while (absl::EndsWith(what, ".")) what.remove_suffix(1);
    std::string advice = ProviderAdvice(absl::StrCat(what, runner.failure_alerts()), c);
    if (advice.empty()) advice = Advice(category, c);
    response.set_message(
        absl::StrCat(runner.failed_stage(), " failed: ", what, ".", runner.failure_alerts(), " ", advice));
  }
  return response;
}

}  // namespace server
