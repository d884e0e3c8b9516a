// The oauth2 part of ValidateConnection and WithoutPassword.
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/connection_validation.h"
#include "server/declared_connections.h"
#include "server/oauth/test_certificate.h"
#include "server/status_convert.h"

namespace server {
namespace {

using connector::v1::Connection;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Connection Base() {
  Connection c;
  c.set_name("m365");
  c.set_username("alice@contoso.com");
  c.set_server_url("outlook.office365.com");
  c.set_auth_mechanism(connector::v1::AUTH_MECHANISM_XOAUTH2);
  return c;
}

Connection Microsoft() {
  Connection c = Base();
  auto* g = c.mutable_oauth2()->mutable_refresh_token_grant();
  g->set_provider(connector::v1::OAUTH2_PROVIDER_MICROSOFT);
  g->set_tenant("contoso.onmicrosoft.com");
  g->set_client_id("11111111-2222-3333-4444-555555555555");
  g->set_refresh_token("0.AAAA-refresh");
  return c;
}

ValidationContext Context() {
  ValidationContext ctx;
  ctx.agent = "cloud";
  return ctx;
}

std::vector<std::string> Violations(const Connection& c, ValidationContext ctx = Context()) {
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, ctx);
  std::vector<std::string> fields;
  if (v.ok()) return fields;
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  for (const FieldViolation& fv : GetFieldViolations(v.status())) fields.push_back(fv.field);
  return fields;
}

TEST(OAuth2ValidationTest, MicrosoftPresetsFillEndpointAndScopeAndNoPasswordIsNeeded) {
  absl::StatusOr<ValidConnection> v = ValidateConnection(Microsoft(), Context());
  ASSERT_TRUE(v.ok()) << v.status();
  const auto& g = v->connection.oauth2().refresh_token_grant();
  EXPECT_EQ(g.token_url(), "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(g.scope(), "https://outlook.office.com/IMAP.AccessAsUser.All offline_access");
  EXPECT_FALSE(v->connection.has_password());
}

TEST(OAuth2ValidationTest, GooglePresetsAndAGivenScopeIsKept) {
  Connection c = Base();
  auto* g = c.mutable_oauth2()->mutable_refresh_token_grant();
  g->set_provider(connector::v1::OAUTH2_PROVIDER_GOOGLE);
  g->set_client_id("123.apps.googleusercontent.com");
  g->set_client_secret("GOCSPX-secret");
  g->set_refresh_token("1//refresh");
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, Context());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->connection.oauth2().refresh_token_grant().token_url(), "https://oauth2.googleapis.com/token");
  EXPECT_EQ(v->connection.oauth2().refresh_token_grant().scope(), "https://mail.google.com/");

  Connection ms = Microsoft();
  ms.mutable_oauth2()->mutable_refresh_token_grant()->set_scope("custom offline_access");
  v = ValidateConnection(ms, Context());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->connection.oauth2().refresh_token_grant().scope(), "custom offline_access");
}

TEST(OAuth2ValidationTest, ClientCredentialsMicrosoft) {
  Connection c = Base();
  auto* g = c.mutable_oauth2()->mutable_client_credentials();
  g->set_provider(connector::v1::OAUTH2_PROVIDER_MICROSOFT);
  g->set_tenant("0f6f2c3e-1111-2222-3333-444444444444");
  g->set_client_id("app");
  g->set_client_secret("app-secret");
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, Context());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->connection.oauth2().client_credentials().scope(), "https://outlook.office365.com/.default");
  EXPECT_EQ(v->connection.oauth2().client_credentials().token_url(),
            "https://login.microsoftonline.com/0f6f2c3e-1111-2222-3333-444444444444/oauth2/v2.0/token");

  g->clear_client_secret();
  g->clear_tenant();
  EXPECT_THAT(Violations(c), ElementsAre("connection.oauth2.client_credentials.tenant",
                                         "connection.oauth2.client_credentials.client_secret"));
  g->set_provider(connector::v1::OAUTH2_PROVIDER_GOOGLE);
  g->set_client_secret("x");
  EXPECT_THAT(Violations(c), ElementsAre("connection.oauth2.client_credentials.provider"));
}

