#include "server/datetime_format.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace server {
namespace {

constexpr absl::string_view kRfc3339 = "RFC3339";
constexpr absl::string_view kEpochMillis = "EPOCH_MILLIS";

struct Token {
  absl::string_view pattern;
  absl::string_view strftime;  // the absl::FormatTime equivalent
};

// Longest first, so "yyyy" wins over "yy" and "MMM" over "MM". Times are
// always UTC, so the offset patterns are constant ("Z" and "+0000").
constexpr Token kTokens[] = {
    {"yyyy", "%Y"}, {"MMM", "%b"}, {"XXX", "Z"}, {"SSS", "%E3f"}, {"yy", "%y"},
    {"MM", "%m"},   {"dd", "%d"},  {"HH", "%H"},   {"hh", "%I"},    {"mm", "%M"},
    {"ss", "%S"},   {"a", "%p"},   {"Z", "%z"},
};

// Translates a pattern to an absl::FormatTime format. Returns false and the
// 0-based position of the first thing it does not understand.
bool Translate(absl::string_view pattern, std::string* out, size_t* bad_at, std::string* why) {
  size_t i = 0;
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '\'') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
        out->push_back('\'');
        i += 2;
        continue;
      }
      // Quoted text runs to the next lone quote; '' inside it is a quote.
      size_t j = i + 1;
      bool closed = false;
      while (j < pattern.size()) {
        if (pattern[j] == '\'') {
          if (j + 1 < pattern.size() && pattern[j + 1] == '\'') {
            out->push_back('\'');
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        if (pattern[j] == '%') out->push_back('%');
        out->push_back(pattern[j]);
        ++j;
      }
      if (!closed) {
        *bad_at = i;
        *why = "quote without a closing quote";
        return false;
      }
      i = j + 1;
      continue;
    }
    if (absl::ascii_isalpha(static_cast<unsigned char>(c))) {
      bool matched = false;
      for (const Token& t : kTokens) {
        if (pattern.substr(i, t.pattern.size()) == t.pattern) {
          out->append(t.strftime.data(), t.strftime.size());
          i += t.pattern.size();
          matched = true;
          break;
        }
      }
      if (!matched) {
        *bad_at = i;
        size_t run = i;
        while (run < pattern.size() && pattern[run] == c) ++run;
        *why = absl::StrCat("'", pattern.substr(i, run - i),
                            "' is not a supported pattern (quote literal letters with '...')");
        return false;
      }
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      *bad_at = i;
      *why = "control character";
      return false;
    }
    if (c == '%') out->push_back('%');
    out->push_back(c);
    ++i;
  }
  return true;
}

}  // namespace

absl::Status ValidateDateTimeFormat(absl::string_view format) {
  if (format.empty() || format == kRfc3339 || format == kEpochMillis) return absl::OkStatus();
  if (format.size() > 256) return absl::InvalidArgumentError("is longer than 256 characters");
  std::string translated;
  size_t bad_at = 0;
  std::string why;
  if (!Translate(format, &translated, &bad_at, &why)) {
    return absl::InvalidArgumentError(absl::StrCat("at position ", bad_at + 1, ": ", why));
  }
  return absl::OkStatus();
}

std::string FormatDateTime(absl::Time t, absl::string_view format) {
  if (format == kEpochMillis) return absl::StrCat(absl::ToUnixMillis(t));
  if (format.empty() || format == kRfc3339) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
  }
  std::string translated;
  size_t bad_at = 0;
  std::string why;
  if (!Translate(format, &translated, &bad_at, &why)) return "";
  return absl::FormatTime(translated, t, absl::UTCTimeZone());
}

}  // namespace server
