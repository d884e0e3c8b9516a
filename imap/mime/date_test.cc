#include "imap/mime/date.h"

#include <ostream>
#include <random>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imap::mime {

void PrintTo(const Defect& d, std::ostream* os) { *os << "{" << d.where << ": " << d.what << "}"; }

namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// "YYYY-MM-DDTHH:MM:SSZ", "none" without a time, and "~" appended when the
// UTC offset was assumed.
std::string Iso(absl::string_view raw, Defects* d = nullptr) {
  const ParsedDate p = ParseDate(raw, d);
  EXPECT_EQ(p.raw, raw);
  if (!p.utc.has_value()) return "none";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", *p.utc, absl::UTCTimeZone()) +
         (p.assumed_utc ? "~" : "");
}

// RFC 5322 Appendix A.
TEST(ParseDateTest, Rfc5322Examples) {
  Defects d;
  EXPECT_EQ(Iso("Fri, 21 Nov 1997 09:55:06 -0600", &d), "1997-11-21T15:55:06Z");
  EXPECT_EQ(Iso("Tue, 1 Jul 2003 10:52:37 +0200", &d), "2003-07-01T08:52:37Z");
  EXPECT_EQ(Iso("Thu, 13 Feb 1969 23:32:54 -0330", &d), "1969-02-14T03:02:54Z");
  // A.5: folding white space and a comment.
  EXPECT_EQ(Iso("Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
                "               -0330 (Newfoundland Time)",
                &d),
            "1969-02-14T03:02:00Z");
  EXPECT_THAT(d, IsEmpty());
  // A.6.2: obsolete two-digit year and zone name, no day of week.
  EXPECT_EQ(Iso("21 Nov 97 09:55:06 GMT", &d), "1997-11-21T09:55:06Z");
  EXPECT_THAT(d, ElementsAre(Defect{"header Date", "two-digit year"}));
  // A.6.3: comments and whitespace inside the time.
  EXPECT_EQ(Iso("Fri, 21 Nov 1997 09(comment):   55  :  06 -0600"), "1997-11-21T15:55:06Z");
}

TEST(ParseDateTest, ObsoleteZoneNames) {
  struct Case {
    const char* zone;
    const char* utc;
  };
  const Case cases[] = {
      {"UT", "2000-01-01T12:00:00Z"},  {"GMT", "2000-01-01T12:00:00Z"},
      {"UTC", "2000-01-01T12:00:00Z"}, {"Z", "2000-01-01T12:00:00Z"},
      {"z", "2000-01-01T12:00:00Z"},   {"EST", "2000-01-01T17:00:00Z"},
      {"EDT", "2000-01-01T16:00:00Z"}, {"CST", "2000-01-01T18:00:00Z"},
      {"CDT", "2000-01-01T17:00:00Z"}, {"MST", "2000-01-01T19:00:00Z"},
      {"MDT", "2000-01-01T18:00:00Z"}, {"PST", "2000-01-01T20:00:00Z"},
      {"pdt", "2000-01-01T19:00:00Z"},
  };
  for (const Case& c : cases) {
    Defects d;
    EXPECT_EQ(Iso(std::string("Sat, 1 Jan 2000 12:00:00 ") + c.zone, &d), c.utc) << c.zone;
    EXPECT_THAT(d, IsEmpty()) << c.zone;
  }
}

// RFC 5322 3.3 and 4.3: no usable offset, so UTC is assumed and said so.
TEST(ParseDateTest, ZonesWithoutAnOffset) {
  Defects d;
  // Corpus: mikel-mail__error_emails_trademark_character_in_subject.eml
  EXPECT_EQ(Iso("Tue, 12 Oct 2010 16:21:05 -0000", &d), "2010-10-12T16:21:05Z~");
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00 A", &d), "2000-01-01T12:00:00Z~");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00 y", &d), "2000-01-01T12:00:00Z~");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00 CEST", &d), "2000-01-01T12:00:00Z~");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00", &d), "2000-01-01T12:00:00Z~");
  EXPECT_THAT(d, ElementsAre(Defect{"header Date", "military zone; UTC assumed"},
                             Defect{"header Date", "military zone; UTC assumed"},
                             Defect{"header Date", "unknown zone 'CEST'; UTC assumed"},
                             Defect{"header Date", "no zone; UTC assumed"}));
}

