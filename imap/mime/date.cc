#include "imap/mime/date.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace imap::mime {
namespace {

constexpr char kWhere[] = "header Date";

constexpr const char* kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                 "friday", "saturday", "sunday"};
constexpr const char* kMonths[] = {"january",   "february", "march",    "april",
                                   "may",       "june",     "july",     "august",
                                   "september", "october",  "november", "december"};

struct NamedZone {
  const char* name;
  int minutes;
};
// RFC 5322 4.3 obs-zone, plus "UTC".
constexpr NamedZone kZones[] = {
    {"UT", 0},        {"UTC", 0},       {"GMT", 0},       {"Z", 0},
    {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
    {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60},
};

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool AllAlpha(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Up to 4 digits to a number; -1 if not digits or longer.
int SmallNumber(absl::string_view s) {
  if (!AllDigits(s) || s.size() > 4) return -1;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Index of a name given as its first three or more letters ("Wed",
// "wednesday", "Sept"), ignoring case and a trailing '.'; -1 if none.
template <size_t N>
int NameIndex(absl::string_view token, const char* const (&names)[N]) {
  if (!token.empty() && token.back() == '.') token.remove_suffix(1);
  if (token.size() < 3 || !AllAlpha(token)) return -1;
  for (size_t i = 0; i < N; ++i) {
    const absl::string_view name = names[i];
    if (token.size() <= name.size() &&
        absl::EqualsIgnoreCase(name.substr(0, token.size()), token)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Comments and line breaks become spaces.
std::string StripComments(absl::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  int depth = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (depth > 0) {
      if (c == '\\') {
        ++i;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
        if (depth == 0) out.push_back(' ');
      }
      continue;
    }
    if (c == '(') {
      depth = 1;
    } else if (c == '\r' || c == '\n' || c == '\t') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

class DateParser {
 public:
  DateParser(absl::string_view raw, Defects* defects) : raw_(raw), defects_(defects) {}

  ParsedDate Run() {
    ParsedDate out;
    out.raw = std::string(raw_);
    Tokenize();
    if (!Parse()) return out;
    const absl::CivilSecond civil(year_, month_, day_, hour_, minute_, second_);
    out.utc = absl::FromCivil(civil, absl::UTCTimeZone()) - absl::Minutes(zone_minutes_);
    out.assumed_utc = assumed_utc_;
    return out;
  }

 private:
  void Defect(std::string what) {
    if (defects_ != nullptr) defects_->push_back({kWhere, std::move(what)});
  }

  bool Fail(absl::string_view why) {
    Defect(absl::StrCat("date not understood (", why, "): '", raw_.substr(0, 100), "'"));
    return false;
  }

  void Tokenize() {
    const std::string text = StripComments(raw_);
    tokens_.reserve(8);  // "Mon, 2 Jan 2023 12:14:52 +0000 (UTC)" has six
    std::string current;
    auto flush = [&]() {
      if (!current.empty()) tokens_.push_back(std::move(current));
      current.clear();
    };
    for (size_t k = 0; k < text.size(); ++k) {
      const char c = text[k];
      if (c == ':') {
        // obs-time allows whitespace around the colons: "09 : 55 : 06".
        if (current.empty() && !tokens_.empty()) {
          current = std::move(tokens_.back());
          tokens_.pop_back();
        }
        current.push_back(c);
        while (k + 1 < text.size() && text[k + 1] == ' ') ++k;
      } else if (c == ' ' || c == ',') {
        flush();
      } else {
        current.push_back(c);
      }
    }
    flush();
    // RFC 733/850 dates: "15-Dec-2010" (or "15-Dec-10"). Rare: the common
    // case leaves the tokens alone.
    if (std::none_of(tokens_.begin(), tokens_.end(),
                     [](const std::string& t) { return t.find('-') != std::string::npos; })) {
      return;
    }
    std::vector<std::string> split;
    for (std::string& t : tokens_) {
      const size_t d1 = t.find('-');
      const size_t d2 = d1 == std::string::npos ? d1 : t.find('-', d1 + 1);
      if (d1 != std::string::npos && d1 > 0 && d2 != std::string::npos &&
          AllDigits(absl::string_view(t).substr(0, d1)) &&
          NameIndex(absl::string_view(t).substr(d1 + 1, d2 - d1 - 1), kMonths) >= 0 &&
          AllDigits(absl::string_view(t).substr(d2 + 1))) {
        Defect("date parts separated by '-'");
        split.push_back(t.substr(0, d1));
        split.push_back(t.substr(d1 + 1, d2 - d1 - 1));
        split.push_back(t.substr(d2 + 1));
      } else {
        split.push_back(std::move(t));
      }
    }
    tokens_ = std::move(split);
  }

  absl::string_view Token(size_t i) const {
    return i < tokens_.size() ? absl::string_view(tokens_[i]) : absl::string_view();
  }

  bool Parse() {
    if (tokens_.empty()) return Fail("empty");
    size_t i = 0;
    int weekday = -1;
    if (AllAlpha(Token(0)) || (Token(0).size() > 1 && Token(0).back() == '.')) {
      weekday = NameIndex(Token(0), kDays);
      if (weekday >= 0) ++i;
    }
    absl::string_view day, year, time;
    int month = NameIndex(Token(i), kMonths);
    if (month < 0 && AllDigits(Token(i))) {
      day = Token(i);
      month = NameIndex(Token(i + 1), kMonths);
      if (month < 0) return Fail("no month");
      year = Token(i + 2);
      time = Token(i + 3);
      i += 4;
    } else if (month >= 0) {
      // "Dec 15 2010 12:00:00" or asctime's "Dec 15 12:00:00 2010".
      Defect("month before day");
      day = Token(i + 1);
      if (Token(i + 2).find(':') != absl::string_view::npos) {
        time = Token(i + 2);
        year = Token(i + 3);
      } else {
        year = Token(i + 2);
        time = Token(i + 3);
      }
      i += 4;
    } else {
      return Fail("no day or month");
    }
    month_ = month + 1;
    day_ = SmallNumber(day);
    if (day_ < 0 || day.size() > 2) return Fail("bad day");
    if (!ParseYear(year)) return false;
    // A zone glued to the time: "12:00:00-0500".
    std::string zone_glued;
    const size_t sign = time.find_first_of("+-");
    if (sign != absl::string_view::npos && sign > 0) {
      Defect("no space between time and zone");
      zone_glued = std::string(time.substr(sign));
      time = time.substr(0, sign);
    }
    if (!ParseTime(time)) return false;
    if (!CheckRanges()) return false;
    if (weekday >= 0) {
      const absl::Weekday actual = absl::GetWeekday(absl::CivilDay(year_, month_, day_));
      if (static_cast<int>(actual) != weekday) Defect("day of week does not match the date");
    }
    absl::string_view zone = zone_glued.empty() ? Token(i) : absl::string_view(zone_glued);
    if (zone_glued.empty() && i < tokens_.size()) ++i;
    if (!ParseZone(zone)) return false;
    if (i < tokens_.size()) Defect("text after the zone ignored");
    return true;
  }

  bool ParseYear(absl::string_view year) {
    const int y = SmallNumber(year);
    if (y < 0) return Fail("bad year");
    if (year.size() == 2) {
      year_ = y < 50 ? 2000 + y : 1900 + y;  // RFC 5322 4.3
      Defect("two-digit year");
    } else if (year.size() == 3) {
      year_ = 1900 + y;
      Defect("three-digit year");
    } else if (year.size() == 4) {
      year_ = y;
    } else {
      return Fail("bad year");
    }
    if (year_ < 1900) return Fail("year before 1900");
    return true;
  }

  bool ParseTime(absl::string_view time) {
    if (time.empty()) return Fail("no time");
    // hh:mm or hh:mm:ss; a fourth part is an error already.
    absl::string_view parts[4];
    size_t count = 0;
    size_t start = 0;
    while (count < 4) {
      const size_t colon = time.find(':', start);
      parts[count++] = time.substr(
          start, colon == absl::string_view::npos ? absl::string_view::npos : colon - start);
      if (colon == absl::string_view::npos) break;
      start = colon + 1;
    }
    if (count < 2 || count > 3) return Fail("bad time");
    if (count == 3) {
      const size_t dot = parts[2].find('.');
      if (dot != absl::string_view::npos) {
        if (!AllDigits(parts[2].substr(dot + 1))) return Fail("bad time");
        Defect("fractional seconds ignored");
        parts[2] = parts[2].substr(0, dot);
      }
    }
    int values[3] = {0, 0, 0};
    for (size_t k = 0; k < count; ++k) {
      if (parts[k].empty() || parts[k].size() > 2) return Fail("bad time");
      values[k] = SmallNumber(parts[k]);
      if (values[k] < 0) return Fail("bad time");
    }
    hour_ = values[0];
    minute_ = values[1];
    second_ = values[2];
    return true;
  }

  bool CheckRanges() {
    static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year_ % 4 == 0 && year_ % 100 != 0) || year_ % 400 == 0;
    const int days = kDaysIn[month_ - 1] + (month_ == 2 && leap ? 1 : 0);
    if (day_ < 1 || day_ > days) return Fail("day out of range");
    if (hour_ > 23) return Fail("hour out of range");
    if (minute_ > 59) return Fail("minute out of range");
    if (second_ > 60) return Fail("second out of range");  // 60: leap second
    return true;
  }

  // Sets zone_minutes_ and assumed_utc_.
  bool ParseZone(absl::string_view zone) {
    if (zone.empty()) {
      Defect("no zone; UTC assumed");
      assumed_utc_ = true;
      return true;
    }
    if (zone[0] == '+' || zone[0] == '-') return ParseOffset(zone);
    if (AllDigits(zone) && zone.size() == 4) {
      Defect("zone without sign; '+' assumed");
      return ParseOffset(absl::StrCat("+", zone));
    }
    // A name, perhaps with an offset: "GMT+0100".
    const size_t sign = zone.find_first_of("+-");
    const absl::string_view name = zone.substr(0, sign);
    const std::string upper = absl::AsciiStrToUpper(name);
    if (sign != absl::string_view::npos) {
      if (upper == "GMT" || upper == "UTC" || upper == "UT") {
        Defect("zone name followed by an offset");
        return ParseOffset(zone.substr(sign));
      }
      Defect(absl::StrCat("unknown zone '", zone.substr(0, 20), "'; UTC assumed"));
      assumed_utc_ = true;
      return true;
    }
    for (const NamedZone& z : kZones) {
      if (upper == z.name) {
        zone_minutes_ = z.minutes;
        return true;
      }
    }
    if (upper.size() == 1 && upper[0] >= 'A' && upper[0] <= 'Y' && upper[0] != 'J') {
      // RFC 5322 4.3: RFC 822 got their signs wrong; treat as -0000.
      Defect("military zone; UTC assumed");
      assumed_utc_ = true;
      return true;
    }
    Defect(absl::StrCat("unknown zone '", zone.substr(0, 20), "'; UTC assumed"));
    assumed_utc_ = true;
    return true;
  }

  // "+hhmm", and with a defect "+hh:mm", "+hmm", "+h", "+hh".
  bool ParseOffset(absl::string_view zone) {
    const int sign = zone[0] == '-' ? -1 : 1;
    std::string digits;
    absl::string_view rest = zone.substr(1);
    const size_t colon = rest.find(':');
    if (colon != absl::string_view::npos) {
      if (colon == 0 || colon > 2 || rest.size() - colon - 1 != 2) return Fail("bad zone");
      digits = absl::StrCat(colon == 1 ? "0" : "", rest.substr(0, colon), rest.substr(colon + 1));
    } else {
      digits = std::string(rest);
    }
    if (!AllDigits(digits) || digits.size() > 4) return Fail("bad zone");
    if (colon != absl::string_view::npos || digits.size() != 4) {
      Defect("non-standard zone offset");
    }
    int hours = 0;
    int minutes = 0;
    if (digits.size() <= 2) {
      hours = SmallNumber(digits);
    } else {
      hours = SmallNumber(absl::string_view(digits).substr(0, digits.size() - 2));
      minutes = SmallNumber(absl::string_view(digits).substr(digits.size() - 2));
    }
    if (hours > 23 || minutes > 59) return Fail("zone out of range");
    zone_minutes_ = sign * (hours * 60 + minutes);
    if (sign < 0 && zone_minutes_ == 0) assumed_utc_ = true;  // "-0000"
    return true;
  }

  absl::string_view raw_;
  Defects* defects_;
  std::vector<std::string> tokens_;
  int year_ = 0;
  int month_ = 0;
  int day_ = 0;
  int hour_ = 0;
  int minute_ = 0;
  int second_ = 0;
  int zone_minutes_ = 0;
  bool assumed_utc_ = false;
};

}  // namespace

ParsedDate ParseDate(absl::string_view raw, Defects* defects) {
  return DateParser(raw, defects).Run();
}

}  // namespace imap::mime
