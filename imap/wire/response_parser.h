// An incremental IMAP response parser that does no I/O: feed it bytes as
// they arrive, in chunks of any size, and take complete responses out.
//
//   ResponseParser parser;
//   parser.Feed(bytes_from_socket);
//   while (true) {
//     absl::StatusOr<absl::optional<Response>> r = parser.Next();
//     if (!r.ok()) ...;             // malformed input or a limit: sticky
//     if (!r->has_value()) break;   // need more bytes
//     Handle(**r);
//   }
#ifndef IMAP_WIRE_RESPONSE_PARSER_H_
#define IMAP_WIRE_RESPONSE_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "imap/wire/response.h"

namespace imap::wire {

struct ParserLimits {
  // Longest line (between literals), CRLF included.
  size_t max_line_length = 1 << 20;
  // Deepest nesting of parenthesised lists.
  int max_list_depth = 64;
  // Largest literal held in memory as part of a response. A server's
  // "{N}" is checked against this before anything is allocated.
  uint64_t max_inline_literal = 64ull << 20;
  // Literals of at least this many bytes that follow a body section item
  // (BODY[...], BINARY[...], RFC822, RFC822.HEADER, RFC822.TEXT) are
  // streamed through NextEvent()/ReadLiteral() instead of being held.
  // 0: never stream.
  uint64_t stream_body_literals_from = 0;
  // Largest streamed literal.
  uint64_t max_streamed_literal = 1ull << 40;
};

// What NextEvent() found.
struct ParserEvent {
  enum class Kind {
    kNeedMore,      // feed more bytes
    kResponse,      // `response` is complete
    kLiteralStart,  // a body literal streams now: ReadLiteral() its bytes
  };
  Kind kind = Kind::kNeedMore;
  Response response;
  // For kLiteralStart: the response up to the literal as the server sent
  // it (e.g. "* 12 FETCH (UID 99 BODY[] "), and the literal's size.
  std::string literal_prefix;
  uint64_t literal_size = 0;
};

class ResponseParser {
 public:
  explicit ResponseParser(ParserLimits limits = ParserLimits());

  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Appends bytes received from the server. Never fails; errors surface
  // from Next().
  void Feed(absl::string_view bytes);

  // Returns the next complete response; nullopt if more bytes are needed.
  // Errors (malformed input: UNAVAILABLE with ErrorKind kProtocol; a limit
  // exceeded: RESOURCE_EXHAUSTED with kLimit) name the byte offset in the
  // stream and are sticky: every later call returns the same error.
  absl::StatusOr<absl::optional<Response>> Next();

  // Like Next(), but reports streamed literals (see
  // ParserLimits::stream_body_literals_from). After kLiteralStart, the
  // caller takes the literal's bytes with ReadLiteral() until
  // streaming_remaining() is 0, feeding more bytes as needed; NextEvent()
  // answers kNeedMore meanwhile. The completed response holds the literal
  // as a Value with streamed = true. Next() fails with FAILED_PRECONDITION
  // where NextEvent() would report kLiteralStart.
  absl::StatusOr<ParserEvent> NextEvent();

  // Copies up to `capacity` bytes of the streaming literal into `buf` and
  // returns how many; 0 when none is buffered (feed more) or none streams.
  size_t ReadLiteral(char* buf, size_t capacity);

  // Records that the next `n` bytes of the streaming literal were read from
  // the connection by the caller rather than fed. REQUIRES: ReadLiteral()
  // returned 0 (none of the literal is buffered) and n <= streaming_remaining().
  void LiteralReadElsewhere(size_t n);

  // Bytes of the streaming literal not yet read.
  uint64_t streaming_remaining() const { return streaming_remaining_; }

  // Bytes fed but not yet returned as part of a response.
  size_t buffered() const { return buffer_.size() - frame_start_; }

 private:
  enum class Frame { kIncomplete, kComplete, kLiteralStart };
  // Finds the end of the next complete response (its last LF + 1, stored in
  // *end) without parsing it, or the start of a literal to stream.
  absl::StatusOr<Frame> FindFrameEnd(size_t* end);
  void Compact();

  const ParserLimits limits_;
  std::string buffer_;
  // Offset in `buffer_` where the current (unreturned) response begins.
  size_t frame_start_ = 0;
  // Where the current line begins, and where the search for its LF resumes.
  size_t line_start_ = 0;
  size_t scan_pos_ = 0;
  // Literal bytes still to arrive before the next line starts.
  uint64_t literal_remaining_ = 0;
  // Whether the current line is the first one of the response.
  bool first_line_ = true;
  // The literal being streamed: bytes left, and where they start in
  // buffer_ (right after the placeholder that replaced "{N}\r\n").
  uint64_t streaming_remaining_ = 0;
  size_t streaming_at_ = 0;
  // Bytes of the stream consumed before buffer_[0], for error offsets
  // (approximate once a literal was streamed).
  uint64_t stream_offset_ = 0;
  absl::Status error_;
};

// Parses one complete response (as framed by ResponseParser), for callers
// that already hold whole responses. `limits.max_list_depth` applies.
absl::StatusOr<Response> ParseResponse(absl::string_view frame,
                                       const ParserLimits& limits = ParserLimits());

}  // namespace imap::wire

#endif  // IMAP_WIRE_RESPONSE_PARSER_H_
