// The connection's "date-time format": how timestamps are rendered as text.
// Presets "RFC3339" (also the empty string) and "EPOCH_MILLIS", or a
// Java-style pattern of yyyy yy MM MMM dd HH hh mm ss SSS a XXX Z and
// 'quoted text' ('' is a quote). Rendered in UTC.
//
//   FormatDateTime(t, "yyyy-MM-dd HH:mm:ss")  -> "2024-01-06 09:00:00"
#ifndef SERVER_DATETIME_FORMAT_H_
#define SERVER_DATETIME_FORMAT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace server {

// OK if `format` is a preset or a pattern FormatDateTime understands;
// otherwise INVALID_ARGUMENT naming the 1-based character position.
absl::Status ValidateDateTimeFormat(absl::string_view format);

// Renders `t` in UTC. REQUIRES: ValidateDateTimeFormat(format).ok().
std::string FormatDateTime(absl::Time t, absl::string_view format);

}  // namespace server

#endif  // SERVER_DATETIME_FORMAT_H_
