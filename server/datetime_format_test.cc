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
  EXPECT_EQ(FormatDateTime(Sample(), "yyyy-MM-dd HH:mm:ss"), "2024-02-29 13:04:05");
  EXPECT_EQ(FormatDateTime(Sample(), "dd MMM yy hh:mm a"), "29 Feb 24 01:04 PM");
  EXPECT_EQ(FormatDateTime(Sample(), "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"), "2024-02-29T13:04:05.007Z");
  EXPECT_EQ(FormatDateTime(Sample(), "HHmm Z"), "1304 +0000");
  EXPECT_EQ(FormatDateTime(Sample(), "'at' HH 'o''clock' 100%"), "at 13 o'clock 100%");
  for (const char* ok : {"", "RFC3339", "EPOCH_MILLIS", "yyyy", "'quoted: yyyy'", "HH''mm"}) {
    EXPECT_TRUE(ValidateDateTimeFormat(ok).ok()) << ok;
  }
}

TEST(DateTimeFormatTest, ErrorsNameThePosition) {
  absl::Status s = ValidateDateTimeFormat("yyyy-MM-dd QQ");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at position 12"));
  EXPECT_THAT(s.message(), HasSubstr("'QQ'"));
  EXPECT_THAT(ValidateDateTimeFormat("yyyy 'open").message(), HasSubstr("at position 6"));
  EXPECT_THAT(ValidateDateTimeFormat("yyyyy").message(), HasSubstr("'y'"));
  EXPECT_FALSE(ValidateDateTimeFormat("HH\tmm").ok());
  EXPECT_FALSE(ValidateDateTimeFormat(std::string(300, '-')).ok());
  EXPECT_FALSE(ValidateDateTimeFormat("rfc3339").ok());  // presets are case-sensitive
}

}  // namespace
}  // namespace server
