// libFuzzer target for ResponseParser: feeds a stream of server output in
// chunks and checks that chunking never changes the result. Built by
// -DIMAPC_FUZZ=ON with clang; run it with scripts/fuzz.
//
//   build-fuzz/response_parser_fuzzer imap/wire/fuzz_corpus   # or a crash file
//
// Input layout. If the first byte is a control byte (< 0x20, which no IMAP
// response can begin with), the first kHeaderSize bytes configure the run:
//   [0]     marker
//   [1]     max_line_length: 0 = default, 1..127 as is, 128..255 = (b-127)*32
//   [2]     max_list_depth: >= 128 = default, else b % 32
//   [3]     max_inline_literal: >= 128 = default, else b
//   [4..7]  eight 4-bit chunk-size codes (kChunkSizes), used in a cycle
// Any other input is all stream, with default limits and chunk codes derived
// from its length, so raw captures of server output work as seeds.
//
// Properties checked, each aborting when violated:
//   (a) the stream fed whole and fed in chunks gives the same responses
//       (every field and DebugString()) and the same final status;
//   (b) after an error Next() keeps returning that error, more input or not;
//   (c) buffered() never exceeds the bytes fed, equals fed minus the frames
//       returned, and does not move on need-more;
//   (d) ParseResponse() on each returned frame gives the same response, and on
//       a frame that failed the same error with its offset rebased to 0;
// plus the documented error shape: UNAVAILABLE/kMalformed or
// RESOURCE_EXHAUSTED/kLimit, naming a byte offset inside the stream.
// Streamed literals (NextEvent(), ReadLiteral()) are not exercised: the
// limits keep stream_body_literals_from at 0.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "imap/util/error_kind.h"
#include "imap/wire/response.h"
#include "imap/wire/response_parser.h"

namespace imap::wire {
namespace {

constexpr size_t kHeaderSize = 8;
constexpr size_t kChunkSizes[16] = {1,  1,  2,  3,  4,  5,   7,    8,
                                    11, 13, 16, 31, 64, 257, 4096, static_cast<size_t>(-1)};

[[noreturn]] void Violated(const char* property, const std::string& detail) {
  std::fprintf(stderr, "\n*** response_parser_fuzzer: property violated: %s\n%s\n", property,
               detail.c_str());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond, property, detail)       \
  do {                                           \
    if (!(cond)) Violated((property), (detail)); \
  } while (false)

struct Config {
  ParserLimits limits;
  size_t chunks[8];
};

Config ReadConfig(const uint8_t* data, size_t size, absl::string_view* stream) {
  Config c;
  uint32_t codes = static_cast<uint32_t>(size) * 2654435761u;
  if (size >= kHeaderSize && data[0] < 0x20) {
    const uint8_t line = data[1], depth = data[2], literal = data[3];
    if (line != 0) c.limits.max_line_length = line < 128 ? line : (line - 127u) * 32u;
    if (depth < 128) c.limits.max_list_depth = depth % 32;
    if (literal < 128) c.limits.max_inline_literal = literal;
    codes = static_cast<uint32_t>(data[4]) << 24 | static_cast<uint32_t>(data[5]) << 16 |
            static_cast<uint32_t>(data[6]) << 8 | data[7];
    data += kHeaderSize;
    size -= kHeaderSize;
  }
  for (int i = 0; i < 8; ++i) c.chunks[i] = kChunkSizes[(codes >> (4 * i)) & 0xf];
  *stream = absl::string_view(reinterpret_cast<const char*>(data), size);
  return c;
}

bool SameValue(const Value& a, const Value& b) {
  if (a.type != b.type || a.text != b.text || a.number != b.number || a.streamed != b.streamed ||
      a.list.size() != b.list.size()) {
    return false;
  }
  for (size_t i = 0; i < a.list.size(); ++i) {
    if (!SameValue(a.list[i], b.list[i])) return false;
  }
  return true;
}

bool SameValues(const std::vector<Value>& a, const std::vector<Value>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameValue(a[i], b[i])) return false;
  }
  return true;
}

