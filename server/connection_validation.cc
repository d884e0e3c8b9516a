#include "server/connection_validation.h"

#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "imap/query/parser.h"
#include "imap/session/transport.h"
#include "imap/wire/command_writer.h"
#include "imap/util/utf8.h"
#include "server/datetime_format.h"
#include "server/oauth/client_assertion.h"
#include "server/server_url.h"
#include "server/status_convert.h"

namespace server {
namespace {

using connector::v1::AuthMechanism_IsValid;
using connector::v1::Connection;
using connector::v1::Security;

constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxUsernameBytes = 1024;
constexpr size_t kMaxPasswordBytes = 4096;
constexpr size_t kMaxQueryBytes = 65536;
constexpr size_t kMaxFolderBytes = 1000;
constexpr size_t kMaxCaBundleBytes = 1 << 20;
constexpr int kMinTimeoutMs = 100;
constexpr int kMaxTimeoutMs = 3600000;

class Checker {
 public:
  explicit Checker(std::string prefix) : prefix_(std::move(prefix)) {}

  void Fail(absl::string_view field, std::string description) {
    violations_.push_back({absl::StrCat(prefix_, ".", field), std::move(description)});
  }
  bool ok() const { return violations_.empty(); }
  const std::vector<FieldViolation>& violations() const { return violations_; }

  // Checks a free-text field: valid UTF-8, no NUL, no other control
  // characters unless `allow_control`, at most `max_bytes`.
  bool Text(absl::string_view field, absl::string_view value, size_t max_bytes,
            bool allow_control) {
    if (value.size() > max_bytes) {
      Fail(field, absl::StrCat("is ", value.size(), " bytes long; at most ", max_bytes, " allowed"));
      return false;
    }
    size_t bad = 0;
    if (!imap::IsValidUtf8(value, &bad)) {
      Fail(field, absl::StrCat("is not valid UTF-8 (byte ", bad + 1, ")"));
      return false;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      const auto c = static_cast<unsigned char>(value[i]);
      const bool forbidden = c == 0 || (!allow_control && (c < 0x20 || c == 0x7f));
      if (forbidden) {
        Fail(field, absl::StrCat("contains a control character (byte ", i + 1, ")"));
        return false;
      }
    }
    return true;
  }

 private:
  std::string prefix_;
  std::vector<FieldViolation> violations_;
};

// Keywords are IMAP atoms (RFC 3501 flag-keyword); atoms cannot contain
// the backslash that marks system flags.
bool IsKeyword(absl::string_view k) { return k.size() <= 200 && imap::wire::IsAtom(k); }

void CheckPostActions(const connector::v1::PostActions& a, absl::string_view field, Checker& check) {
  for (int i = 0; i < a.add_keywords_size(); ++i) {
    if (!IsKeyword(a.add_keywords(i))) {
      check.Fail(absl::StrCat(field, ".add_keywords[", i, "]"),
                 absl::StrCat(Quote(a.add_keywords(i), '"'),
                              " is not a keyword: use printable ASCII without spaces, "
                              "\\ ( ) { } % * \" or ]"));
    }
  }
  if (!a.move_to().empty() && a.delete_()) {
    check.Fail(absl::StrCat(field, ".delete"), "cannot be combined with move_to; choose one");
  }
  if (!a.move_to().empty()) {
    check.Text(absl::StrCat(field, ".move_to"), a.move_to(), kMaxFolderBytes, /*allow_control=*/false);
  }
}

// ---------------------------------------------------------------- oauth2
constexpr size_t kMaxTokenUrlBytes = 2048;
constexpr size_t kMaxClientIdBytes = 1024;
constexpr size_t kMaxOAuthSecretBytes = 16384;
constexpr size_t kMaxScopeBytes = 4096;
constexpr size_t kMaxTenantBytes = 256;
constexpr size_t kMaxTokenPathBytes = 4096;
constexpr size_t kMaxCertificatePemBytes = 65536;

constexpr absl::string_view kMicrosoftRefreshScope =
    "https://outlook.office.com/IMAP.AccessAsUser.All offline_access";
constexpr absl::string_view kMicrosoftAppScope = "https://outlook.office365.com/.default";
constexpr absl::string_view kGoogleTokenUrl = "https://oauth2.googleapis.com/token";
constexpr absl::string_view kGoogleScope = "https://mail.google.com/";

// Empty if `url` may receive our client secret and refresh token: https,
// or plain http to this machine only (test servers). No user info (it would
// end up in messages) and no fragment (RFC 6749 section 3.2).
std::string TokenUrlProblem(absl::string_view url) {
  for (char ch : url) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u >= 0x7f) return "must be printable ASCII without spaces";
  }
  const size_t colon = url.find("://");
  if (colon == absl::string_view::npos) return "must be an https:// URL";
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, colon));
  const absl::string_view rest = url.substr(colon + 3);
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "has no host";
  if (authority.find('@') != absl::string_view::npos) {
    return "must not hold a user name or password; put the client in client_id and client_secret";
  }
  if (url.find('#') != absl::string_view::npos) return "must not have a fragment (#...)";
  if (scheme == "https") return "";
  if (scheme != "http") return "must be an https:// URL";
  std::string host(authority);
  if (absl::StartsWith(host, "[")) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  host = absl::AsciiStrToLower(host);
  if (host == "127.0.0.1" || host == "localhost" || host == "[::1]") return "";
  return "must be https:// (plain http:// only to 127.0.0.1 or localhost, for tests): the client "
         "secret and refresh token travel in it";
}