TEST(OAuth2ValidationTest, EachBadFieldIsNamed) {
  Connection c = Base();
  auto* g = c.mutable_oauth2()->mutable_refresh_token_grant();
  g->set_token_url("http://login.example.com/token");
  EXPECT_THAT(Violations(c), ElementsAre("connection.oauth2.refresh_token_grant.token_url",
                                         "connection.oauth2.refresh_token_grant.client_id",
                                         "connection.oauth2.refresh_token_grant.refresh_token"));
  g->set_client_id("id");
  g->set_refresh_token("rt");
  for (const char* bad : {"ftp://example.com/token", "https://user:pw@example.com/token",
                          "https://example.com/token#x", "https://exa mple.com/", "example.com/token",
                          "http://127.0.0.2/token"}) {
    g->set_token_url(bad);
    EXPECT_THAT(Violations(c), ElementsAre("connection.oauth2.refresh_token_grant.token_url")) << bad;
  }
  for (const char* good : {"https://example.com/token", "http://127.0.0.1:8080/token",
                           "http://localhost/token", "http://[::1]:99/t", "HTTPS://EXAMPLE.COM/token"}) {
    g->set_token_url(good);
    EXPECT_THAT(Violations(c), IsEmpty()) << good;
  }
  g->set_tenant("contoso");
  EXPECT_THAT(Violations(c), ElementsAre("connection.oauth2.refresh_token_grant.tenant"));
  g->clear_tenant();
  g->set_provider(connector::v1::OAUTH2_PROVIDER_MICROSOFT);
  g->clear_token_url();
  g->set_tenant("contoso/../x");
  EXPECT_THAT(Violations(c), ElementsAre("connection.oauth2.refresh_token_grant.tenant"));

  Connection file = Base();
  file.mutable_oauth2()->mutable_token_file()->set_path("relative/token");
  EXPECT_THAT(Violations(file), ElementsAre("connection.oauth2.token_file.path"));
  file.mutable_oauth2()->mutable_token_file()->set_path("/var/run/secrets/imap/token");
  EXPECT_THAT(Violations(file), IsEmpty());

  Connection empty = Base();
  empty.mutable_oauth2();
  EXPECT_THAT(Violations(empty), ElementsAre("connection.oauth2"));
}

TEST(OAuth2ValidationTest, PasswordMechanismsCannotUseOAuth2) {
  Connection c = Microsoft();
  c.set_auth_mechanism(connector::v1::AUTH_MECHANISM_PLAIN);
  EXPECT_THAT(Violations(c), ElementsAre("connection.auth_mechanism"));
  c.set_auth_mechanism(connector::v1::AUTH_MECHANISM_AUTO);
  EXPECT_THAT(Violations(c), IsEmpty());
  c.set_auth_mechanism(connector::v1::AUTH_MECHANISM_OAUTHBEARER);
  EXPECT_THAT(Violations(c), IsEmpty());
}

TEST(OAuth2ValidationTest, EmptySecretsKeepTheStoredOnesOfTheSameSource) {
  Connection stored = Microsoft();
  stored.mutable_oauth2()->mutable_refresh_token_grant()->set_client_secret("stored-secret");
  Connection update = Microsoft();
  update.mutable_oauth2()->mutable_refresh_token_grant()->clear_refresh_token();
  ValidationContext ctx = Context();
  ctx.stored_oauth2 = stored.oauth2();
  absl::StatusOr<ValidConnection> v = ValidateConnection(update, ctx);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->connection.oauth2().refresh_token_grant().refresh_token(), "0.AAAA-refresh");
  EXPECT_EQ(v->connection.oauth2().refresh_token_grant().client_secret(), "stored-secret");
  EXPECT_THAT(v->notes, Contains(HasSubstr("oauth2.refresh_token_grant.refresh_token left empty")));

  // Another source: nothing is carried over.
  Connection other = Base();
  other.mutable_oauth2()->mutable_client_credentials()->set_token_url("https://example.com/token");
  other.mutable_oauth2()->mutable_client_credentials()->set_client_id("app");
  EXPECT_THAT(Violations(other, ctx), ElementsAre("connection.oauth2.client_credentials.client_secret"));
}

