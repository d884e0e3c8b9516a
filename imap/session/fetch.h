// The answers to pipelined UID FETCH commands, read as a stream: message
// bodies are pulled in chunks straight from the connection, so a 50 MB
// message is never held in memory, and nothing more is read from the
// server than the consumer asks for (TCP backpressure reaches the server).
//
//   absl::StatusOr<std::unique_ptr<FetchStream>> f =
//       session.UidFetch({uids}, "(UID FLAGS BODY.PEEK[])");
//   while (true) {
//     absl::StatusOr<FetchStream::Event> e = (*f)->Next();
//     if (!e.ok() || *e == FetchStream::Event::kDone) break;
//     if (*e == FetchStream::Event::kBody) {       // a body streams now
//       char buf[65536];
//       while ((n = (*f)->ReadBody(buf, sizeof buf).value()) > 0) Consume(buf, n);
//     } else {                                     // kMessage: all its items
//       Use((*f)->message());
//     }
//   }
#ifndef IMAP_SESSION_FETCH_H_
#define IMAP_SESSION_FETCH_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/optional.h"
#include "imap/session/session.h"
#include "imap/wire/response.h"

namespace imap {

// Not thread-safe. Borrows the session, which must outlive it; the session
// runs no other command until Next() returned kDone or the stream is
// destroyed (destroying it early reads and discards the rest).
class FetchStream {
 public:
  enum class Event {
    kBody,     // a large body section streams now: ReadBody() it
    kMessage,  // a FETCH response is complete: message()
    kDone,     // every command completed
  };

  // A body section that streams.
  struct Body {
    uint32_t seq = 0;                 // the message's sequence number
    absl::optional<uint32_t> uid;     // when UID came before the body
    std::string section;              // e.g. "BODY[]", "BODY[1.2]", "BINARY[1]"
    uint64_t size = 0;                // bytes that will stream
  };

  ~FetchStream();
  FetchStream(const FetchStream&) = delete;
  FetchStream& operator=(const FetchStream&) = delete;

  // Advances. Unread bytes of a streaming body are read and dropped first.
  // Errors are sticky; a tagged NO/BAD fails with the server's text.
  absl::StatusOr<Event> Next();

  // After kBody: which body streams.
  const Body& body() const { return body_; }
  // After kBody: reads the next bytes of the body; 0 at its end.
  absl::StatusOr<size_t> ReadBody(char* buf, size_t capacity);

  // After kMessage: the complete FETCH response. Items whose literal
  // streamed hold a Value with streamed = true (and its size), bodies
  // smaller than SessionOptions::stream_bodies_from hold their bytes.
  const wire::Response& message() const { return message_; }

  // The most bytes the session's parser held at once while this stream
  // ran: the memory bound, for tests and metrics.
  size_t max_buffered() const { return max_buffered_; }

 private:
  friend class Session;
  FetchStream(Session* session, std::deque<std::string> tags)
      : session_(session), pending_tags_(std::move(tags)), start_(absl::Now()) {}

  Session* session_;
  std::deque<std::string> pending_tags_;
  Body body_;
  wire::Response message_;
  absl::Status error_;
  size_t max_buffered_ = 0;
  absl::Time start_;  // for Session::Observe
};

}  // namespace imap

#endif  // IMAP_SESSION_FETCH_H_