bool IsTenant(absl::string_view tenant) {
  if (tenant.empty() || tenant.size() > kMaxTenantBytes) return false;
  for (char ch : tenant) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-') return false;
  }
  return true;
}

// Checks provider, tenant and token_url of a grant and fills token_url and
// scope from the provider's presets. `field` is e.g.
// "oauth2.refresh_token_grant"; `app_only` selects the client-credentials
// presets.
template <typename Grant>
void CheckEndpoint(Grant& g, absl::string_view field, bool app_only, Checker& check) {
  const connector::v1::OAuth2Provider provider = g.provider();
  if (!connector::v1::OAuth2Provider_IsValid(provider)) {
    check.Fail(absl::StrCat(field, ".provider"),
               absl::StrCat("value ", static_cast<int>(provider), " is unknown; use MICROSOFT, GOOGLE or none"));
    return;
  }
  if (provider == connector::v1::OAUTH2_PROVIDER_MICROSOFT) {
    if (g.token_url().empty()) {
      if (g.tenant().empty()) {
        check.Fail(absl::StrCat(field, ".tenant"),
                   "is required with provider MICROSOFT: the directory (tenant) id or domain, e.g. "
                   "contoso.onmicrosoft.com");
      } else if (!IsTenant(g.tenant())) {
        check.Fail(absl::StrCat(field, ".tenant"),
                   absl::StrCat(Quote(g.tenant()), " is not a tenant id or domain (letters, digits, '.', '-')"));
      } else {
        g.set_token_url(absl::StrCat("https://login.microsoftonline.com/", g.tenant(), "/oauth2/v2.0/token"));
      }
    }
    if (g.scope().empty()) g.set_scope(std::string(app_only ? kMicrosoftAppScope : kMicrosoftRefreshScope));
  } else if (provider == connector::v1::OAUTH2_PROVIDER_GOOGLE) {
    if (app_only) {
      check.Fail(absl::StrCat(field, ".provider"),
                 "GOOGLE has no client-credentials access to Gmail; use refresh_token_grant");
      return;
    }
    if (!g.tenant().empty()) check.Fail(absl::StrCat(field, ".tenant"), "is for provider MICROSOFT only");
    if (g.token_url().empty()) g.set_token_url(std::string(kGoogleTokenUrl));
    if (g.scope().empty()) g.set_scope(std::string(kGoogleScope));
  } else {
    if (!g.tenant().empty()) check.Fail(absl::StrCat(field, ".tenant"), "is for provider MICROSOFT only");
    if (g.token_url().empty()) {
      check.Fail(absl::StrCat(field, ".token_url"), "is required unless provider is MICROSOFT or GOOGLE");
    }
  }
  if (!g.token_url().empty()) {
    if (g.token_url().size() > kMaxTokenUrlBytes) {
      check.Fail(absl::StrCat(field, ".token_url"), absl::StrCat("is longer than ", kMaxTokenUrlBytes, " bytes"));
    } else if (std::string problem = TokenUrlProblem(g.token_url()); !problem.empty()) {
      check.Fail(absl::StrCat(field, ".token_url"), absl::StrCat(Quote(g.token_url()), " ", problem));
    }
  }
  if (g.client_id().empty()) {
    check.Fail(absl::StrCat(field, ".client_id"), "is required: the application (client) id");
  } else {
    check.Text(absl::StrCat(field, ".client_id"), g.client_id(), kMaxClientIdBytes, /*allow_control=*/false);
  }
  check.Text(absl::StrCat(field, ".scope"), g.scope(), kMaxScopeBytes, /*allow_control=*/false);
}

