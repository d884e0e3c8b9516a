#include "imap/wire/mutf7.h"

#include "gtest/gtest.h"

namespace imap::wire {
namespace {

struct Pair {
  const char* utf8;
  const char* mutf7;
};

// Examples from RFC 3501 section 5.1.3 and others worked out by hand.
constexpr Pair kPairs[] = {
    {"INBOX", "INBOX"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
     "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"Entw\xc3\xbc" "rfe", "Entw&APw-rfe"},
    {"A&B", "A&-B"},
    {"\xf0\x9f\x93\xa7", "&2D3c5w-"},  // U+1F4E7, a surrogate pair
};

TEST(Mutf7Test, RoundTrips) {
  for (const Pair& p : kPairs) {
    absl::StatusOr<std::string> enc = EncodeMailboxName(p.utf8);
    ASSERT_TRUE(enc.ok()) << enc.status();
    EXPECT_EQ(*enc, p.mutf7);
    absl::StatusOr<std::string> dec = DecodeMailboxName(p.mutf7);
    ASSERT_TRUE(dec.ok()) << dec.status();
    EXPECT_EQ(*dec, p.utf8);
  }
}

TEST(Mutf7Test, RejectsInvalidInput) {
  EXPECT_FALSE(EncodeMailboxName("bad \xff byte").ok());
  EXPECT_FALSE(EncodeMailboxName("\xc0\xaf").ok());  // overlong '/'
  EXPECT_FALSE(DecodeMailboxName("&U,BTFw").ok());   // no closing '-'
  EXPECT_FALSE(DecodeMailboxName("&AGE-").ok());     // 'a' must not be encoded
  EXPECT_FALSE(DecodeMailboxName("&2D0-").ok());     // lone high surrogate
  EXPECT_FALSE(DecodeMailboxName("a\x80").ok());
  EXPECT_EQ(DecodeMailboxName("&-&-").value(), "&&");
}

}  // namespace
}  // namespace imap::wire