TEST(OAuth2ValidationTest, ResponsesCarryNoSecrets) {
  Connection c = Microsoft();
  c.mutable_oauth2()->mutable_refresh_token_grant()->set_client_secret("cs");
  Connection out = WithoutPassword(c);
  const auto& g = out.oauth2().refresh_token_grant();
  EXPECT_EQ(g.refresh_token(), "");
  EXPECT_EQ(g.client_secret(), "");
  EXPECT_TRUE(g.has_refresh_token());
  EXPECT_TRUE(g.has_client_secret());
  EXPECT_EQ(g.client_id(), "11111111-2222-3333-4444-555555555555");

  Connection s = Base();
  s.mutable_oauth2()->mutable_static_token()->set_access_token("eyJ0");
  out = WithoutPassword(s);
  EXPECT_EQ(out.oauth2().static_token().access_token(), "");
  EXPECT_TRUE(out.oauth2().static_token().has_access_token());

  Connection cc = Base();
  cc.mutable_oauth2()->mutable_client_credentials()->set_client_secret("x");
  out = WithoutPassword(cc);
  EXPECT_EQ(out.oauth2().client_credentials().client_secret(), "");
  EXPECT_TRUE(out.oauth2().client_credentials().has_client_secret());

  EXPECT_FALSE(WithoutPassword(Base()).has_oauth2());
  // Secrets never appear in violations either.
  Connection bad = Microsoft();
  bad.mutable_oauth2()->mutable_refresh_token_grant()->set_refresh_token("zq9-token\nwith newline");
  absl::StatusOr<ValidConnection> v = ValidateConnection(bad, Context());
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(std::string(v.status().message()), ::testing::Not(HasSubstr("zq9")));
}

// ------------------------------------------- client credentials by certificate

using oauth::KeyType;
using oauth::MakeTestCertificate;
using oauth::TestCertificate;

const TestCertificate& Cert() {
  static const auto* c = new TestCertificate(MakeTestCertificate());
  return *c;
}

Connection ByCertificate(const TestCertificate& cert = Cert()) {
  Connection c = Base();
  auto* g = c.mutable_oauth2()->mutable_client_credentials();
  g->set_provider(connector::v1::OAUTH2_PROVIDER_MICROSOFT);
  g->set_tenant("contoso.onmicrosoft.com");
  g->set_client_id("app");
  g->set_client_certificate_pem(cert.certificate_pem);
  g->set_client_private_key_pem(cert.private_key_pem);
  return c;
}

// Descriptions of the violations, for checking that none quotes a key.
std::string Messages(const Connection& c, ValidationContext ctx = Context()) {
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, ctx);
  return v.ok() ? "" : std::string(v.status().message());
}

void ExpectNoKeyIn(const std::string& text) {
  EXPECT_THAT(text, ::testing::Not(HasSubstr("PRIVATE KEY")));
  for (absl::string_view line : absl::StrSplit(Cert().private_key_pem, '\n')) {
    if (line.size() > 20 && line[0] != '-') {
      EXPECT_THAT(text, ::testing::Not(HasSubstr(line.substr(0, 20))));
    }
  }
}

constexpr char kCertField[] = "connection.oauth2.client_credentials.client_certificate_pem";
constexpr char kKeyField[] = "connection.oauth2.client_credentials.client_private_key_pem";
constexpr char kSecretField[] = "connection.oauth2.client_credentials.client_secret";

