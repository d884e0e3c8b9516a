#include "imap/wire/response_parser.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "imap/util/error_kind.h"

namespace imap::wire {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Feeds `input` whole and returns every response, failing on error.
std::vector<Response> ParseAll(const std::string& input) {
  ResponseParser parser;
  parser.Feed(input);
  std::vector<Response> out;
  while (true) {
    absl::StatusOr<absl::optional<Response>> r = parser.Next();
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || !r->has_value()) break;
    out.push_back(**r);
  }
  EXPECT_EQ(parser.buffered(), 0u);
  return out;
}

// Feeds `input` one byte at a time; every call before the response's last
// byte must answer need-more.
std::vector<Response> ParseByteByByte(const std::string& input) {
  ResponseParser parser;
  std::vector<Response> out;
  for (char c : input) {
    parser.Feed(std::string(1, c));
    while (true) {
      absl::StatusOr<absl::optional<Response>> r = parser.Next();
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok() || !r->has_value()) break;
      EXPECT_EQ(c, '\n') << "a response completed before its final LF";
      out.push_back(**r);
    }
  }
  return out;
}

absl::Status FirstError(const std::string& input, ParserLimits limits = ParserLimits()) {
  ResponseParser parser(limits);
  parser.Feed(input);
  while (true) {
    absl::StatusOr<absl::optional<Response>> r = parser.Next();
    if (!r.ok()) return r.status();
    if (!r->has_value()) return absl::OkStatus();
  }
}

TEST(ResponseParserTest, GreetingWithCapabilityCode) {
  const std::string in =
      "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n";
  for (const auto& all : {ParseAll(in), ParseByteByByte(in)}) {
    ASSERT_EQ(all.size(), 1u);
    const Response& r = all[0];
    EXPECT_EQ(r.kind, Response::Kind::kUntagged);
    EXPECT_EQ(r.status, StatusWord::kOk);
    EXPECT_EQ(r.code, "CAPABILITY");
    ASSERT_EQ(r.code_args.size(), 4u);
    EXPECT_EQ(r.code_args[3].text, "AUTH=PLAIN");
    EXPECT_EQ(r.code_text, "IMAP4rev1 SASL-IR LITERAL+ AUTH=PLAIN");
    EXPECT_EQ(r.text, "Dovecot ready.");
  }
}

TEST(ResponseParserTest, TaggedNoWithCodeAndLowercaseStatus) {
  auto all = ParseAll("a1 no [AUTHENTICATIONFAILED] Authentication failed.\r\n");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].kind, Response::Kind::kTagged);
  EXPECT_EQ(all[0].tag, "a1");
  EXPECT_EQ(all[0].status, StatusWord::kNo);
  EXPECT_EQ(all[0].code, "AUTHENTICATIONFAILED");
  EXPECT_EQ(all[0].text, "Authentication failed.");
}

TEST(ResponseParserTest, TaggedOkWithoutText) {
  auto all = ParseAll("A2 OK\r\n");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, StatusWord::kOk);
  EXPECT_EQ(all[0].text, "");
}

TEST(ResponseParserTest, StatusTextEndingInBraceIsNotALiteral) {
  auto all = ParseAll("A3 NO bad thing {5}\r\n* 3 EXISTS\r\n");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].text, "bad thing {5}");
  EXPECT_EQ(all[1].keyword, "EXISTS");
  EXPECT_EQ(all[1].number, 3u);
}

TEST(ResponseParserTest, ContinuationWithAndWithoutText) {
  auto all = ParseAll("+ Ready for literal\r\n+\r\n+ \r\n");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].kind, Response::Kind::kContinuation);
  EXPECT_EQ(all[0].text, "Ready for literal");
  EXPECT_EQ(all[1].text, "");
  EXPECT_EQ(all[2].text, "");
}