bool SameResponse(const Response& a, const Response& b) {
  return a.kind == b.kind && a.tag == b.tag && a.status == b.status && a.code == b.code &&
         SameValues(a.code_args, b.code_args) && a.code_text == b.code_text && a.text == b.text &&
         a.number == b.number && a.keyword == b.keyword && SameValues(a.values, b.values) &&
         a.DebugString() == b.DebugString();
}

bool HasLowerAscii(absl::string_view s) {
  for (char ch : s) {
    if (ch >= 'a' && ch <= 'z') return true;
  }
  return false;
}

// Fields the header documents for every response.
void CheckShape(const Response& r) {
  FUZZ_CHECK(!HasLowerAscii(r.code), "response code in upper case", r.DebugString());
  FUZZ_CHECK(!HasLowerAscii(r.keyword), "keyword in upper case", r.DebugString());
  if (r.kind == Response::Kind::kTagged) {
    FUZZ_CHECK(!r.tag.empty(), "tagged response has a tag", r.DebugString());
  }
}

// Splits "... at byte N: ..." into the text around N and N itself.
bool SplitOffset(absl::string_view message, absl::string_view* before, uint64_t* offset,
                 absl::string_view* after) {
  constexpr absl::string_view kAt = "at byte ";
  const size_t at = message.find(kAt);
  if (at == absl::string_view::npos) return false;
  size_t end = at + kAt.size();
  while (end < message.size() && message[end] >= '0' && message[end] <= '9') ++end;
  if (!absl::SimpleAtoi(message.substr(at + kAt.size(), end - at - kAt.size()), offset)) {
    return false;
  }
  *before = message.substr(0, at);
  *after = message.substr(end);
  return true;
}

std::string Describe(const absl::Status& s) {
  if (s.ok()) return "OK";
  return std::string(absl::StatusCodeToString(s.code())) +
         " kind=" + std::string(ErrorKindName(GetErrorKind(s))) + ": " + std::string(s.message());
}

void CheckErrorShape(const absl::Status& s, uint64_t fed) {
  const bool malformed =
      s.code() == absl::StatusCode::kUnavailable && GetErrorKind(s) == ErrorKind::kMalformed;
  const bool limit =
      s.code() == absl::StatusCode::kResourceExhausted && GetErrorKind(s) == ErrorKind::kLimit;
  FUZZ_CHECK(malformed || limit, "error is UNAVAILABLE/kMalformed or RESOURCE_EXHAUSTED/kLimit",
             Describe(s));
  absl::string_view before, after;
  uint64_t offset = 0;
  FUZZ_CHECK(SplitOffset(s.message(), &before, &offset, &after), "error names a byte offset",
             Describe(s));
  FUZZ_CHECK(offset <= fed, "error offset within the bytes fed",
             Describe(s) + " (fed " + std::to_string(fed) + ")");
}

// (d) for a frame that failed: ParseResponse() fails alike, counting from 0.
void CheckSameErrorRebased(const absl::Status& stream_error, const absl::Status& frame_error,
                           uint64_t frame_offset) {
  const std::string detail = "stream: " + Describe(stream_error) + "\nframe at " +
                             std::to_string(frame_offset) + ": " + Describe(frame_error);
  FUZZ_CHECK(!frame_error.ok(), "ParseResponse fails on a frame Next() failed on", detail);
  FUZZ_CHECK(frame_error.code() == stream_error.code() &&
                 GetErrorKind(frame_error) == GetErrorKind(stream_error),
             "ParseResponse error has the same code and kind", detail);
  absl::string_view sb, sa, fb, fa;
  uint64_t so = 0, fo = 0;
  FUZZ_CHECK(SplitOffset(stream_error.message(), &sb, &so, &sa) &&
                 SplitOffset(frame_error.message(), &fb, &fo, &fa) && sb == fb && sa == fa &&
                 so == fo + frame_offset,
             "ParseResponse error is the stream's error rebased to the frame", detail);
}

struct Outcome {
  std::vector<Response> responses;
  absl::Status status;  // OK when the stream ended needing more bytes
  size_t buffered = 0;
};

