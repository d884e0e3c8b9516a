#include "server/datetime_format.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace server {
namespace {

constexpr absl::string_view kRfc3339 = "RFC3339";
constexpr absl::string_view kEpochMillis = "EPOCH_MILLIS";
constexpr size_t kMaxFormatLength = 256;

// Conversions after '%' that render the same whatever the locale.
constexpr absl::string_view kPlainConversions = "YymdeHIMSpjaAbBFTzZ%";
// Extensions after "%E": absl's seconds with fractions and RFC 3339 offsets.
constexpr absl::string_view kExtendedConversions[] = {"Ez", "E*z", "E3S", "E6S", "E9S", "E*S"};

}  // namespace

absl::Status ValidateDateTimeFormat(absl::string_view format) {
  if (format.empty() || format == kRfc3339 || format == kEpochMillis) return absl::OkStatus();
  if (format.size() > kMaxFormatLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("is longer than ", kMaxFormatLength, " characters"));
  }
  size_t i = 0;
  while (i < format.size()) {
    const auto c = static_cast<unsigned char>(format[i]);
    if (c < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat("at position ", i + 1, ": control character"));
    }
    if (c != '%') {
      ++i;
      continue;
    }
    if (i + 1 >= format.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("at position ", i + 1, ": '%' at the end (write %% for a percent sign)"));
    }
    if (kPlainConversions.find(format[i + 1]) != absl::string_view::npos) {
      i += 2;
      continue;
    }
    bool extended = false;
    for (absl::string_view e : kExtendedConversions) {
      if (absl::StartsWith(format.substr(i + 1), e)) {
        i += 1 + e.size();
        extended = true;
        break;
      }
    }
    if (extended) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        "at position ", i + 1, ": '%", format.substr(i + 1, 1),
        "' is not a supported conversion (use %Y %m %d %H %M %S %z and the like)"));
  }
  return absl::OkStatus();
}

std::string FormatDateTime(absl::Time t, absl::string_view format) {
  if (format == kEpochMillis) return absl::StrCat(absl::ToUnixMillis(t));
  if (format.empty() || format == kRfc3339) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
  }
  return absl::FormatTime(std::string(format), t, absl::UTCTimeZone());
}

}  // namespace server