// A write-only secret: kept from `stored` when left empty, then checked.
// Says so in `notes`. Never quotes the value.
void CheckSecret(std::string* value, const std::string& stored, absl::string_view field, bool required,
                 Checker& check, std::vector<std::string>& notes) {
  if (value->empty() && !stored.empty()) {
    *value = stored;
    notes.push_back(absl::StrCat(field, " left empty: the stored one is kept"));
  }
  if (value->empty()) {
    if (required) check.Fail(field, "is required");
    return;
  }
  if (value->size() > kMaxOAuthSecretBytes) {
    check.Fail(field, absl::StrCat("is longer than ", kMaxOAuthSecretBytes, " bytes"));
    return;
  }
  for (size_t i = 0; i < value->size(); ++i) {
    const auto u = static_cast<unsigned char>((*value)[i]);
    if (u < 0x20 || u == 0x7f) {
      check.Fail(field, absl::StrCat("contains a control character (byte ", i + 1, ")"));
      return;
    }
  }
}

// PEM text: printable ASCII lines (CR and LF allowed), bounded. Never
// quotes the value.
bool CheckPem(absl::string_view field, absl::string_view pem, size_t max_bytes, Checker& check) {
  if (pem.size() > max_bytes) {
    check.Fail(field, absl::StrCat("is longer than ", max_bytes, " bytes"));
    return false;
  }
  for (size_t i = 0; i < pem.size(); ++i) {
    const auto u = static_cast<unsigned char>(pem[i]);
    if ((u < 0x20 && u != '\n' && u != '\r' && u != '\t') || u >= 0x7f) {
      check.Fail(field, absl::StrCat("is not PEM text (byte ", i + 1, " is not printable ASCII)"));
      return false;
    }
  }
  return true;
}