TEST(OAuth2ValidationTest, ClientCertificateIsAcceptedAndItsKeyNeverReturned) {
  absl::StatusOr<ValidConnection> v = ValidateConnection(ByCertificate(), Context());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->connection.oauth2().client_credentials().client_private_key_pem(), Cert().private_key_pem);

  Connection out = WithoutPassword(v->connection);
  const auto& g = out.oauth2().client_credentials();
  EXPECT_EQ(g.client_private_key_pem(), "");
  EXPECT_TRUE(g.has_client_private_key());
  EXPECT_FALSE(g.has_client_secret());
  EXPECT_EQ(g.client_certificate_pem(), Cert().certificate_pem);  // not secret
  std::string serialized;
  out.SerializeToString(&serialized);
  ExpectNoKeyIn(serialized);
}

TEST(OAuth2ValidationTest, ClientCertificateProblemsNameTheirField) {
  // The key of another certificate.
  Connection c = ByCertificate();
  const TestCertificate other = MakeTestCertificate();
  c.mutable_oauth2()->mutable_client_credentials()->set_client_private_key_pem(other.private_key_pem);
  EXPECT_THAT(Violations(c), ElementsAre(kKeyField));
  EXPECT_THAT(Messages(c), HasSubstr("does not belong to client_certificate_pem"));
  ExpectNoKeyIn(Messages(c));

  // Both a secret and a certificate; neither.
  c = ByCertificate();
  c.mutable_oauth2()->mutable_client_credentials()->set_client_secret("app-secret");
  EXPECT_THAT(Violations(c), ElementsAre(kSecretField));
  EXPECT_THAT(Messages(c), HasSubstr("cannot be combined with client_certificate_pem"));
  c.mutable_oauth2()->mutable_client_credentials()->clear_client_secret();
  c.mutable_oauth2()->mutable_client_credentials()->clear_client_certificate_pem();
  c.mutable_oauth2()->mutable_client_credentials()->clear_client_private_key_pem();
  EXPECT_THAT(Violations(c), ElementsAre(kSecretField));
  EXPECT_THAT(Messages(c), HasSubstr("or instead client_certificate_pem with client_private_key_pem"));

  // Half a pair.
  c = ByCertificate();
  c.mutable_oauth2()->mutable_client_credentials()->clear_client_private_key_pem();
  EXPECT_THAT(Violations(c), ElementsAre(kKeyField));
  c = ByCertificate();
  c.mutable_oauth2()->mutable_client_credentials()->clear_client_certificate_pem();
  EXPECT_THAT(Violations(c), ElementsAre(kCertField));
  ExpectNoKeyIn(Messages(c));

  // Not a certificate; two certificates; not a key; keys RS256 cannot use.
  c = ByCertificate();
  c.mutable_oauth2()->mutable_client_credentials()->set_client_certificate_pem("MIIB-not-pem");
  EXPECT_THAT(Violations(c), ElementsAre(kCertField));
  c.mutable_oauth2()->mutable_client_credentials()->set_client_certificate_pem(
      Cert().certificate_pem + other.certificate_pem);
  EXPECT_THAT(Violations(c), ElementsAre(kCertField));
  EXPECT_THAT(Messages(c), HasSubstr("holds 2 certificates"));
  c = ByCertificate();
  c.mutable_oauth2()->mutable_client_credentials()->set_client_private_key_pem(Cert().certificate_pem);
  EXPECT_THAT(Violations(c), ElementsAre(kKeyField));
  for (KeyType type : {KeyType::kEcP256, KeyType::kRsa1024}) {
    const TestCertificate weak = MakeTestCertificate(type);
    EXPECT_THAT(Violations(ByCertificate(weak)), ElementsAre(kKeyField));
  }
  EXPECT_THAT(Messages(ByCertificate(MakeTestCertificate(KeyType::kEcP256))), HasSubstr("not an RSA key"));
  c = ByCertificate();
  c.mutable_oauth2()->mutable_client_credentials()->set_client_private_key_pem(
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n");
  EXPECT_THAT(Violations(c), ElementsAre(kKeyField));
  EXPECT_THAT(Messages(c), HasSubstr("without a passphrase"));
  c.mutable_oauth2()->mutable_client_credentials()->set_client_private_key_pem(std::string("key\0x", 5));
  EXPECT_THAT(Violations(c), ElementsAre(kKeyField));
}

TEST(OAuth2ValidationTest, EmptyPrivateKeyKeepsTheStoredOneWhenTheCertificateIsGiven) {
  ValidationContext ctx = Context();
  ctx.stored_oauth2 = ByCertificate().oauth2();
  Connection update = ByCertificate();
  update.mutable_oauth2()->mutable_client_credentials()->clear_client_private_key_pem();
  absl::StatusOr<ValidConnection> v = ValidateConnection(update, ctx);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->connection.oauth2().client_credentials().client_private_key_pem(), Cert().private_key_pem);
  EXPECT_THAT(v->notes, Contains(HasSubstr("client_private_key_pem left empty: the stored one is kept")));

  // A switch to a client secret drops the key; a switch from a secret to a
  // certificate does not carry the secret (that would be "both").
  Connection to_secret = ByCertificate();
  auto* g = to_secret.mutable_oauth2()->mutable_client_credentials();
  g->clear_client_certificate_pem();
  g->clear_client_private_key_pem();
  g->set_client_secret("new-secret");
  v = ValidateConnection(to_secret, ctx);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->connection.oauth2().client_credentials().client_private_key_pem(), "");
  ctx.stored_oauth2 = v->connection.oauth2();
  v = ValidateConnection(ByCertificate(), ctx);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->connection.oauth2().client_credentials().client_secret(), "");
}