Outcome FeedWhole(absl::string_view stream, const ParserLimits& limits) {
  Outcome out;
  ResponseParser parser(limits);
  parser.Feed(stream);
  while (true) {
    absl::StatusOr<absl::optional<Response>> r = parser.Next();
    if (!r.ok()) {
      out.status = r.status();
      break;
    }
    if (!r->has_value()) break;
    out.responses.push_back(**std::move(r));
  }
  out.buffered = parser.buffered();
  return out;
}

// (b): the error stays, with or without more input.
void CheckSticky(ResponseParser* parser, const absl::Status& error, absl::string_view more) {
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<absl::optional<Response>> again = parser->Next();
    FUZZ_CHECK(!again.ok() && again.status() == error, "errors are sticky",
               "first: " + Describe(error) + "\nthen: " + Describe(again.status()));
    parser->Feed(i == 0 ? more : absl::string_view("* OK fine\r\n"));
  }
}

Outcome FeedChunked(absl::string_view stream, const Config& config) {
  Outcome out;
  ResponseParser parser(config.limits);
  size_t fed = 0;
  size_t consumed = 0;  // bytes of the frames returned so far
  for (int chunk = 0; fed < stream.size(); chunk = (chunk + 1) % 8) {
    const size_t n = std::min(config.chunks[chunk], stream.size() - fed);
    parser.Feed(stream.substr(fed, n));
    fed += n;
    while (true) {
      const size_t before = parser.buffered();
      FUZZ_CHECK(before == fed - consumed, "buffered() is fed minus returned",
                 std::to_string(before) + " vs " + std::to_string(fed - consumed));
      absl::StatusOr<absl::optional<Response>> r = parser.Next();
      const size_t after = parser.buffered();
      FUZZ_CHECK(after <= fed, "buffered() never exceeds the bytes fed",
                 std::to_string(after) + " > " + std::to_string(fed));
      if (!r.ok()) {
        CheckErrorShape(r.status(), fed);
        if (after < before) {
          // A frame was framed and failed to parse: ParseResponse must agree.
          const absl::string_view frame = stream.substr(consumed, before - after);
          CheckSameErrorRebased(r.status(), ParseResponse(frame, config.limits).status(), consumed);
        }
        CheckSticky(&parser, r.status(), stream.substr(fed));
        out.status = r.status();
        out.buffered = parser.buffered();
        return out;
      }
      if (!r->has_value()) {
        FUZZ_CHECK(after == before, "need-more consumes nothing",
                   std::to_string(before) + " -> " + std::to_string(after));
        break;
      }
      FUZZ_CHECK(after < before, "a response consumes its frame",
                 std::to_string(before) + " -> " + std::to_string(after));
      const absl::string_view frame = stream.substr(consumed, before - after);
      FUZZ_CHECK(frame.back() == '\n', "a frame ends with LF", std::string(frame));
      consumed += frame.size();
      const Response& got = **r;
      CheckShape(got);
      absl::StatusOr<Response> direct = ParseResponse(frame, config.limits);
      FUZZ_CHECK(direct.ok(), "ParseResponse accepts a frame Next() returned",
                 "frame: " + std::string(frame) + "\nerror: " + Describe(direct.status()));
      FUZZ_CHECK(SameResponse(*direct, got), "ParseResponse agrees with Next()",
                 "Next: " + got.DebugString() + "\nParseResponse: " + direct->DebugString());
      out.responses.push_back(**std::move(r));
    }
  }
  out.buffered = parser.buffered();
  return out;
}

// (e) streaming: with every body literal streamed (NextEvent/ReadLiteral),
// in the same chunks, the responses are those of the plain parse once each
// streamed value gets the bytes that streamed for it.
void Substitute(std::vector<Value>* values, const std::vector<std::string>& literals, size_t* next) {
  for (Value& v : *values) {
    if (v.streamed) {
      FUZZ_CHECK(*next < literals.size(), "every streamed value had its literal", v.DebugString());
      FUZZ_CHECK(literals[*next].size() == v.number, "a streamed value's size is its literal's",
                 std::to_string(v.number) + " vs " + std::to_string(literals[*next].size()));
      v.text = literals[(*next)++];
      v.streamed = false;
      v.number = 0;
    }
    Substitute(&v.list, literals, next);
  }
}

