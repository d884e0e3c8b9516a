#include "server/cursor_seal.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/records/cursor.h"

namespace server {
namespace {

using ::testing::HasSubstr;

constexpr char kKeyA[] = "first-key-0123456789abcdef";
constexpr char kKeyB[] = "second-key-0123456789abcdef";

std::string EngineCursor(uint32_t uid = 42) {
  imap::records::Cursor c;
  c.Advance("INBOX", 1700000000, uid, 7);
  return c.Encode();
}

TEST(CursorSealTest, OpensWhatItSealed) {
  CursorSealer sealer({kKeyA});
  const std::string token = sealer.Seal("sales", EngineCursor());
  EXPECT_NE(token, EngineCursor());
  absl::StatusOr<std::string> raw = sealer.Open("sales", token);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*raw, EngineCursor());
}

TEST(CursorSealTest, EmptyStaysEmpty) {
  CursorSealer sealer({kKeyA});
  EXPECT_EQ(sealer.Seal("sales", ""), "");
  absl::StatusOr<std::string> raw = sealer.Open("sales", "");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, "");
}

TEST(CursorSealTest, RefusesAnotherConnectionsCursor) {
  CursorSealer sealer({kKeyA});
  const std::string token = sealer.Seal("sales", EngineCursor());
  absl::StatusOr<std::string> raw = sealer.Open("support", token);
  EXPECT_EQ(raw.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(raw.status().message(), HasSubstr("not valid for connection 'support'"));
  // The name's length is signed: moving a byte from the name to the cursor
  // ("ab" + "c1.xyz" as "a" + "bc1.xyz") breaks the signature.
  const std::string sealed = sealer.Seal("ab", "c1.xyz");
  EXPECT_TRUE(sealer.Open("ab", sealed).ok());
  EXPECT_FALSE(sealer.Open("a", "b" + sealed).ok());
}

TEST(CursorSealTest, RefusesAChangedCursor) {
  CursorSealer sealer({kKeyA});
  const std::string token = sealer.Seal("sales", EngineCursor(42));
  // The same signature on a later position (a forged UID).
  const std::string forged =
      absl::StrCat(EngineCursor(4200), token.substr(token.rfind('.')));
  EXPECT_EQ(sealer.Open("sales", forged).status().code(), absl::StatusCode::kInvalidArgument);
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(sealer.Open("sales", flipped).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sealer.Open("sales", token + "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sealer.Open("sales", absl::StrCat(EngineCursor(), ".")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CursorSealTest, RefusesACursorOfAnotherKey) {
  CursorSealer ours({kKeyA});
  CursorSealer theirs({kKeyB});
  EXPECT_EQ(ours.Open("sales", theirs.Seal("sales", EngineCursor())).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Rotation: the new key seals, the old one still opens what it sealed.
TEST(CursorSealTest, OldKeysStillOpen) {
  CursorSealer before({kKeyA});
  CursorSealer after({kKeyB, kKeyA});
  const std::string old_token = before.Seal("sales", EngineCursor());
  absl::StatusOr<std::string> raw = after.Open("sales", old_token);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*raw, EngineCursor());
  const std::string new_token = after.Seal("sales", EngineCursor());
  EXPECT_NE(new_token, old_token);
  EXPECT_FALSE(before.Open("sales", new_token).ok());
  EXPECT_TRUE(CursorSealer({kKeyB}).Open("sales", new_token).ok());
}

// Cursors issued before sealing keep working for one release.
TEST(CursorSealTest, AcceptsUnsealedCursorsOnceWarned) {
  CursorSealer sealer({kKeyA});
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::string> first = sealer.Open("sales", EngineCursor());
  absl::StatusOr<std::string> second = sealer.Open("other", EngineCursor(43));
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, EngineCursor());
  EXPECT_EQ(*second, EngineCursor(43));
  const std::string warning = "accepted an unsealed cursor";
  EXPECT_THAT(log, HasSubstr(warning));
  EXPECT_EQ(log.find(warning), log.rfind(warning)) << "warned twice: " << log;
}

TEST(CursorSealTest, ParsesKeyFiles) {
  absl::StatusOr<std::vector<std::string>> keys =
      CursorSealer::ParseKeys(absl::StrCat("# new key first\n", kKeyB, "\r\n\n  ", kKeyA, "  \n"));
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_EQ(*keys, (std::vector<std::string>{kKeyB, kKeyA}));
  EXPECT_THAT(CursorSealer::ParseKeys("\n# nothing\n").status().message(), HasSubstr("holds no key"));
  EXPECT_THAT(CursorSealer::ParseKeys("short\n").status().message(),
              HasSubstr("line 1: a key needs at least 16 bytes"));
}

class CursorKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/imapc-cursor-key-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_EQ(system(absl::StrCat("rm -rf '", dir_, "'").c_str()), 0); }
  std::string dir_;
};

// The first start makes a private key; later starts use the same one, so
// cursors survive restarts.
TEST_F(CursorKeyFileTest, CreatesAPrivateKeyOnceInTheDataDirectory) {
  absl::StatusOr<CursorSealer> first = CursorSealer::Load("", dir_);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string path = absl::StrCat(dir_, "/", CursorSealer::kKeyFileName);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string token = first->Seal("sales", EngineCursor());

  absl::StatusOr<CursorSealer> second = CursorSealer::Load("", dir_);
  ASSERT_TRUE(second.ok()) << second.status();
  absl::StatusOr<std::string> raw = second->Open("sales", token);
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_EQ(*raw, EngineCursor());

  // Another data directory means another key.
  const std::string other = dir_ + "/other";
  ASSERT_EQ(mkdir(other.c_str(), 0700), 0);
  absl::StatusOr<CursorSealer> third = CursorSealer::Load("", other);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->Open("sales", token).ok());
}

TEST_F(CursorKeyFileTest, UsesTheOperatorsKeyFile) {
  const std::string file = dir_ + "/secret";
  std::ofstream(file) << kKeyB << "\n" << kKeyA << "\n";
  absl::StatusOr<CursorSealer> sealer = CursorSealer::Load(file, dir_);
  ASSERT_TRUE(sealer.ok()) << sealer.status();
  EXPECT_EQ(sealer->Seal("sales", EngineCursor()), CursorSealer({kKeyB}).Seal("sales", EngineCursor()));
  // No key is generated in the data directory then.
  struct stat st;
  EXPECT_NE(stat(absl::StrCat(dir_, "/", CursorSealer::kKeyFileName).c_str(), &st), 0);

  EXPECT_EQ(CursorSealer::Load(dir_ + "/missing", dir_).status().code(), absl::StatusCode::kNotFound);
  std::ofstream(file) << "tiny\n";
  absl::StatusOr<CursorSealer> bad = CursorSealer::Load(file, dir_);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr(file));
}

}  // namespace
}  // namespace server