TEST(OAuth2ValidationTest, AnExpiredCertificateIsNoted) {
  absl::StatusOr<ValidConnection> v = ValidateConnection(ByCertificate(MakeTestCertificate(KeyType::kRsa2048, -1)),
                                                         Context());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_THAT(v->notes, Contains(HasSubstr("client_certificate_pem expired on")));
}

TEST(DeclaredConnectionsTest, ClientKeyIsReadFromTheSecretsDirectory) {
  char templ[] = "/tmp/declared-cert-XXXXXX";
  ASSERT_NE(mkdtemp(templ), nullptr);
  const std::string dir = templ;
  Connection c = ByCertificate();
  c.set_name("app");
  c.mutable_oauth2()->mutable_client_credentials()->clear_client_private_key_pem();
  const std::string pem_json = absl::StrReplaceAll(Cert().certificate_pem, {{"\n", "\\n"}});
  const std::string file = dir + "/connections.json";
  std::ofstream(file) << R"({"connections": [{"name": "app", "username": "shared@contoso.com", )"
                      << R"("serverUrl": "outlook.office365.com", "authMechanism": "AUTH_MECHANISM_XOAUTH2", )"
                      << R"("oauth2": {"clientCredentials": {"provider": "OAUTH2_PROVIDER_MICROSOFT", )"
                      << R"("tenant": "contoso.onmicrosoft.com", "clientId": "app", "clientCertificatePem": ")"
                      << pem_json << R"("}}}]})";

  absl::StatusOr<std::vector<Connection>> loaded = LoadDeclaredConnections(file, dir, "cloud");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr(dir + "/app.client_key"));

  std::ofstream(dir + "/app.client_key") << Cert().private_key_pem;
  loaded = LoadDeclaredConnections(file, dir, "cloud");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].oauth2().client_credentials().client_private_key_pem(),
            Cert().private_key_pem.substr(0, Cert().private_key_pem.size() - 1));  // one newline dropped

  // A key written in the connections file is refused.
  std::ofstream(file) << R"({"connections": [{"name": "app", "username": "u", "serverUrl": "h", )"
                      << R"("oauth2": {"clientCredentials": {"clientId": "app", "clientPrivateKeyPem": "k"}}}]})";
  loaded = LoadDeclaredConnections(file, dir, "cloud");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()), HasSubstr("app.client_key"));
  EXPECT_EQ(std::system(absl::StrCat("rm -rf '", dir, "'").c_str()), 0);
}

}  // namespace
}  // namespace server
