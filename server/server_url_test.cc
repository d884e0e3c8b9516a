#include "server/server_url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace server {
namespace {

using ::testing::HasSubstr;

TEST(ServerUrlTest, AcceptedForms) {
  struct Case {
    const char* text;
    const char* host;
    int port;
    UrlScheme scheme;
    bool from_email;
  };
  const Case cases[] = {
      {"imap.example.com", "imap.example.com", 0, UrlScheme::kNone, false},
      {"  IMAP.Example.COM  ", "imap.example.com", 0, UrlScheme::kNone, false},
      {"imap.example.com:143", "imap.example.com", 143, UrlScheme::kNone, false},
      {"imap://imap.example.com", "imap.example.com", 0, UrlScheme::kImap, false},
      {"IMAPS://imap.example.com:993/", "imap.example.com", 993, UrlScheme::kImaps, false},
      {"User.Name@mail.com", "mail.com", 0, UrlScheme::kNone, true},
      {"\"odd@local\"@Example.org", "example.org", 0, UrlScheme::kNone, true},
      {"192.0.2.7:1143", "192.0.2.7", 1143, UrlScheme::kNone, false},
      {"[2001:db8::1]:993", "2001:db8::1", 993, UrlScheme::kNone, false},
      {"2001:db8::1", "2001:db8::1", 0, UrlScheme::kNone, false},
      {"imaps://[::1]", "::1", 0, UrlScheme::kImaps, false},
      {"mail_host.internal", "mail_host.internal", 0, UrlScheme::kNone, false},
      {"localhost", "localhost", 0, UrlScheme::kNone, false},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ServerUrl> u = ParseServerUrl(c.text);
    ASSERT_TRUE(u.ok()) << c.text << ": " << u.status();
    EXPECT_EQ(u->host, c.host) << c.text;
    EXPECT_EQ(u->port, c.port) << c.text;
    EXPECT_EQ(u->scheme, c.scheme) << c.text;
    EXPECT_EQ(u->from_email, c.from_email) << c.text;
  }
}

TEST(ServerUrlTest, RejectedFormsSayWhy) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"", "is empty"},
      {"   ", "is empty"},
      {"http://mail.example.com", "scheme 'http' is not IMAP"},
      {"imap://", "no host"},
      {"imap://host/INBOX", "has a path"},
      {"imap://user@host", "put it in the username field"},
      {"host:", "':' without a port"},
      {"host:0", "port '0' is not a number from 1 to 65535"},
      {"host:65536", "port '65536'"},
      {"host:99x", "port '99x'"},
      {"host:-1", "port '-1'"},
      {"bad host", "not a valid host name"},
      {"-bad.example.com", "not a valid host name"},
      {"a..b", "not a valid host name"},
      {"300.1.1.1", "not a valid host name"},
      {"[::1", "'[' without ']'"},
      {"[::1]x", "unexpected text after ']'"},
      {"[not-v6]:1", "not a valid host name"},
      {"@mail.com", "nothing before '@'"},
      {"user@", "not a valid host name"},
      {"user@host:993", "not a valid host name"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ServerUrl> u = ParseServerUrl(c.text);
    ASSERT_FALSE(u.ok()) << c.text;
    EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(u.status().message(), HasSubstr(c.why)) << c.text;
  }
}

TEST(ServerUrlTest, HostLengthLimits) {
  EXPECT_TRUE(IsValidHost(std::string(63, 'a') + ".com"));
  EXPECT_FALSE(IsValidHost(std::string(64, 'a') + ".com"));
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  EXPECT_FALSE(IsValidHost(long_name + "com"));
  EXPECT_TRUE(IsValidHost("example.com."));
}

}  // namespace
}  // namespace server
