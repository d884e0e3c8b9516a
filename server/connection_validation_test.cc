#include "server/connection_validation.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/status_convert.h"

namespace server {
namespace {

using connector::v1::Connection;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Connection Minimal() {
  Connection c;
  c.set_name("sales mailbox");
  c.set_username("sales@example.com");
  c.set_password("pw");
  c.set_server_url("imap.example.com");
  return c;
}

ValidationContext Context() {
  ValidationContext ctx;
  ctx.agent = "cloud";
  return ctx;
}

// The fields named by the violations of `c`, in order.
std::vector<std::string> Violations(const Connection& c, ValidationContext ctx = Context()) {
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, ctx);
  std::vector<std::string> fields;
  if (v.ok()) return fields;
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  for (const FieldViolation& fv : GetFieldViolations(v.status())) fields.push_back(fv.field);
  return fields;
}

TEST(ConnectionValidationTest, DefaultsAreFilledIn) {
  absl::StatusOr<ValidConnection> v = ValidateConnection(Minimal(), Context());
  ASSERT_TRUE(v.ok()) << v.status();
  const Connection& c = v->connection;
  EXPECT_TRUE(c.is_active());
  EXPECT_TRUE(c.is_source());
  EXPECT_FALSE(c.is_target());
  EXPECT_EQ(c.cloud_agent(), "cloud");
  EXPECT_EQ(c.timeout_ms(), kDefaultTimeoutMs);
  EXPECT_EQ(c.default_folder(), "INBOX");
  EXPECT_EQ(c.effective_host(), "imap.example.com");
  EXPECT_EQ(c.effective_port(), 993);
  EXPECT_EQ(c.effective_security(), connector::v1::SECURITY_IMPLICIT_TLS);
  EXPECT_TRUE(c.has_password());
  EXPECT_THAT(v->notes, Contains(HasSubstr("2024-01-06T09:05:07.25Z")));
}

TEST(ConnectionValidationTest, ExplicitFalseIsKept) {
  Connection c = Minimal();
  c.set_is_active(false);
  c.set_is_source(false);
  c.set_is_target(true);
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, Context());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_FALSE(v->connection.is_active());
  EXPECT_FALSE(v->connection.is_source());
  EXPECT_TRUE(v->connection.is_target());
}

TEST(ConnectionValidationTest, PortDefaultsFollowSecurity) {
  Connection c = Minimal();
  c.set_security(connector::v1::SECURITY_STARTTLS);
  EXPECT_EQ(ValidateConnection(c, Context())->connection.effective_port(), 143);
  c.set_security(connector::v1::SECURITY_NONE);
  EXPECT_EQ(ValidateConnection(c, Context())->connection.effective_port(), 143);
  c.set_port(10143);
  EXPECT_EQ(ValidateConnection(c, Context())->connection.effective_port(), 10143);
  c.set_server_url("imap://imap.example.com:10143");
  EXPECT_EQ(ValidateConnection(c, Context())->connection.effective_port(), 10143);
}

TEST(ConnectionValidationTest, ConflictsBetweenUrlPortAndSecurity) {
  Connection c = Minimal();
  c.set_server_url("imap.example.com:1993");
  c.set_port(993);
  EXPECT_THAT(Violations(c), ElementsAre("connection.port"));

  c = Minimal();
  c.set_server_url("imaps://imap.example.com");
  c.set_security(connector::v1::SECURITY_STARTTLS);
  EXPECT_THAT(Violations(c), ElementsAre("connection.security"));

  c = Minimal();
  c.set_server_url("imap://imap.example.com");
  c.set_security(connector::v1::SECURITY_IMPLICIT_TLS);
  EXPECT_THAT(Violations(c), ElementsAre("connection.security"));

  c.set_security(connector::v1::SECURITY_UNSPECIFIED);
  EXPECT_EQ(ValidateConnection(c, Context())->connection.effective_security(),
            connector::v1::SECURITY_STARTTLS);
}

TEST(ConnectionValidationTest, RequiredFields) {
  EXPECT_THAT(Violations(Connection()),
              ElementsAre("connection.name", "connection.username", "connection.password",
                          "connection.server_url"));
}

TEST(ConnectionValidationTest, StoredPasswordIsKeptWhenEmpty) {
  Connection c = Minimal();
  c.clear_password();
  ValidationContext ctx = Context();
  ctx.stored_password = "old";
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, ctx);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->connection.password(), "old");
  EXPECT_THAT(v->notes, Contains(HasSubstr("stored password is kept")));
}

TEST(ConnectionValidationTest, TextFields) {
  Connection c = Minimal();
  c.set_name(" padded");
  EXPECT_THAT(Violations(c), ElementsAre("connection.name"));
  c.set_name(std::string(129, 'n'));
  EXPECT_THAT(Violations(c), ElementsAre("connection.name"));
  c.set_name("bad\xff utf8");
  EXPECT_THAT(Violations(c), ElementsAre("connection.name"));
  c.set_name("Vertrieb \xc3\x9c" "bersicht");  // non-ASCII is fine
  EXPECT_THAT(Violations(c), ElementsAre());

  c = Minimal();
  c.set_password(std::string("a\0b", 3));
  EXPECT_THAT(Violations(c), ElementsAre("connection.password"));
  c.set_password("line\r\nbreaks are fine in a password");
  EXPECT_THAT(Violations(c), ElementsAre());

  c = Minimal();
  c.set_query(std::string("x\0y", 3));
  EXPECT_THAT(Violations(c), ElementsAre("connection.query"));
  c.set_query("multi\nline\tquery");
  EXPECT_THAT(Violations(c), ElementsAre("connection.query"));  // CR/LF never allowed
}

TEST(ConnectionValidationTest, TimeoutRange) {
  Connection c = Minimal();
  for (int bad : {-1, 99, 3600001}) {
    c.set_timeout_ms(bad);
    EXPECT_THAT(Violations(c), ElementsAre("connection.timeout_ms")) << bad;
  }
  for (int good : {100, 3600000}) {
    c.set_timeout_ms(good);
    EXPECT_THAT(Violations(c), ElementsAre()) << good;
  }
}

TEST(ConnectionValidationTest, AgentMustBeOurs) {
  Connection c = Minimal();
  c.set_cloud_agent("on-prem-7");
  absl::StatusOr<ValidConnection> v = ValidateConnection(c, Context());
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("this server is agent 'cloud'"));
  c.set_cloud_agent("cloud");
  EXPECT_TRUE(ValidateConnection(c, Context()).ok());
}

TEST(ConnectionValidationTest, FieldPrefix) {
  ValidationContext ctx = Context();
  ctx.field_prefix = "target.connection";
  Connection c = Minimal();
  c.set_port(-5);
  EXPECT_THAT(Violations(c, ctx), ElementsAre("target.connection.port"));
}

TEST(ConnectionValidationTest, WithoutPasswordClearsIt) {
  Connection c = Minimal();
  Connection out = WithoutPassword(c);
  EXPECT_EQ(out.password(), "");
  EXPECT_TRUE(out.has_password());
}

}  // namespace
}  // namespace server