TEST(ParseDateTest, LenientForms) {
  Defects d;
  EXPECT_EQ(Iso("wed, 15 dec 2010 12:21:20 -0500", &d), "2010-12-15T17:21:20Z");
  EXPECT_EQ(Iso("Wednesday, 15 December 2010 12:21 -0500", &d), "2010-12-15T17:21:00Z");
  EXPECT_EQ(Iso("  Wed ,  15   Dec   2010   12:21:20   -0500  ", &d), "2010-12-15T17:21:20Z");
  EXPECT_EQ(Iso("15 Sept 2010 12:00 +0000", &d), "2010-09-15T12:00:00Z");
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00 0200", &d), "2000-01-01T10:00:00Z");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00 +05:30", &d), "2000-01-01T06:30:00Z");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00 GMT+0100", &d), "2000-01-01T11:00:00Z");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00-0500", &d), "2000-01-01T17:00:00Z");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00.250 +0000", &d), "2000-01-01T12:00:00Z");
  EXPECT_EQ(Iso("15-Dec-2010 12:00:00 +0000", &d), "2010-12-15T12:00:00Z");
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00 +0000 GMT", &d), "2000-01-01T12:00:00Z");
  EXPECT_THAT(d, ElementsAre(Defect{"header Date", "zone without sign; '+' assumed"},
                             Defect{"header Date", "non-standard zone offset"},
                             Defect{"header Date", "zone name followed by an offset"},
                             Defect{"header Date", "no space between time and zone"},
                             Defect{"header Date", "fractional seconds ignored"},
                             Defect{"header Date", "date parts separated by '-'"},
                             Defect{"header Date", "text after the zone ignored"}));
  // asctime() order, no zone.
  EXPECT_EQ(Iso("Wed Dec 15 12:00:00 2010"), "2010-12-15T12:00:00Z~");
  EXPECT_EQ(Iso("Dec 15 2010 12:00:00 +0100"), "2010-12-15T11:00:00Z");
}

// RFC 5322 4.3: 00-49 are 20xx, 50-99 and three digits are 19xx + n.
TEST(ParseDateTest, ShortYears) {
  EXPECT_EQ(Iso("1 Jan 00 00:00 +0000"), "2000-01-01T00:00:00Z");
  EXPECT_EQ(Iso("1 Jan 49 00:00 +0000"), "2049-01-01T00:00:00Z");
  EXPECT_EQ(Iso("1 Jan 50 00:00 +0000"), "1950-01-01T00:00:00Z");
  EXPECT_EQ(Iso("1 Jan 99 00:00 +0000"), "1999-01-01T00:00:00Z");
  EXPECT_EQ(Iso("1 Jan 103 00:00 +0000"), "2003-01-01T00:00:00Z");
}

TEST(ParseDateTest, OutOfRangeValuesAreRefused) {
  for (const char* raw :
       {"31 Apr 2010 12:00:00 +0000", "29 Feb 2011 12:00:00 +0000", "29 Feb 1900 12:00:00 +0000",
        "0 Jan 2010 12:00:00 +0000", "32 Jan 2010 12:00:00 +0000", "1 Jan 2010 24:00:00 +0000",
        "1 Jan 2010 12:60:00 +0000", "1 Jan 2010 12:00:61 +0000", "1 Jan 2010 12:00:00 +2400",
        "1 Jan 2010 12:00:00 +0160", "1 Jan 1899 12:00:00 +0000", "1 Jan 12345 12:00:00 +0000",
        "1 Jan 2010 123:00:00 +0000"}) {
    Defects d;
    EXPECT_EQ(Iso(raw, &d), "none") << raw;
    EXPECT_THAT(d, Contains(Field(&Defect::what, HasSubstr("date not understood")))) << raw;
  }
  EXPECT_EQ(Iso("29 Feb 2012 12:00:00 +0000"), "2012-02-29T12:00:00Z");
  EXPECT_EQ(Iso("29 Feb 2000 12:00:00 +0000"), "2000-02-29T12:00:00Z");
  // A leap second is a valid value; it reads as the next second.
  EXPECT_EQ(Iso("Sat, 31 Dec 2016 23:59:60 +0000"), "2017-01-01T00:00:00Z");
}