// How a client-credentials client authenticates: client_secret, or a
// certificate and its private key (a JWT assertion, RFC 7523). Exactly one.
void CheckClientAuthentication(connector::v1::OAuth2::ClientCredentialsGrant& g,
                               const connector::v1::OAuth2::ClientCredentialsGrant& stored, Checker& check,
                               std::vector<std::string>& notes) {
  constexpr absl::string_view kField = "oauth2.client_credentials";
  const bool by_certificate = !g.client_certificate_pem().empty() || !g.client_private_key_pem().empty();
  if (!by_certificate) {
    if (g.client_secret().empty() && stored.client_secret().empty()) {
      check.Fail(absl::StrCat(kField, ".client_secret"),
                 "is required, or instead client_certificate_pem with client_private_key_pem");
      return;
    }
    CheckSecret(g.mutable_client_secret(), stored.client_secret(), absl::StrCat(kField, ".client_secret"),
                /*required=*/true, check, notes);
    return;
  }
  if (!g.client_secret().empty()) {
    check.Fail(absl::StrCat(kField, ".client_secret"),
               "cannot be combined with client_certificate_pem and client_private_key_pem; choose one way "
               "for the application to authenticate");
    return;
  }
  if (g.client_certificate_pem().empty()) {
    check.Fail(absl::StrCat(kField, ".client_certificate_pem"),
               "is required with client_private_key_pem: the certificate uploaded to the application");
    return;
  }
  // The key is write-only; a Configure that gives the certificate again
  // keeps the stored key.
  if (g.client_private_key_pem().empty() && !stored.client_private_key_pem().empty()) {
    g.set_client_private_key_pem(stored.client_private_key_pem());
    notes.push_back(absl::StrCat(kField, ".client_private_key_pem left empty: the stored one is kept"));
  }
  if (g.client_private_key_pem().empty()) {
    check.Fail(absl::StrCat(kField, ".client_private_key_pem"),
               "is required with client_certificate_pem: the certificate's private key (PEM)");
    return;
  }
  if (!CheckPem(absl::StrCat(kField, ".client_certificate_pem"), g.client_certificate_pem(),
                kMaxCertificatePemBytes, check) ||
      !CheckPem(absl::StrCat(kField, ".client_private_key_pem"), g.client_private_key_pem(),
                kMaxOAuthSecretBytes, check)) {
    return;
  }
  if (std::optional<oauth::CertificateProblem> problem =
          oauth::CheckClientCertificate(g.client_certificate_pem(), g.client_private_key_pem())) {
    check.Fail(absl::StrCat(kField, problem->field == oauth::CertificateField::kCertificate
                                        ? ".client_certificate_pem"
                                        : ".client_private_key_pem"),
               std::move(problem->description));
    return;
  }
  const absl::Time not_after = oauth::CertificateNotAfter(g.client_certificate_pem());
  if (not_after < absl::Now()) {
    notes.push_back(absl::StrCat(kField, ".client_certificate_pem expired on ",
                                 absl::FormatTime("%Y-%m-%d", not_after, absl::UTCTimeZone()),
                                 ": the identity provider will refuse it; upload a new one"));
  } else if (not_after < absl::Now() + absl::Hours(24 * 30)) {
    notes.push_back(absl::StrCat(kField, ".client_certificate_pem expires on ",
                                 absl::FormatTime("%Y-%m-%d", not_after, absl::UTCTimeZone()),
                                 "; upload a new one to the application before then"));
  }
}

void CheckOAuth2(Connection& c, const connector::v1::OAuth2& stored, Checker& check,
                 std::vector<std::string>& notes) {
  connector::v1::OAuth2& o = *c.mutable_oauth2();
  const bool same_source = o.source_case() == stored.source_case();
  switch (o.source_case()) {
    case connector::v1::OAuth2::SOURCE_NOT_SET:
      check.Fail("oauth2", "has no source: set static_token, refresh_token_grant, client_credentials or token_file");
      return;
    case connector::v1::OAuth2::kStaticToken:
      CheckSecret(o.mutable_static_token()->mutable_access_token(),
                  same_source ? stored.static_token().access_token() : "",
                  "oauth2.static_token.access_token", /*required=*/true, check, notes);
      notes.push_back("oauth2.static_token cannot be renewed: logins fail once it expires");
      break;
    case connector::v1::OAuth2::kRefreshTokenGrant: {
      auto& g = *o.mutable_refresh_token_grant();
      CheckEndpoint(g, "oauth2.refresh_token_grant", /*app_only=*/false, check);
      CheckSecret(g.mutable_client_secret(), same_source ? stored.refresh_token_grant().client_secret() : "",
                  "oauth2.refresh_token_grant.client_secret", /*required=*/false, check, notes);
      CheckSecret(g.mutable_refresh_token(), same_source ? stored.refresh_token_grant().refresh_token() : "",
                  "oauth2.refresh_token_grant.refresh_token", /*required=*/true, check, notes);
      break;
    }
    case connector::v1::OAuth2::kClientCredentials: {
      auto& g = *o.mutable_client_credentials();
      CheckEndpoint(g, "oauth2.client_credentials", /*app_only=*/true, check);
      CheckClientAuthentication(g, same_source ? stored.client_credentials()
                                               : connector::v1::OAuth2::ClientCredentialsGrant(),
                                check, notes);
      break;
    }
    case connector::v1::OAuth2::kTokenFile: {
      const std::string& path = o.token_file().path();
      if (path.empty()) {
        check.Fail("oauth2.token_file.path", "is required");
      } else if (check.Text("oauth2.token_file.path", path, kMaxTokenPathBytes, /*allow_control=*/false) &&
                 path[0] != '/') {
        check.Fail("oauth2.token_file.path", absl::StrCat(Quote(path), " must be an absolute path"));
      }
      break;
    }
  }
  const connector::v1::AuthMechanism m = c.auth_mechanism();
  if (m != connector::v1::AUTH_MECHANISM_AUTO && m != connector::v1::AUTH_MECHANISM_XOAUTH2 &&
      m != connector::v1::AUTH_MECHANISM_OAUTHBEARER && connector::v1::AuthMechanism_IsValid(m)) {
    check.Fail("auth_mechanism", absl::StrCat("is ", connector::v1::AuthMechanism_Name(m),
                                              ", but oauth2 gives an access token: use XOAUTH2, "
                                              "OAUTHBEARER or AUTO"));
  }
}

