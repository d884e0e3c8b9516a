// The oauth2 part of ValidateConnection and WithoutPassword.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/connection_validation.h"
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

}  // namespace
}  // namespace server
