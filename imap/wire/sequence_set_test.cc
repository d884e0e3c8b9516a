#include "imap/wire/sequence_set.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imap::wire {
namespace {

using ::testing::ElementsAre;

TEST(UidSetTest, AddMergesRanges) {
  UidSet s;
  for (uint32_t n : {7u, 3u, 1u, 2u, 9u, 10u, 12u, 11u}) s.Add(n);
  EXPECT_EQ(s.ToString(), "1:3,7,9:12");
  EXPECT_EQ(s.size(), 8u);
  s.AddRange(4, 6);
  EXPECT_EQ(s.ToString(), "1:7,9:12");
  s.AddRange(8, 8);
  EXPECT_EQ(s.ToString(), "1:12");
  EXPECT_TRUE(s.Contains(12));
  EXPECT_FALSE(s.Contains(13));
  s.Remove(5);
  EXPECT_EQ(s.ToString(), "1:4,6:12");
  s.Remove(1);
  s.Remove(12);
  EXPECT_EQ(s.ToString(), "2:4,6:11");
  EXPECT_EQ(s.min(), 2u);
  EXPECT_EQ(s.max(), 11u);
}

TEST(UidSetTest, HugeRangesStayCheap) {
  absl::StatusOr<UidSet> s = UidSet::Parse("1:4294967295");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->size(), 4294967295u);
  EXPECT_EQ(s->ranges().size(), 1u);
  s->AddRange(4294967295u, 4294967295u);
  EXPECT_EQ(s->ToString(), "1:4294967295");
}

TEST(UidSetTest, Parse) {
  EXPECT_EQ(UidSet::Parse("5:3,9,1").value().ToString(), "1,3:5,9");
  EXPECT_EQ(UidSet::Parse("1,2,3").value().ToVector(), (std::vector<uint32_t>{1, 2, 3}));
  for (const char* bad : {"", "0", "1:", ":2", "1,,2", "a", "1:4294967296", "3 4", "*", "1:*"}) {
    EXPECT_FALSE(UidSet::Parse(bad).ok()) << bad;
  }
}

TEST(UidSetTest, Chunks) {
  UidSet s = UidSet::Parse("1:5,10,20:22").value();
  std::vector<std::string> parts;
  for (const UidSet& c : s.Chunks(3)) parts.push_back(c.ToString());
  EXPECT_THAT(parts, ElementsAre("1:3", "4:5,10", "20:22"));
  EXPECT_TRUE(s.Chunks(0).empty());
}

TEST(UidSetTest, ChunksAlsoBoundTheRanges) {
  UidSet s;
  for (uint32_t n = 1; n <= 20; n += 2) s.Add(n);  // 10 ranges: 1,3,...,19
  s.AddRange(100, 200);
  std::vector<std::string> parts;
  for (const UidSet& c : s.Chunks(1000, 4)) parts.push_back(c.ToString());
  EXPECT_THAT(parts, ::testing::ElementsAre("1,3,5,7", "9,11,13,15", "17,19,100:200"));
  parts.clear();
  for (const UidSet& c : s.Chunks(50, 4)) parts.push_back(c.ToString());
  EXPECT_THAT(parts, ::testing::ElementsAre("1,3,5,7", "9,11,13,15", "17,19,100:147", "148:197",
                                            "198:200"));
  EXPECT_TRUE(s.Chunks(10, 0).empty());
}

}  // namespace
}  // namespace imap::wire
