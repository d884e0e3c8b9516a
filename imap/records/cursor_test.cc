#include "imap/records/cursor.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imap::records {
namespace {

using ::testing::HasSubstr;

TEST(Cursor, EncodesAndDecodesEveryFolder) {
  Cursor c;
  c.Advance("INBOX", 7, 42, 1001);
  c.Advance("Archive/2024", 9, 3);
  c.Advance("Entwürfe \"x\"", 11, 4000000000u);
  absl::StatusOr<Cursor> back = Cursor::Decode(c.Encode());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, c);
  ASSERT_NE(back->Find("INBOX"), nullptr);
  EXPECT_EQ(back->Find("INBOX")->last_uid, 42u);
  EXPECT_EQ(back->Find("INBOX")->modseq, 1001u);
  EXPECT_EQ(back->Find("Drafts"), nullptr);
}

TEST(Cursor, AdvanceNeverGoesBackAndRestartsOnNewUidValidity) {
  Cursor c;
  c.Advance("INBOX", 7, 42);
  c.Advance("INBOX", 7, 10);
  EXPECT_EQ(c.Find("INBOX")->last_uid, 42u);
  c.Advance("INBOX", 8, 10);
  EXPECT_EQ(c.Find("INBOX")->uid_validity, 8u);
  EXPECT_EQ(c.Find("INBOX")->last_uid, 10u);
}

TEST(Cursor, EmptyIsTheEmptyString) {
  EXPECT_EQ(Cursor().Encode(), "");
  absl::StatusOr<Cursor> c = Cursor::Decode("");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->empty());
}

TEST(Cursor, DamagedCursorsAreRefusedWithAReason) {
  Cursor good;
  good.Advance("INBOX", 7, 42);
  std::string token = good.Encode();
  EXPECT_THAT(std::string(Cursor::Decode("hello").status().message()), HasSubstr("c1."));
  EXPECT_THAT(std::string(Cursor::Decode("c1.!!!").status().message()), HasSubstr("base64url"));
  EXPECT_THAT(std::string(Cursor::Decode("c1.SU5CT1g").status().message()), HasSubstr("damaged"));
  token.back() = token.back() == 'A' ? 'B' : 'A';  // changes the last digits
  absl::StatusOr<Cursor> changed = Cursor::Decode(token);
  if (changed.ok()) {
    EXPECT_FALSE(*changed == good);
  }
  EXPECT_EQ(Cursor::Decode("c1.").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace imap::records
