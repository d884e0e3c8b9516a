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

  // Bytes fed but not yet returned as part of a response.
  size_t buffered() const { return buffer_.size() - frame_start_; }

 private:
  // Finds the end of the next complete response (its last LF + 1) without
  // parsing it. Returns 0 if incomplete.
  absl::StatusOr<size_t> FindFrameEnd();
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
  // Bytes of the stream consumed before buffer_[0], for error offsets.
  uint64_t stream_offset_ = 0;
  absl::Status error_;
};

// Parses one complete response (as framed by ResponseParser), for callers
// that already hold whole responses. `limits.max_list_depth` applies.
absl::StatusOr<Response> ParseResponse(absl::string_view frame,
                                       const ParserLimits& limits = ParserLimits());

}  // namespace imap::wire

#endif  // IMAP_WIRE_RESPONSE_PARSER_H_
