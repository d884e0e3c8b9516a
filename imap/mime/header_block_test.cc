#include "imap/mime/header_block.h"

#include <ostream>
#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace imap::mime {

// Readable failure messages for defect lists.
void PrintTo(const Defect& d, std::ostream* os) { *os << "{" << d.where << ": " << d.what << "}"; }

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kWhere[] = "headers";

std::vector<std::string> Names(const HeaderBlock& h) {
  std::vector<std::string> out;
  for (const HeaderField& f : h.fields()) out.push_back(f.name);
  return out;
}

TEST(HeaderBlockTest, FieldsInOrderWithCaseInsensitiveLookup) {
  Defects d;
  const HeaderBlock h = HeaderBlock::Parse(
      "Received: from a\r\nReceived: from b\r\nSubject: Hello\r\nX-Empty:\r\n\r\nbody: no\r\n", &d,
      kWhere);
  EXPECT_THAT(Names(h), ElementsAre("Received", "Received", "Subject", "X-Empty"));
  EXPECT_EQ(h.Get("SUBJECT").value(), "Hello");
  EXPECT_EQ(h.Get("received").value(), "from a");
  EXPECT_THAT(h.GetAll("RECEIVED"), ElementsAre("from a", "from b"));
  EXPECT_EQ(h.Get("x-empty").value(), "");
  EXPECT_FALSE(h.Get("body").has_value());
  EXPECT_THAT(h.GetAll("body"), IsEmpty());
  EXPECT_THAT(d, IsEmpty());
}

// RFC 5322 2.2.3 and Appendix A.5.
TEST(HeaderBlockTest, UnfoldsButKeepsRawValue) {
  const HeaderBlock h = HeaderBlock::Parse(
      "Subject: This\r\n is a test\r\nTo: A Group(Some people)\r\n     :Chris Jones "
      "<c@(Chris's host.)public.example>,\r\n         joe@example.org\r\n",
      nullptr, kWhere);
  ASSERT_THAT(h.fields(), SizeIs(2));
  EXPECT_EQ(h.fields()[0].raw_value, " This\r\n is a test");
  EXPECT_EQ(h.fields()[0].value, "This is a test");
  EXPECT_EQ(h.Get("to").value(),
            "A Group(Some people)     :Chris Jones <c@(Chris's host.)public.example>,"
            "         joe@example.org");
}

TEST(HeaderBlockTest, LfLineEndsAndTrailingWhitespace) {
  const HeaderBlock h = HeaderBlock::Parse(
      "Subject:   spaced out  \nTo: a@x\n\tb@y\n\nignored: x\n", nullptr, kWhere);
  EXPECT_EQ(h.Get("subject").value(), "spaced out");
  EXPECT_EQ(h.fields()[0].raw_value, "   spaced out  ");
  EXPECT_EQ(h.Get("to").value(), "a@x\tb@y");
  EXPECT_THAT(h.fields(), SizeIs(2));
}

// obs-fold: a continuation line of whitespace only. From the corpus,
// mikel-mail__error_emails_new_line_in_to_header.eml.
TEST(HeaderBlockTest, WhitespaceOnlyLineContinuesTheField) {
  Defects d;
  const HeaderBlock h = HeaderBlock::Parse(
      "To: leads@sg.dc.com,\r\n\t sag@leads.gs.ry.com,\r\n\t jp@t-exmaple.com,\r\n\t\r\n"
      "\tcc@c-l-example.com\r\nSubject: [Online Lead] Online Lead #1111111\r\n",
      &d, kWhere);
  EXPECT_EQ(h.Get("to").value(),
            "leads@sg.dc.com,\t sag@leads.gs.ry.com,\t jp@t-exmaple.com,\t\tcc@c-l-example.com");
  EXPECT_EQ(h.Get("subject").value(), "[Online Lead] Online Lead #1111111");
  EXPECT_THAT(d, IsEmpty());
}

TEST(HeaderBlockTest, LineWithoutColonJoinsTheFieldBefore) {
  Defects d;
  const HeaderBlock h =
      HeaderBlock::Parse("To: a@x.test,\r\nb@y.test\r\nSubject: s\r\n", &d, kWhere);
  EXPECT_EQ(h.Get("to").value(), "a@x.test, b@y.test");
  EXPECT_EQ(h.fields()[0].raw_value, " a@x.test,\r\nb@y.test");
  EXPECT_EQ(h.Get("subject").value(), "s");
  EXPECT_THAT(
      d, ElementsAre(Defect{kWhere, "header line 2 has no colon; joined to the field before it"}));
}

// From the corpus, mikel-mail__plain_emails_raw_email_incorrect_header.eml.
TEST(HeaderBlockTest, InvalidNameIsSkippedWithItsContinuation) {
  Defects d;
  const HeaderBlock h = HeaderBlock::Parse(
      "Received-SPF: softfail\r\n receiver=xxx.com\r\nquite Delivered-To: xxx@xxx.xxx\r\n"
      " more\r\nDate: Wed, 23 Feb 2005 18:20:17 -0400\r\n",
      &d, kWhere);
  EXPECT_THAT(Names(h), ElementsAre("Received-SPF", "Date"));
  EXPECT_EQ(h.Get("received-spf").value(), "softfail receiver=xxx.com");
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "header line 3 has an invalid field name; skipped"}));
}