Outcome FeedStreamed(absl::string_view stream, const Config& config) {
  Outcome out;
  ParserLimits limits = config.limits;
  limits.stream_body_literals_from = 1;
  ResponseParser parser(limits);
  size_t fed = 0;
  int chunk = 0;
  auto feed = [&]() {
    const size_t n = std::min(config.chunks[chunk], stream.size() - fed);
    parser.Feed(stream.substr(fed, n));
    fed += n;
    chunk = (chunk + 1) % 8;
  };
  std::vector<std::string> literals;  // of the response being read
  while (true) {
    absl::StatusOr<ParserEvent> e = parser.NextEvent();
    if (!e.ok()) {
      out.status = e.status();
      return out;
    }
    if (e->kind == ParserEvent::Kind::kNeedMore) {
      if (fed >= stream.size()) return out;
      feed();
      continue;
    }
    if (e->kind == ParserEvent::Kind::kLiteralStart) {
      std::string bytes;
      while (parser.streaming_remaining() > 0) {
        char buf[97];
        const size_t n = parser.ReadLiteral(buf, sizeof(buf));
        bytes.append(buf, n);
        if (n == 0) {
          if (fed >= stream.size()) return out;  // the stream ended inside the literal
          feed();
        }
      }
      FUZZ_CHECK(bytes.size() == e->literal_size, "a streamed literal has its announced size",
                 std::to_string(bytes.size()) + " vs " + std::to_string(e->literal_size));
      literals.push_back(std::move(bytes));
      continue;
    }
    Response r = std::move(e->response);
    size_t next = 0;
    Substitute(&r.values, literals, &next);
    FUZZ_CHECK(next == literals.size(), "every streamed literal found its value",
               std::to_string(next) + " of " + std::to_string(literals.size()));
    literals.clear();
    out.responses.push_back(std::move(r));
  }
}

}  // namespace
}  // namespace imap::wire

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace imap::wire;  // NOLINT: a fuzz entry point outside the namespace
  absl::string_view stream;
  const Config config = ReadConfig(data, size, &stream);
  const Outcome whole = FeedWhole(stream, config.limits);
  const Outcome chunked = FeedChunked(stream, config);

  // (a) differential.
  const size_t n = std::min(whole.responses.size(), chunked.responses.size());
  for (size_t i = 0; i < n; ++i) {
    FUZZ_CHECK(SameResponse(whole.responses[i], chunked.responses[i]),
               "whole and chunked give the same responses",
               "#" + std::to_string(i) + " whole: " + whole.responses[i].DebugString() +
                   "\nchunked: " + chunked.responses[i].DebugString());
  }
  FUZZ_CHECK(whole.responses.size() == chunked.responses.size(),
             "whole and chunked give as many responses",
             std::to_string(whole.responses.size()) + " vs " +
                 std::to_string(chunked.responses.size()) + "; whole ends " +
                 Describe(whole.status) + "\nchunked ends " + Describe(chunked.status));
  FUZZ_CHECK(whole.status == chunked.status, "whole and chunked end with the same status",
             "whole: " + Describe(whole.status) + "\nchunked: " + Describe(chunked.status));
  if (whole.status.ok()) {
    FUZZ_CHECK(whole.buffered == chunked.buffered, "whole and chunked leave as much buffered",
               std::to_string(whole.buffered) + " vs " + std::to_string(chunked.buffered));
  }

  // (e) streamed body literals give the same responses. A literal above the
  // inline limit fails the plain parse but may stream: compare what both read.
  const Outcome streamed = FeedStreamed(stream, config);
  const size_t both = std::min(whole.responses.size(), streamed.responses.size());
  for (size_t i = 0; i < both; ++i) {
    FUZZ_CHECK(SameResponse(whole.responses[i], streamed.responses[i]),
               "streaming gives the same responses",
               "#" + std::to_string(i) + " whole: " + whole.responses[i].DebugString() +
                   "\nstreamed: " + streamed.responses[i].DebugString());
  }
  if (whole.status.ok() && streamed.status.ok()) {
    FUZZ_CHECK(whole.responses.size() == streamed.responses.size(),
               "streaming gives as many responses",
               std::to_string(whole.responses.size()) + " vs " +
                   std::to_string(streamed.responses.size()));
  }
  return 0;
}
