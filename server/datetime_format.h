// The connection's "date-time format": how timestamps are rendered as text.
// Presets "RFC3339" (also the empty string) and "EPOCH_MILLIS", or a
// strftime-style pattern: %Y %y %m %d %e %H %I %M %S %p %j %a %A %b %B %F
// %T %z %Z %%, plus %E3S / %E6S / %E*S (seconds with fractions) and %Ez
// (+hh:mm). Rendered in UTC.
//
//   FormatDateTime(t, "%Y-%m-%d %H:%M:%S")  -> "2024-01-06 09:00:00"
#ifndef SERVER_DATETIME_FORMAT_H_
#define SERVER_DATETIME_FORMAT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace server {

// OK if `format` is a preset or a pattern of the conversions above;
// otherwise INVALID_ARGUMENT naming the 1-based character position.
absl::Status ValidateDateTimeFormat(absl::string_view format);

// Renders `t` in UTC. REQUIRES: ValidateDateTimeFormat(format).ok().
std::string FormatDateTime(absl::Time t, absl::string_view format);

}  // namespace server

#endif  // SERVER_DATETIME_FORMAT_H_
