#include "server/datetime_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace server {
namespace {

using ::testing::HasSubstr;

// 2024-02-29 13:04:05.007 UTC, a leap day in the afternoon.
absl::Time Sample() {
  return absl::FromCivil(absl::CivilSecond(2024, 2, 29, 13, 4, 5), absl::UTCTimeZone()) +
         absl::Milliseconds(7);
}

TEST(DateTimeFormatTest, Presets) {
  EXPECT_EQ(FormatDateTime(Sample(), ""), "2024-02-29T13:04:05.007Z");
  EXPECT_EQ(FormatDateTime(Sample(), "RFC3339"), "2024-02-29T13:04:05.007Z");
  EXPECT_EQ(FormatDateTime(Sample(), "EPOCH_MILLIS"), "1709211845007");
}

TEST(DateTimeFormatTest, Patterns) {
  EXPECT_EQ(FormatDateTime(Sample(), "%Y-%m-%d %H:%M:%S"), "2024-02-29 13:04:05");
  EXPECT_EQ(FormatDateTime(Sample(), "%d %b %y %I:%M %p"), "29 Feb 24 01:04 PM");
  EXPECT_EQ(FormatDateTime(Sample(), "%FT%E3S%Ez"), "2024-02-29T05.007+00:00");
  EXPECT_EQ(FormatDateTime(Sample(), "%F %T %z"), "2024-02-29 13:04:05 +0000");
  EXPECT_EQ(FormatDateTime(Sample(), "day %j, 100%%"), "day 060, 100%");
  for (const char* ok : {"", "RFC3339", "EPOCH_MILLIS", "%Y", "plain text", "%E*S", "%A %B %e"}) {
    EXPECT_TRUE(ValidateDateTimeFormat(ok).ok()) << ok;
  }
}

TEST(DateTimeFormatTest, ErrorsNameThePosition) {
  absl::Status s = ValidateDateTimeFormat("%Y-%m-%d %Q");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at position 10"));
  EXPECT_THAT(s.message(), HasSubstr("'%Q'"));
  EXPECT_THAT(ValidateDateTimeFormat("%Y %").message(), HasSubstr("at position 4"));
  EXPECT_THAT(ValidateDateTimeFormat("%c").message(), HasSubstr("'%c'"));  // locale-dependent
  EXPECT_FALSE(ValidateDateTimeFormat("%H\t%M").ok());
  EXPECT_FALSE(ValidateDateTimeFormat(std::string(300, '-')).ok());
  EXPECT_FALSE(ValidateDateTimeFormat("%E5S").ok());
}

}  // namespace
}  // namespace server