absl::string_view SecurityName(Security s) {
  switch (s) {
    case connector::v1::SECURITY_IMPLICIT_TLS:
      return "IMPLICIT_TLS";
    case connector::v1::SECURITY_STARTTLS:
      return "STARTTLS";
    case connector::v1::SECURITY_NONE:
      return "NONE";
    default:
      return "UNSPECIFIED";
  }
}

}  // namespace

absl::Status ValidatePostActions(const connector::v1::PostActions& actions,
                                 absl::string_view field) {
  Checker check("");
  CheckPostActions(actions, field, check);
  if (check.ok()) return absl::OkStatus();
  std::vector<FieldViolation> violations = check.violations();
  for (FieldViolation& v : violations) v.field = v.field.substr(1);  // no prefix
  return InvalidFields(violations);
}

connector::v1::Connection WithoutPassword(const connector::v1::Connection& c) {
  Connection out = c;
  out.clear_password();
  out.set_has_password(!c.password().empty());
  connector::v1::OAuth2* oauth2 = out.mutable_oauth2();
  if (oauth2->has_static_token()) {
    auto* t = oauth2->mutable_static_token();
    t->set_has_access_token(!t->access_token().empty());
    t->clear_access_token();
  } else if (oauth2->has_refresh_token_grant()) {
    auto* g = oauth2->mutable_refresh_token_grant();
    g->set_has_client_secret(!g->client_secret().empty());
    g->set_has_refresh_token(!g->refresh_token().empty());
    g->clear_client_secret();
    g->clear_refresh_token();
  } else if (oauth2->has_client_credentials()) {
    auto* g = oauth2->mutable_client_credentials();
    g->set_has_client_secret(!g->client_secret().empty());
    g->set_has_client_private_key(!g->client_private_key_pem().empty());
    g->clear_client_secret();
    g->clear_client_private_key_pem();
  }
  if (!c.has_oauth2()) out.clear_oauth2();
  return out;
}

