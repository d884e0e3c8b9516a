#include "server/status_convert.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "imap/util/utf8.h"

namespace server {
namespace {

using ::testing::HasSubstr;

TEST(QuoteTest, ShortValuesAreQuotedWhole) {
  EXPECT_EQ(Quote("sales"), "'sales'");
  EXPECT_EQ(Quote("INBOX", '"'), "\"INBOX\"");
  EXPECT_EQ(Quote(""), "''");
  EXPECT_EQ(Quote(std::string(100, 'a')), absl::StrCat("'", std::string(100, 'a'), "'"));
}

TEST(QuoteTest, LongValuesKeepTheirFirstHundredCharactersAndLength) {
  EXPECT_EQ(Quote(std::string(10240, 'a')), absl::StrCat("'", std::string(100, 'a'), "…' (10240 bytes)"));
  EXPECT_EQ(Quote(std::string(101, 'b'), '"'), absl::StrCat("\"", std::string(100, 'b'), "…\" (101 bytes)"));
  // Characters, not bytes: a multi-byte character is never split.
  std::string umlauts;
  for (int i = 0; i < 150; ++i) umlauts += "ü";
  const std::string quoted = Quote(umlauts);
  EXPECT_TRUE(imap::IsValidUtf8(quoted));
  std::string want = "'";
  for (int i = 0; i < 100; ++i) want += "ü";
  EXPECT_EQ(quoted, absl::StrCat(want, "…' (300 bytes)"));
}

TEST(QuoteTest, ControlCharactersAndBadBytesAreEscaped) {
  EXPECT_EQ(Quote("a\r\nb\x7f"), "'a\\x0d\\x0ab\\x7f'");
  const std::string quoted = Quote("x\xff\xc3y");
  EXPECT_EQ(quoted, "'x\\xff\\xc3y'");
  EXPECT_TRUE(imap::IsValidUtf8(quoted));
}

// A value that reached a message unquoted is still cut, so the status fits
// in the metadata clients accept.
TEST(ToGrpcStatusTest, CapsMessagesAndDescriptions) {
  const std::string huge(20000, 'z');
  grpc::Status plain = ToGrpcStatus(absl::NotFoundError(huge));
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LE(plain.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_THAT(plain.error_message(), ::testing::EndsWith("…"));

  grpc::Status bad = ToGrpcStatus(InvalidFields({{"query", huge}, {"port", "is 0"}}));
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(bad.error_message().size(), kMaxStatusMessageBytes);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(bad.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest request;
  ASSERT_TRUE(request.ParseFromString(details.details(0).value()));
  ASSERT_EQ(request.field_violations_size(), 2);
  EXPECT_LE(request.field_violations(0).description().size(), kMaxDescriptionBytes);
  EXPECT_EQ(request.field_violations(1).description(), "is 0");
  EXPECT_LT(bad.error_details().size(), 4096u);
}

TEST(ToGrpcStatusTest, CutsOnACharacterBoundary) {
  std::string text;
  while (text.size() < kMaxStatusMessageBytes + 10) text += "€";
  const grpc::Status s = ToGrpcStatus(absl::InternalError(text));
  EXPECT_TRUE(imap::IsValidUtf8(s.error_message()));
  EXPECT_LE(s.error_message().size(), kMaxStatusMessageBytes);
}

}  // namespace
}  // namespace server