TEST(ResponseParserTest, SelectData) {
  const std::string in =
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
      "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\r\n"
      "* 172 EXISTS\r\n"
      "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
      "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"
      "A142 OK [READ-WRITE] SELECT completed\r\n";
  for (const auto& all : {ParseAll(in), ParseByteByByte(in)}) {
    ASSERT_EQ(all.size(), 6u);
    EXPECT_EQ(all[0].keyword, "FLAGS");
    ASSERT_EQ(all[0].values.size(), 1u);
    EXPECT_EQ(all[0].values[0].DebugString(), "(\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
    EXPECT_EQ(all[1].code, "PERMANENTFLAGS");
    ASSERT_EQ(all[1].code_args.size(), 1u);
    EXPECT_EQ(all[1].code_args[0].list.back().text, "\\*");
    EXPECT_EQ(all[2].number, 172u);
    EXPECT_EQ(all[3].code_args[0].number, 3857529045u);
    EXPECT_EQ(all[4].code_args[0].number, 715194045007u);
    EXPECT_EQ(all[5].code, "READ-WRITE");
  }
}

TEST(ResponseParserTest, FetchWithLiteralsAndSections) {
  const std::string body = "Subject: hi\r\n\r\n{3}\r\nnot a literal\r\n";
  const std::string in = "* 12 FETCH (UID 99 FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT DATE)] {" +
                         std::to_string(body.size()) + "}\r\n" + body +
                         " INTERNALDATE \" 6-Jan-2024 10:00:00 +0100\" X NIL)\r\n";
  for (const auto& all : {ParseAll(in), ParseByteByByte(in)}) {
    ASSERT_EQ(all.size(), 1u);
    const Response& r = all[0];
    EXPECT_EQ(r.number, 12u);
    EXPECT_EQ(r.keyword, "FETCH");
    ASSERT_EQ(r.values.size(), 1u);
    const std::vector<Value>& items = r.values[0].list;
    ASSERT_EQ(items.size(), 10u);
    EXPECT_EQ(items[0].text, "UID");
    EXPECT_EQ(items[1].number, 99u);
    EXPECT_EQ(items[4].text, "BODY[HEADER.FIELDS (SUBJECT DATE)]");
    EXPECT_TRUE(items[5].IsString());
    EXPECT_EQ(items[5].text, body);
    EXPECT_EQ(items[7].text, " 6-Jan-2024 10:00:00 +0100");
    EXPECT_TRUE(items[9].IsNil());
  }
}

TEST(ResponseParserTest, QuotedEscapesAndListData) {
  auto all = ParseAll("* LIST (\\HasNoChildren) \"/\" \"Sent \\\"Items\\\" \\\\x\"\r\n");
  ASSERT_EQ(all.size(), 1u);
  ASSERT_EQ(all[0].values.size(), 3u);
  EXPECT_EQ(all[0].values[1].text, "/");
  EXPECT_EQ(all[0].values[2].text, "Sent \"Items\" \\x");
}

TEST(ResponseParserTest, BracketsOutsideSectionsAreOrdinary) {
  auto all = ParseAll("* 1 FETCH (FLAGS (a[b \\Seen) UID 5 BODY[HEADER.FIELDS (\"X]Y\")] NIL)\r\n");
  ASSERT_EQ(all.size(), 1u);
  const std::vector<Value>& items = all[0].values[0].list;
  ASSERT_EQ(items.size(), 6u);
  EXPECT_EQ(items[1].DebugString(), "(a[b \\Seen)");
  EXPECT_EQ(items[3].number, 5u);
  EXPECT_EQ(items[4].text, "BODY[HEADER.FIELDS (\"X]Y\")]");
  EXPECT_TRUE(items[5].IsNil());
  // Gmail's flags with spaces do not break the response either.
  EXPECT_EQ(ParseAll("* 2 FETCH (FLAGS (\\Seen OIB-Seen-[Google Mail]/Alle))\r\n").size(), 1u);
}

TEST(ResponseParserTest, BinaryLiteral) {
  auto all = ParseAll(std::string("* 1 FETCH (BINARY[1] ~{3}\r\na\0b)\r\n", 33));
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].values[0].list[1].text, std::string("a\0b", 3));
}

TEST(ResponseParserTest, NumberTooLargeForUint64IsAnAtom) {
  auto all = ParseAll("* SEARCH 99999999999999999999999\r\n");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].values[0].IsAtom());
}

