// The client-credentials grant by certificate (RFC 7523 JWT client
// assertion) against scripts/oauth-introspect.py, a real token endpoint on
// 127.0.0.1 that checks the assertion's signature with the registered
// certificate, its audience, issuer, subject, expiry and jti.
#include "server/oauth/client_assertion.h"

#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "server/oauth/test_certificate.h"
#include "server/oauth/test_oauth_server.h"
#include "server/oauth/token_cache.h"
#include "server/oauth/token_error.h"

namespace server::oauth {
namespace {

using connector::v1::Connection;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr char kClientId[] = "cert-client";

absl::Time Deadline() { return absl::Now() + absl::Seconds(20); }

// A JSON string literal of a PEM text (newlines escaped).
std::string JsonPem(const std::string& pem) {
  return absl::StrCat("\"", absl::StrReplaceAll(pem, {{"\n", "\\n"}}), "\"");
}

// Header or claims of a compact JWS, parsed.
google::protobuf::Struct JwtPart(const std::string& jwt, int index) {
  std::vector<std::string> parts = absl::StrSplit(jwt, '.');
  google::protobuf::Struct out;
  std::string json;
  EXPECT_EQ(parts.size(), 3u);
  if (parts.size() != 3 || !absl::WebSafeBase64Unescape(parts[index], &json)) return out;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &out).ok()) << json;
  return out;
}

std::string Str(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? "(absent)" : it->second.string_value();
}
double Num(const google::protobuf::Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? -1 : it->second.number_value();
}

// The key and certificate are made once: RSA key generation takes a while.
const TestCertificate& Registered() {
  static const auto* c = new TestCertificate(MakeTestCertificate());
  return *c;
}
const TestCertificate& Other() {
  static const auto* c = new TestCertificate(MakeTestCertificate());
  return *c;
}

// No part of a private key (its PEM lines are long runs of base64) may
// show in a message.
void ExpectNoKeyMaterial(const absl::Status& status) {
  const std::string message(status.message());
  EXPECT_THAT(message, Not(HasSubstr("PRIVATE KEY")));
  for (const TestCertificate* c : {&Registered(), &Other()}) {
    for (absl::string_view line : absl::StrSplit(c->private_key_pem, '\n')) {
      if (line.size() > 20 && line[0] != '-') {
        EXPECT_THAT(message, Not(HasSubstr(line.substr(0, 20))));
      }
    }
  }
}

class ClientAssertionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("no_proxy", "127.0.0.1,localhost", 1);
    unsetenv("http_proxy");
    absl::StatusOr<std::unique_ptr<TestOAuthServer>> s = TestOAuthServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = *std::move(s);
    ASSERT_TRUE(server_
                    ->Control(absl::StrCat(R"({"client_user": "bob", "client_certificates": {")", kClientId,
                                           "\": ", JsonPem(Registered().certificate_pem), "}}"))
                    .ok());
  }

  Connection CertificateConnection(const TestCertificate& c) const {
    Connection out;
    out.set_name("app by certificate");
    out.set_username("bob");
    out.set_timeout_ms(5000);
    auto* g = out.mutable_oauth2()->mutable_client_credentials();
    g->set_token_url(server_->Url("/token"));
    g->set_client_id(kClientId);
    g->set_client_certificate_pem(c.certificate_pem);
    g->set_client_private_key_pem(c.private_key_pem);
    g->set_scope("https://outlook.office365.com/.default");
    return out;
  }

  // POSTs a token request with `assertion` as the client assertion; the
  // body of the answer, or the HTTP status line on an error.
  std::string PostAssertion(const std::string& assertion) const {
    absl::StatusOr<std::string> answer = server_->Request(
        "POST", "/token", "application/x-www-form-urlencoded",
        absl::StrCat("grant_type=client_credentials&client_assertion_type=",
                     "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer",
                     "&client_assertion=", assertion));
    return answer.ok() ? *answer : std::string(answer.status().message());
  }

  std::unique_ptr<TestOAuthServer> server_;
};

TEST_F(ClientAssertionTest, GrantByCertificateIssuesATokenIntrospectionAccepts) {
  TokenCache cache{TokenCache::Options()};
  const Connection c = CertificateConnection(Registered());
  absl::StatusOr<AccessToken> t = cache.Get(c, Deadline());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE(t->refreshable);
  EXPECT_TRUE(server_->IsActiveFor(t->token, "bob"));
  EXPECT_EQ(server_->Stat("client_assertions"), 1);
  EXPECT_EQ(server_->Stat("client_credentials_grants"), 1);

  // A renewal signs a new assertion (the server refuses a replayed jti).
  absl::StatusOr<AccessToken> again = cache.Get(c, Deadline(), /*force_refresh=*/true, t->token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->token, t->token);
  EXPECT_TRUE(server_->IsActiveFor(again->token, "bob"));
  EXPECT_EQ(server_->Stat("client_assertions"), 2);
}

TEST_F(ClientAssertionTest, AnotherKeyIsRefusedAsInvalidClient) {
  TokenCache cache{TokenCache::Options()};
  absl::StatusOr<AccessToken> t = cache.Get(CertificateConnection(Other()), Deadline());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(GetTokenErrorKind(t.status()), TokenErrorKind::kInvalidClient);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(t.status().message()),
              AllOf(HasSubstr("invalid_client"), HasSubstr("certificate")));
  ExpectNoKeyMaterial(t.status());
  EXPECT_EQ(server_->Stat("grants"), 0);
}

