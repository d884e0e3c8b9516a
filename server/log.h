// One-line log records on stderr, with a UTC timestamp and a severity.
// Callers never pass passwords or tokens; Connection protos are logged by
// name only.
//
//   LogInfo(absl::StrCat("listening on ", address));
#ifndef SERVER_LOG_H_
#define SERVER_LOG_H_

#include "absl/strings/string_view.h"

namespace server {

// Thread-safe; each call writes one whole line.
void LogInfo(absl::string_view message);
void LogWarning(absl::string_view message);
void LogError(absl::string_view message);

}  // namespace server

#endif  // SERVER_LOG_H_