// RFC 5322 4.5.1 obs-optional; the corpus's rfc2822/example13.eml.
TEST(HeaderBlockTest, WhitespaceBeforeColon) {
  Defects d;
  const HeaderBlock h = HeaderBlock::Parse(
      "From  : John Doe <jdoe@machine.example>\r\nSubject     : Saying Hello\r\n", &d, kWhere);
  EXPECT_THAT(Names(h), ElementsAre("From", "Subject"));
  EXPECT_EQ(h.Get("subject").value(), "Saying Hello");
  EXPECT_THAT(d, IsEmpty());
}

TEST(HeaderBlockTest, LinesBeforeTheFirstField) {
  Defects d;
  const HeaderBlock h =
      HeaderBlock::Parse(" stray\r\nno colon\r\n\tstill\r\n: empty name\r\nA: 1\r\n", &d, kWhere);
  EXPECT_THAT(Names(h), ElementsAre("A"));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "header line 1 continues no field; skipped"},
                             Defect{kWhere, "header line 4 has an invalid field name; skipped"}));
}

// The corpus's mimekit__messages_feedback-report.txt starts with a BOM.
TEST(HeaderBlockTest, ByteOrderMarkIsSkipped) {
  Defects d;
  const HeaderBlock h = HeaderBlock::Parse(
      "\xEF\xBB\xBF"
      "From: <abusedesk@example.com>\n",
      &d, kWhere);
  EXPECT_EQ(h.Get("from").value(), "<abusedesk@example.com>");
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "byte order mark skipped"}));
}

// Many corpus files (mikel-mail__plain_emails_raw_email.eml, ...) start
// with their mbox separator.
TEST(HeaderBlockTest, MboxFromLineIsSkipped) {
  Defects d;
  const HeaderBlock h = HeaderBlock::Parse(
      "From jamis_buck@byu.edu Mon May  2 16:07:05 2005\r\nMime-Version: 1.0 (Apple Message "
      "framework v622)\r\nFrom: Jamis Buck <jamis@37signals.com>\r\n",
      &d, kWhere);
  EXPECT_THAT(Names(h), ElementsAre("Mime-Version", "From"));
  EXPECT_THAT(d, ElementsAre(Defect{kWhere, "mbox \"From \" line skipped"}));
}

TEST(HeaderBlockTest, ManyBadLinesAreCountedNotListed) {
  std::string section;
  for (int i = 0; i < 100; ++i) section += "bad name: x\r\n";
  Defects d;
  EXPECT_THAT(HeaderBlock::Parse(section, &d, kWhere).fields(), IsEmpty());
  ASSERT_THAT(d, SizeIs(6));  // the first five, then the count of the others
  EXPECT_EQ(d[4].what, "header line 5 has an invalid field name; skipped");
  EXPECT_EQ(d[5].what, "95 more bad header lines skipped");
}

TEST(HeaderParserTest, ByteByByte) {
  const std::string msg = "Subject: a\r\n b\r\nTo: x@y\r\n\r\nBody\r\n";
  HeaderParser p;
  size_t i = 0;
  for (; i < msg.size() && !p.done(); ++i) {
    EXPECT_EQ(p.Feed(msg.substr(i, 1)), 1u) << i;
  }
  EXPECT_TRUE(p.done());
  EXPECT_EQ(i, 27u);  // just past the blank line
  EXPECT_EQ(p.consumed(), 27u);
  EXPECT_EQ(p.Feed("B"), 0u);
  const HeaderBlock h = p.TakeBlock();
  EXPECT_EQ(h.Get("subject").value(), "a b");
  EXPECT_EQ(h.Get("to").value(), "x@y");
  EXPECT_THAT(p.defects(), IsEmpty());
  EXPECT_FALSE(p.limit_exceeded());
  EXPECT_THAT(p.TakeBlock().fields(), IsEmpty());
}

TEST(HeaderParserTest, ChunkHoldingHeadersAndBody) {
  HeaderParser p;
  EXPECT_EQ(p.Feed("A: 1\nB: 2\n\nbody\n\n"), 11u);
  EXPECT_TRUE(p.done());
  EXPECT_THAT(Names(p.TakeBlock()), ElementsAre("A", "B"));
}

TEST(HeaderParserTest, BlankLineSplitAcrossChunks) {
  HeaderParser p;
  EXPECT_EQ(p.Feed("A: 1\r"), 5u);
  EXPECT_EQ(p.Feed("\n\r"), 2u);
  EXPECT_FALSE(p.done());
  EXPECT_EQ(p.Feed("\nrest"), 1u);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.consumed(), 8u);
  EXPECT_EQ(p.TakeBlock().Get("a").value(), "1");
}