TEST(ResponseParserTest, HugeLiteralIsRefusedBeforeAllocating) {
  absl::Status s = FirstError("* 1 FETCH (BODY[] {99999999999}\r\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kLimit);
  EXPECT_THAT(s.message(), HasSubstr("{99999999999}"));
  absl::Status overflow = FirstError("* 1 FETCH (BODY[] {999999999999999999999999}\r\n");
  EXPECT_EQ(overflow.code(), absl::StatusCode::kResourceExhausted);
}

TEST(ResponseParserTest, LongLineIsRefusedEvenWithoutLineEnd) {
  ParserLimits limits;
  limits.max_line_length = 100;
  EXPECT_EQ(FirstError(std::string(101, 'x'), limits).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(FirstError("* OK " + std::string(200, 'x') + "\r\n", limits).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(FirstError(std::string(99, 'x'), limits).ok());  // may still end in time
}

TEST(ResponseParserTest, DeepListsAreRefused) {
  std::string deep = "* X " + std::string(1000, '(') + std::string(1000, ')') + "\r\n";
  absl::Status s = FirstError(deep);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("list depth"));
}

TEST(ResponseParserTest, GarbageNamesTheByteOffset) {
  absl::Status s = FirstError("* OK fine\r\nA1 MAYBE\r\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(GetErrorKind(s), ErrorKind::kMalformed);
  EXPECT_THAT(s.message(), HasSubstr("at byte 14"));
  EXPECT_THAT(s.message(), HasSubstr("expected OK, NO or BAD"));
}

TEST(ResponseParserTest, ErrorsAreSticky) {
  ResponseParser parser;
  parser.Feed("* (\r\n");
  EXPECT_FALSE(parser.Next().ok());
  parser.Feed("* OK fine\r\n");
  EXPECT_FALSE(parser.Next().ok());
}

TEST(ResponseParserTest, UnterminatedQuotedString) {
  EXPECT_THAT(FirstError("* LIST () \"/ INBOX\r\n").message(),
              HasSubstr("unterminated quoted string"));
}

TEST(ResponseParserTest, ManyResponsesKeepBufferSmall) {
  ResponseParser parser;
  for (int i = 0; i < 10000; ++i) {
    parser.Feed("* 1 EXPUNGE\r\n");
    absl::StatusOr<absl::optional<Response>> r = parser.Next();
    ASSERT_TRUE(r.ok() && r->has_value());
  }
  EXPECT_EQ(parser.buffered(), 0u);
}

}  // namespace
}  // namespace imap::wire

namespace imap::wire {
namespace {

// Feeds `input` in chunks of `chunk` bytes with streaming on for literals
// of at least `threshold` bytes; returns the streamed bytes per literal and
// the responses, and the most bytes the parser ever held.
struct StreamResult {
  std::vector<std::string> prefixes;
  std::vector<std::string> literals;
  std::vector<Response> responses;
  size_t max_buffered = 0;
};

StreamResult Stream(const std::string& input, size_t chunk, uint64_t threshold) {
  ParserLimits limits;
  limits.stream_body_literals_from = threshold;
  ResponseParser parser(limits);
  StreamResult out;
  size_t fed = 0;
  while (true) {
    absl::StatusOr<ParserEvent> e = parser.NextEvent();
    EXPECT_TRUE(e.ok()) << e.status();
    if (!e.ok()) return out;
    if (e->kind == ParserEvent::Kind::kResponse) {
      out.responses.push_back(e->response);
      continue;
    }
    if (e->kind == ParserEvent::Kind::kLiteralStart) {
      out.prefixes.push_back(e->literal_prefix);
      out.literals.emplace_back();
      EXPECT_EQ(parser.streaming_remaining(), e->literal_size);
    }
    // Drain what streams, feeding as needed.
    while (parser.streaming_remaining() > 0) {
      char buf[7];
      size_t n = parser.ReadLiteral(buf, sizeof(buf));
      if (n > 0) {
        out.literals.back().append(buf, n);
        continue;
      }
      if (fed >= input.size()) return out;
      parser.Feed(input.substr(fed, chunk));
      fed += std::min(chunk, input.size() - fed);
      out.max_buffered = std::max(out.max_buffered, parser.buffered());
    }
    if (e->kind == ParserEvent::Kind::kNeedMore) {
      if (fed >= input.size()) return out;
      parser.Feed(input.substr(fed, chunk));
      fed += std::min(chunk, input.size() - fed);
      out.max_buffered = std::max(out.max_buffered, parser.buffered());
    }
  }
}

TEST(ResponseParserStreamingTest, BodyLiteralsStreamOthersStayInline) {
  const std::string body(5000, 'b');
  const std::string input = "* 3 FETCH (UID 17 ENVELOPE (NIL {12}\r\nsubject {99} NIL NIL NIL NIL "
                            "NIL NIL NIL NIL) BODY[] {5000}\r\n" + body +
                            " BODY[HEADER.FIELDS (X)]<0> {1000}\r\n" + std::string(1000, 'h') +
                            " FLAGS (\\Seen))\r\nA1 OK done\r\n";
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{64}, input.size()}) {
    StreamResult r = Stream(input, chunk, /*threshold=*/100);
    ASSERT_EQ(r.literals.size(), 2u) << chunk;
    EXPECT_EQ(r.literals[0], body);
    EXPECT_EQ(r.literals[1], std::string(1000, 'h'));
    EXPECT_EQ(r.prefixes[0], "* 3 FETCH (UID 17 ENVELOPE (NIL {12}\r\nsubject {99} NIL NIL NIL NIL "
                             "NIL NIL NIL NIL) BODY[] ");
    EXPECT_TRUE(absl::EndsWith(r.prefixes[1], "BODY[] {5000} BODY[HEADER.FIELDS (X)]<0> "))
        << r.prefixes[1];
    ASSERT_EQ(r.responses.size(), 2u);
    const std::vector<Value>& items = r.responses[0].values[0].list;
    ASSERT_EQ(items.size(), 10u);
    EXPECT_EQ(items[3].list[1].text, "subject {99}");  // small literal kept inline
    EXPECT_TRUE(items[5].streamed);
    EXPECT_EQ(items[5].number, 5000u);
    EXPECT_TRUE(items[7].streamed);
    EXPECT_EQ(items[9].list[0].text, "\\Seen");
    EXPECT_EQ(r.responses[1].status, StatusWord::kOk);
    if (chunk < 100) {
      EXPECT_LT(r.max_buffered, 400u) << chunk;  // never the whole body
    }
  }
}

TEST(ResponseParserStreamingTest, SmallBodiesAndNonBodyItemsAreNotStreamed) {
  StreamResult r = Stream("* 1 FETCH (BODY[] {3}\r\nabc X-OTHER {200}\r\n" + std::string(200, 'x') +
                              ")\r\n",
                          5, 100);
  EXPECT_TRUE(r.literals.empty());
  ASSERT_EQ(r.responses.size(), 1u);
  EXPECT_EQ(r.responses[0].values[0].list[1].text, "abc");
}

TEST(ResponseParserStreamingTest, NextRefusesAStreamedLiteral) {
  ParserLimits limits;
  limits.stream_body_literals_from = 1;
  ResponseParser parser(limits);
  parser.Feed("* 1 FETCH (RFC822 {5}\r\nhello)\r\n");
  EXPECT_EQ(parser.Next().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(parser.Next().status().code(), absl::StatusCode::kFailedPrecondition);  // sticky
}

TEST(ResponseParserStreamingTest, APlaceholderNeverHidesInASection) {
  // A malformed section that would swallow the streamed literal.
  StreamResult r = Stream("* 1 FETCH (BODY[x RFC822 {500}\r\n" + std::string(500, 'h') +
                              "] FOO)\r\n",
                          17, 100);
  ASSERT_EQ(r.literals.size(), 1u);
  EXPECT_EQ(r.literals[0], std::string(500, 'h'));
  ASSERT_EQ(r.responses.size(), 1u);
  bool saw_streamed = false;
  for (const Value& v : r.responses[0].values[0].list) {
    saw_streamed |= v.streamed;
    EXPECT_EQ(v.text.find('\0'), std::string::npos) << v.DebugString();
  }
  EXPECT_TRUE(saw_streamed);
  // A streamed literal that would land inside an unclosed quoted string is
  // an error, never silently part of the string.
  ParserLimits limits;
  limits.stream_body_literals_from = 1;
  ResponseParser parser(limits);
  parser.Feed("* 1 FETCH (X \"a BODY[] {3}\r\nabc\")\r\n");
  absl::StatusOr<ParserEvent> e = parser.NextEvent();
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->kind, ParserEvent::Kind::kLiteralStart);
  char buf[8];
  EXPECT_EQ(parser.ReadLiteral(buf, sizeof(buf)), 3u);
  EXPECT_EQ(parser.NextEvent().status().code(), absl::StatusCode::kUnavailable);
  // Fuzzer finds: "]]]" after a section is no section of its own, and the
  // '~' that ends an atom is not literal8's; both parse as without streaming.
  for (const std::string& input : {std::string("* 2 FETCH (BINARY[1] ]]]~{150}\r\n"),
                                  std::string("* 2 FETCH (BODY[] x]]{150}\r\n")}) {
    const std::string full = input + std::string(150, 'z') + ")\r\n";
    StreamResult streamed = Stream(full, 7, 100);
    EXPECT_TRUE(streamed.literals.empty()) << input;
    ASSERT_EQ(streamed.responses.size(), 1u) << input;
    std::vector<Response> plain = ParseAll(full);
    ASSERT_EQ(plain.size(), 1u);
    EXPECT_EQ(streamed.responses[0].DebugString(), plain[0].DebugString());
  }
  // Outside the framer, NUL is never a placeholder.
  EXPECT_FALSE(ParseResponse(std::string("* 1 FETCH (X \0" "5\0)\r\n", 19)).ok());
}

TEST(ResponseParserStreamingTest, NulOutsideLiteralsIsRefused) {
  absl::Status s = FirstError(std::string("* OK a\0b\r\n", 10));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("NUL"));
}

}  // namespace
}  // namespace imap::wire