TEST(ParseDateTest, WrongDayOfWeekIsADefectOnly) {
  Defects d;
  EXPECT_EQ(Iso("Mon, 21 Nov 1997 09:55:06 -0600", &d), "1997-11-21T15:55:06Z");
  EXPECT_THAT(d, ElementsAre(Defect{"header Date", "day of week does not match the date"}));
}

// Date fields from the dev corpus.
TEST(ParseDateTest, CorpusDates) {
  // mikel-mail__error_emails_bad_date_header2.eml: hour 59.
  EXPECT_EQ(Iso("Wed, 15 Dec 2010    59:10 -0500"), "none");
  // mikel-mail__error_emails_bad_date_header.eml
  EXPECT_EQ(Iso("       <HR>"), "none");
  // mimekit__messages_*: a Polish date with a typo.
  EXPECT_EQ(Iso("Pn, 29 paX 2007 21:13:00 +0100"), "none");
  // mimekit__messages_disposition-notification.txt: the comment is not the zone.
  EXPECT_EQ(Iso("Wed, 20 Sep 1995 00:19:00 (EDT) -0400"), "1995-09-20T04:19:00Z");
  // mimekit__messages_feedback-report.txt
  EXPECT_EQ(Iso("Thu, 8 Mar 2005 17:40:36 EDT"), "2005-03-08T21:40:36Z");
  // mikel-mail__error_emails_content_transfer_encoding_with_8bits.eml
  EXPECT_EQ(Iso("Tue, 04 Dec 2001 17:11:25 -0459"), "2001-12-04T22:10:25Z");
  // A far-future year from the corpus is still a valid date.
  EXPECT_EQ(Iso("Tue, 30 Jun 3609 15:33:50 +0600"), "3609-06-30T09:33:50Z");
}

TEST(ParseDateTest, NoTimeOrNothing) {
  EXPECT_EQ(Iso(""), "none");
  EXPECT_EQ(Iso("Wed, 15 Dec 2010"), "none");
  EXPECT_EQ(Iso("Wed, 15 Dec 2010 noon +0000"), "none");
  EXPECT_EQ(Iso("(only a comment)"), "none");
  EXPECT_EQ(Iso("Dec"), "none");
}

TEST(ParseDateTest, RandomInputNeverCrashes) {
  std::mt19937 rng(9);
  const std::string alphabet = "0123456789 :,+-()ADFJMNOSTadecnuv\\\r\n\xff";
  for (int n = 0; n < 5000; ++n) {
    std::string s;
    const size_t len = rng() % 40;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    const ParsedDate p = ParseDate(s, nullptr);
    EXPECT_EQ(p.raw, s);
    if (p.utc.has_value()) {
      EXPECT_GT(*p.utc,
                absl::FromCivil(absl::CivilSecond(1899, 12, 30, 0, 0, 0), absl::UTCTimeZone()));
    }
  }
  EXPECT_EQ(Iso(std::string(100000, '(')), "none");
  EXPECT_EQ(Iso(std::string(100000, ':')), "none");
}

TEST(ParseDateTest, NamesInAnyCaseAndTimesOfTwoOrThreeParts) {
  Defects d;
  EXPECT_EQ(Iso("WED, 15 DEC 2010 12:21:20 -0500", &d), "2010-12-15T17:21:20Z");
  EXPECT_EQ(Iso("Sat, 1 jAnUaRy 2000 00:00 +0000", &d), "2000-01-01T00:00:00Z");
  EXPECT_THAT(d, IsEmpty());
  EXPECT_EQ(Iso("1 Jan 2000 12:00:00:00 +0000", &d), "none");
  EXPECT_EQ(Iso("1 Jan 2000 12 +0000", &d), "none");
  EXPECT_THAT(d, ElementsAre(Field(&Defect::what, HasSubstr("bad time")),
                             Field(&Defect::what, HasSubstr("bad time"))));
}

}  // namespace
}  // namespace imap::mime