TEST(HeaderParserTest, NoHeadersAtAll) {
  HeaderParser p;
  EXPECT_EQ(p.Feed("\r\nbody"), 2u);
  EXPECT_TRUE(p.done());
  EXPECT_THAT(p.TakeBlock().fields(), IsEmpty());
}

TEST(HeaderParserTest, CrInsideALineIsNotABlankLine) {
  HeaderParser p;
  EXPECT_EQ(p.Feed("A: 1\r\n\rB\r\nC: 3\r\n"), 16u);
  EXPECT_FALSE(p.done());
}

TEST(HeaderParserTest, EndOfInputWithoutBlankLine) {
  HeaderParser p(HeaderParser::kDefaultMaxBytes, "part 2 headers");
  EXPECT_EQ(p.Feed("A: 1\r\nB: 2"), 10u);
  EXPECT_FALSE(p.done());
  p.Finish();
  EXPECT_TRUE(p.done());
  EXPECT_THAT(Names(p.TakeBlock()), ElementsAre("A", "B"));
  EXPECT_THAT(p.defects(),
              ElementsAre(Defect{"part 2 headers", "header section not ended by an empty line"}));
}

TEST(HeaderParserTest, StopsAtTheSizeLimit) {
  HeaderParser p(16);
  EXPECT_EQ(p.Feed("Subject: 0123456789abcdef\r\n\r\n"), 16u);
  EXPECT_TRUE(p.done());
  EXPECT_TRUE(p.limit_exceeded());
  EXPECT_EQ(p.consumed(), 16u);
  EXPECT_EQ(p.TakeBlock().Get("subject").value(), "0123456");
  EXPECT_THAT(p.defects(),
              ElementsAre(Defect{"headers",
                                 "header section longer than 16 bytes; the rest is not "
                                 "read as headers"}));
}

TEST(HeaderParserTest, SectionOfExactlyTheLimitFits) {
  HeaderParser p(8);
  EXPECT_EQ(p.Feed("A: 1\r\n\r\nbody"), 8u);
  EXPECT_TRUE(p.done());
  EXPECT_FALSE(p.limit_exceeded());
}

TEST(HeaderParserTest, RandomChunkingGivesTheSameFields) {
  const std::string msg =
      "Received: from x\r\n\tby y\r\nFrom: a@b\r\nbroken line\r\nSubject: s\r\n\r\nbody\r\n";
  Defects whole_defects;
  const HeaderBlock whole = HeaderBlock::Parse(msg, &whole_defects, "headers");
  std::mt19937 rng(5);
  for (int n = 0; n < 200; ++n) {
    HeaderParser p;
    size_t off = 0;
    while (!p.done() && off < msg.size()) {
      const size_t len = 1 + rng() % 9;
      const std::string chunk = msg.substr(off, len);
      const size_t used = p.Feed(chunk);
      off += used;
      if (used < chunk.size()) break;
    }
    ASSERT_TRUE(p.done());
    EXPECT_EQ(off, msg.size() - 6);
    const HeaderBlock h = p.TakeBlock();
    ASSERT_EQ(h.fields().size(), whole.fields().size());
    for (size_t i = 0; i < h.fields().size(); ++i) {
      EXPECT_EQ(h.fields()[i].raw_value, whole.fields()[i].raw_value);
    }
    EXPECT_EQ(p.defects(), whole_defects);
  }
}

// A value on one line is only trimmed; a folded one loses its line breaks
// but keeps a lone CR, which is no line break, and whitespace inside.
TEST(HeaderBlockTest, UnfoldingOneLineAndFoldedValues) {
  const HeaderBlock h = HeaderBlock::Parse(
      "A: \t one line \t\r\nB: a\rb\r\nC:\r\n \t\r\n  starts on a fold \r\n \r\n"
      "D: x\r\n\ty\r\n z\r\nE:\r\n \r\n",
      nullptr, kWhere);
  ASSERT_THAT(h.fields(), SizeIs(5));
  EXPECT_EQ(h.Get("a").value(), "one line");
  EXPECT_EQ(h.fields()[0].raw_value, " \t one line \t");
  EXPECT_EQ(h.Get("b").value(), "a\rb");
  EXPECT_EQ(h.Get("c").value(), "starts on a fold");
  EXPECT_EQ(h.fields()[2].raw_value, "\r\n \t\r\n  starts on a fold \r\n ");
  EXPECT_EQ(h.Get("d").value(), "x\ty z");
  EXPECT_EQ(h.Get("e").value(), "");
}

// Many fields (more than any first guess at their number) stay in order.
TEST(HeaderBlockTest, ManyShortFields) {
  std::string section;
  for (int i = 0; i < 500; ++i) section += "X" + std::to_string(i) + ":" + std::to_string(i) + "\n";
  const HeaderBlock h = HeaderBlock::Parse(section, nullptr, kWhere);
  ASSERT_THAT(h.fields(), SizeIs(500));
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(h.fields()[i].name, "X" + std::to_string(i));
    EXPECT_EQ(h.fields()[i].value, std::to_string(i));
  }
}

}  // namespace
}  // namespace imap::mime