absl::StatusOr<ValidConnection> ValidateConnection(const Connection& input,
                                                   const ValidationContext& context) {
  Checker check(context.field_prefix);
  ValidConnection result;
  Connection& c = result.connection;
  c = input;

  // name
  if (c.name().empty()) {
    check.Fail("name", "is required");
  } else if (check.Text("name", c.name(), kMaxNameBytes, /*allow_control=*/false)) {
    if (c.name().find('/') != std::string::npos) check.Fail("name", "must not contain '/'");
    if (absl::StripAsciiWhitespace(c.name()) != c.name()) {
      check.Fail("name", "must not start or end with white space");
    }
  }

  if (!c.has_is_active()) c.set_is_active(true);

  // cloud_agent: this server runs only its own agent's connections.
  if (c.cloud_agent().empty()) {
    c.set_cloud_agent(context.agent);
  } else if (c.cloud_agent() != context.agent) {
    check.Fail("cloud_agent", absl::StrCat("names agent ", Quote(c.cloud_agent()),
                                           ", but this server is agent '", context.agent,
                                           "'; leave it empty or use '", context.agent, "'"));
  }

  if (c.implementation_type() != connector::v1::IMPLEMENTATION_TYPE_DEFAULT) {
    check.Fail("implementation_type",
               absl::StrCat("value ", static_cast<int>(c.implementation_type()),
                            " is not supported; only DEFAULT (the native IMAP engine) exists"));
  }

  if (!c.has_is_source()) c.set_is_source(true);
  if (!c.has_is_target()) c.set_is_target(false);
  if (!c.is_source() && !c.is_target()) {
    check.Fail("is_source", "a connection must be a source, a target, or both");
  }

  if (c.timeout_ms() == 0) {
    c.set_timeout_ms(kDefaultTimeoutMs);
  } else if (c.timeout_ms() < kMinTimeoutMs || c.timeout_ms() > kMaxTimeoutMs) {
    check.Fail("timeout_ms", absl::StrCat("is ", c.timeout_ms(), "; use 0 (default ",
                                          kDefaultTimeoutMs, ") or ", kMinTimeoutMs, " to ",
                                          kMaxTimeoutMs, " milliseconds"));
  }
  // Limits of the hostile-server defences (see docs/retry-policy.md).
  if (c.max_message_bytes() == 0) {
    c.set_max_message_bytes(int64_t{256} << 20);
  } else if (c.max_message_bytes() < 1024 || c.max_message_bytes() > (int64_t{4} << 30)) {
    check.Fail("max_message_bytes", absl::StrCat("is ", c.max_message_bytes(),
                                                 "; use 0 (default 256 MiB) or 1024 to 4294967296 bytes"));
  }
  if (c.max_connections() == 0) {
    c.set_max_connections(10);
  } else if (c.max_connections() < 1 || c.max_connections() > 100) {
    check.Fail("max_connections", absl::StrCat("is ", c.max_connections(),
                                               "; use 0 (default 10) or 1 to 100 connections"));
  }
  if (c.idle_refresh_ms() == 0) {
    c.set_idle_refresh_ms(30000);
  } else if (c.idle_refresh_ms() < 1000 || c.idle_refresh_ms() > 1740000) {
    check.Fail("idle_refresh_ms", absl::StrCat("is ", c.idle_refresh_ms(),
                                               "; use 0 (default 30000) or 1000 to 1740000 milliseconds"));
  }

  if (check.Text("query", c.query(), kMaxQueryBytes, /*allow_control=*/true)) {
    absl::StatusOr<imap::query::Query> query = imap::query::ParseQuery(c.query());
    if (!query.ok()) check.Fail("query", std::string(query.status().message()));
  }
  CheckPostActions(c.post_actions(), "post_actions", check);

  if (absl::Status s = ValidateDateTimeFormat(c.datetime_format()); !s.ok()) {
    check.Fail("datetime_format", std::string(s.message()));
  } else {
    const absl::Time sample = absl::FromCivil(absl::CivilSecond(2024, 1, 6, 9, 5, 7), absl::UTCTimeZone()) +
                              absl::Milliseconds(250);
    result.notes.push_back(absl::StrCat("datetime_format renders 2024-01-06 09:05:07.250 UTC as \"",
                                        FormatDateTime(sample, c.datetime_format()), "\""));
  }

  if (c.username().empty()) {
    check.Fail("username", "is required");
  } else {
    check.Text("username", c.username(), kMaxUsernameBytes, /*allow_control=*/false);
  }

  if (c.has_oauth2()) CheckOAuth2(c, context.stored_oauth2, check, result.notes);
  if (c.password().empty()) {
    if (context.stored_password.empty()) {
      // With oauth2 the token comes from there; a password is optional.
      if (!c.has_oauth2()) check.Fail("password", "is required");
    } else {
      c.set_password(context.stored_password);
      result.notes.push_back("password left empty: the stored password is kept");
    }
  } else if (c.password().size() > kMaxPasswordBytes) {
    check.Fail("password", absl::StrCat("is longer than ", kMaxPasswordBytes, " bytes"));
  } else if (c.password().find('\0') != std::string::npos) {
    check.Fail("password", "contains a NUL byte, which IMAP cannot send");
  }

  // server_url, port and security depend on each other.
  if (!Security_IsValid(c.security())) {
    check.Fail("security", absl::StrCat("value ", static_cast<int>(c.security()), " is unknown"));
  }
  if (c.port() < 0 || c.port() > 65535) {
    check.Fail("port", absl::StrCat("is ", c.port(), "; use 0 (default) or 1 to 65535"));
  }
  absl::StatusOr<ServerUrl> url = ParseServerUrl(c.server_url());
  if (c.server_url().empty()) {
    check.Fail("server_url", "is required, e.g. imap.example.com or imaps://imap.example.com:993");
  } else if (!url.ok()) {
    check.Fail("server_url", std::string(url.status().message()));
  } else {
    Security effective = c.security();
    if (url->scheme == UrlScheme::kImaps) {
      if (effective == connector::v1::SECURITY_STARTTLS || effective == connector::v1::SECURITY_NONE) {
        check.Fail("security", absl::StrCat("is ", SecurityName(effective),
                                            " but server_url says imaps:// (implicit TLS)"));
      }
      effective = connector::v1::SECURITY_IMPLICIT_TLS;
    } else if (url->scheme == UrlScheme::kImap) {
      if (effective == connector::v1::SECURITY_IMPLICIT_TLS) {
        check.Fail("security", "is IMPLICIT_TLS but server_url says imap:// (STARTTLS or none)");
      }
      if (effective == connector::v1::SECURITY_UNSPECIFIED) effective = connector::v1::SECURITY_STARTTLS;
    } else if (effective == connector::v1::SECURITY_UNSPECIFIED) {
      effective = connector::v1::SECURITY_IMPLICIT_TLS;
    }
    int port = c.port();
    if (url->port != 0) {
      if (port != 0 && port != url->port) {
        check.Fail("port", absl::StrCat("is ", port, " but server_url names port ", url->port,
                                        "; give the port in one place"));
      }
      port = url->port;
    }
    if (port == 0) port = effective == connector::v1::SECURITY_IMPLICIT_TLS ? 993 : 143;
    c.set_effective_host(url->host);
    c.set_effective_port(port);
    c.set_effective_security(effective);
    if (url->from_email) {
      result.notes.push_back(absl::StrCat("server_url is an e-mail address; connecting to its domain '",
                                          url->host, "' (enter the IMAP host if it differs, "
                                          "e.g. imap.", url->host, ")"));
    }
  }

  // TLS settings
  const connector::v1::TlsSettings& tls = c.tls();
  if (!tls.ca_bundle_pem().empty()) {
    if (tls.insecure_skip_verify()) {
      check.Fail("tls.insecure_skip_verify", "cannot be combined with tls.ca_bundle_pem; choose one");
    }
    if (tls.ca_bundle_pem().size() > kMaxCaBundleBytes) {
      check.Fail("tls.ca_bundle_pem", absl::StrCat("is larger than ", kMaxCaBundleBytes, " bytes"));
    } else if (absl::StatusOr<int> n = imap::CountPemCertificates(tls.ca_bundle_pem()); !n.ok()) {
      check.Fail("tls.ca_bundle_pem", std::string(n.status().message()));
    }
  }
  if (tls.insecure_skip_verify()) {
    result.notes.push_back(
        "tls.insecure_skip_verify is set: any certificate is accepted, so the connection can be "
        "intercepted");
  }
  if (c.effective_security() == connector::v1::SECURITY_NONE) {
    result.notes.push_back("security is NONE: the password travels unencrypted");
  }

  if (!connector::v1::AuthMechanism_IsValid(c.auth_mechanism())) {
    check.Fail("auth_mechanism", absl::StrCat("value ", static_cast<int>(c.auth_mechanism()),
                                              " is unknown; use AUTO, LOGIN, PLAIN, SCRAM_SHA_256, SCRAM_SHA_1, XOAUTH2 "
                                              "or OAUTHBEARER"));
  }

  if (c.default_folder().empty()) c.set_default_folder("INBOX");
  check.Text("default_folder", c.default_folder(), kMaxFolderBytes, /*allow_control=*/false);

  if (!check.ok()) return InvalidFields(check.violations());
  c.set_has_password(!c.password().empty());
  return result;
}

}  // namespace server
