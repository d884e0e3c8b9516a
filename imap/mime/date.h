// The Date field (RFC 5322 3.3 and the obsolete forms of 4.3) to a point
// in time. Lenient in form, strict in values: "Wed, 15 Dec 2010 59:10 -0500"
// has no time rather than a guessed one.
//
//   Defects defects;
//   ParsedDate d = ParseDate("Fri, 21 Nov 1997 09:55:06 -0600", &defects);
//   // *d.utc == 1997-11-21T15:55:06Z, d.assumed_utc == false
#ifndef IMAP_MIME_DATE_H_
#define IMAP_MIME_DATE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "imap/mime/defect.h"

namespace imap::mime {

struct ParsedDate {
  // The instant, or nullopt if the value could not be read or holds an
  // out-of-range field (day 31 in April, hour 24, minute 60, zone +2400,
  // year before 1900).
  absl::optional<absl::Time> utc;
  // The field value as given.
  std::string raw;
  // True if `utc` was computed as if the time were UTC because the value
  // does not say its offset: "-0000" (RFC 5322 3.3), a military zone
  // letter other than "Z" (4.3: their meaning is unreliable), an unknown
  // zone name, or no zone at all.
  bool assumed_utc = false;
};

// Parses a Date field value (unfolded or not). Accepts RFC 5322 date-time
// and its obsolete forms: no day of week, day names and month names in any
// case and in full, no seconds, two-digit years (00-49 -> 20xx, 50-99 ->
// 19xx) and three-digit years (+1900), zones UT, GMT, UTC, Z, EST, EDT,
// CST, CDT, MST, MDT, PST, PDT and military letters, comments anywhere,
// extra whitespace and commas; also tolerated with a defect: a numeric
// zone without sign (read as "+"), "+hh:mm", a zone name followed by an
// offset ("GMT+0100"), dashes between date parts ("15-Dec-2010"), the
// asctime order ("Wed Dec 15 12:00:00 2010"), fractional seconds, and
// text after the zone. A day of week that does not match the date is a
// defect but does not reject it. Leap second 60 is accepted (it reads as
// the next second). Never fails; problems go to `*defects` (if not null)
// under "header Date". Thread-safe.
ParsedDate ParseDate(absl::string_view raw, Defects* defects);

}  // namespace imap::mime

#endif  // IMAP_MIME_DATE_H_