TEST_F(ClientAssertionTest, TheServerChecksSignatureAudienceExpiryAndReplay) {
  const TestCertificate& r = Registered();
  const std::string aud = server_->Url("/token");
  absl::StatusOr<std::string> good = MakeClientAssertion(r.certificate_pem, r.private_key_pem, kClientId, aud,
                                                         absl::Now());
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_THAT(PostAssertion(*good), HasSubstr("\"access_token\""));
  EXPECT_THAT(PostAssertion(*good), HasSubstr("401"));  // a replayed jti

  // The registered certificate's header and claims, another key's signature.
  absl::StatusOr<std::string> other =
      MakeClientAssertion(Other().certificate_pem, Other().private_key_pem, kClientId, aud, absl::Now());
  absl::StatusOr<std::string> fresh =
      MakeClientAssertion(r.certificate_pem, r.private_key_pem, kClientId, aud, absl::Now());
  ASSERT_TRUE(other.ok() && fresh.ok());
  const std::string forged = absl::StrCat(fresh->substr(0, fresh->rfind('.')), other->substr(other->rfind('.')));
  EXPECT_THAT(PostAssertion(forged), HasSubstr("401"));
  EXPECT_THAT(PostAssertion(*other), HasSubstr("401"));  // x5t of an unregistered certificate

  absl::StatusOr<std::string> expired = MakeClientAssertion(r.certificate_pem, r.private_key_pem, kClientId, aud,
                                                            absl::Now() - absl::Minutes(11));
  absl::StatusOr<std::string> elsewhere = MakeClientAssertion(r.certificate_pem, r.private_key_pem, kClientId,
                                                              "https://login.example.com/token", absl::Now());
  absl::StatusOr<std::string> stranger =
      MakeClientAssertion(r.certificate_pem, r.private_key_pem, "someone-else", aud, absl::Now());
  ASSERT_TRUE(expired.ok() && elsewhere.ok() && stranger.ok());
  EXPECT_THAT(PostAssertion(*expired), HasSubstr("401"));
  EXPECT_THAT(PostAssertion(*elsewhere), HasSubstr("401"));
  EXPECT_THAT(PostAssertion(*stranger), HasSubstr("401"));
  EXPECT_EQ(server_->Stat("grants"), 1);
  EXPECT_EQ(server_->Stat("failures"), 6);
}

TEST(MakeClientAssertionTest, HeaderAndClaimsAreWhatEntraExpects) {
  const TestCertificate& r = Registered();
  const absl::Time now = absl::FromUnixSeconds(1767000000);
  absl::StatusOr<std::string> jwt = MakeClientAssertion(r.certificate_pem, r.private_key_pem, "app-id",
                                                        "https://login.microsoftonline.com/t/oauth2/v2.0/token", now);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  const google::protobuf::Struct header = JwtPart(*jwt, 0);
  EXPECT_EQ(Str(header, "alg"), "RS256");
  EXPECT_EQ(Str(header, "typ"), "JWT");
  absl::StatusOr<std::string> x5t = CertificateThumbprintSha1(r.certificate_pem);
  absl::StatusOr<std::string> x5t256 = CertificateThumbprintSha256(r.certificate_pem);
  ASSERT_TRUE(x5t.ok() && x5t256.ok());
  EXPECT_EQ(Str(header, "x5t"), *x5t);
  EXPECT_EQ(Str(header, "x5t#S256"), *x5t256);
  EXPECT_EQ(x5t->size(), 27u);     // 20 bytes, base64url without padding
  EXPECT_EQ(x5t256->size(), 43u);  // 32 bytes

  const google::protobuf::Struct claims = JwtPart(*jwt, 1);
  EXPECT_EQ(Str(claims, "aud"), "https://login.microsoftonline.com/t/oauth2/v2.0/token");
  EXPECT_EQ(Str(claims, "iss"), "app-id");
  EXPECT_EQ(Str(claims, "sub"), "app-id");
  EXPECT_THAT(Str(claims, "jti"), MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(Num(claims, "iat"), 1767000000);
  EXPECT_EQ(Num(claims, "nbf"), 1767000000);
  EXPECT_EQ(Num(claims, "exp"), 1767000600);

  std::set<std::string> jtis;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<std::string> j = MakeClientAssertion(r.certificate_pem, r.private_key_pem, "app-id", "aud", now);
    ASSERT_TRUE(j.ok());
    jtis.insert(Str(JwtPart(*j, 1), "jti"));
  }
  EXPECT_EQ(jtis.size(), 5u);
}

TEST(MakeClientAssertionTest, AKeyOfAnotherCertificateIsRefusedWithoutQuotingIt) {
  absl::StatusOr<std::string> jwt = MakeClientAssertion(Registered().certificate_pem, Other().private_key_pem,
                                                        "app-id", "aud", absl::Now());
  ASSERT_FALSE(jwt.ok());
  EXPECT_THAT(std::string(jwt.status().message()), HasSubstr("does not belong to client_certificate_pem"));
  ExpectNoKeyMaterial(jwt.status());
}

}  // namespace
}  // namespace server::oauth
