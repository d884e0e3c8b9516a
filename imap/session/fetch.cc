// Session::UidFetch and FetchStream.
#include "imap/session/fetch.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {
namespace {

// Reads sequence number, UID (if present) and section name from the text
// of a FETCH response before a streamed literal:
// "* 12 FETCH (UID 99 FLAGS (\Seen) BODY[1.2] ".
FetchStream::Body DescribeBody(absl::string_view prefix, uint64_t size) {
  FetchStream::Body body;
  body.size = size;
  absl::string_view p = prefix;
  if (absl::ConsumePrefix(&p, "* ")) {
    const size_t sp = p.find(' ');
    uint32_t seq = 0;
    if (sp != absl::string_view::npos && absl::SimpleAtoi(p.substr(0, sp), &seq)) body.seq = seq;
  }
  // The section is the last token; UID the number after a top-level "UID".
  absl::string_view trimmed = absl::StripTrailingAsciiWhitespace(p);
  size_t depth = 0;
  size_t token_start = 0;
  for (size_t i = 0; i < trimmed.size(); ++i) {
    const char c = trimmed[i];
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    if ((c == ' ' || c == '(') && depth == 0) token_start = i + 1;
  }
  body.section = absl::AsciiStrToUpper(trimmed.substr(token_start));
  const size_t uid_at = trimmed.find("UID ");
  if (uid_at != absl::string_view::npos &&
      (uid_at == 0 || trimmed[uid_at - 1] == ' ' || trimmed[uid_at - 1] == '(')) {
    absl::string_view rest = trimmed.substr(uid_at + 4);
    uint32_t uid = 0;
    if (absl::SimpleAtoi(rest.substr(0, rest.find_first_of(" )")), &uid)) body.uid = uid;
  }
  return body;
}

bool IsUidSetSyntax(absl::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789:,*") == absl::string_view::npos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<FetchStream>> Session::UidFetch(
    const std::vector<wire::UidSet>& uid_sets, absl::string_view items) {
  IMAPC_RETURN_IF_ERROR(CheckReady());
  if (uid_sets.empty()) return absl::InvalidArgumentError("UID FETCH needs at least one UID set");
  // Pipelining: every command goes out before any answer is read; the
  // server answers them in order.
  std::string batch;
  std::deque<std::string> tags;
  for (const wire::UidSet& set : uid_sets) {
    const std::string text = set.ToString();
    if (!IsUidSetSyntax(text)) return absl::InvalidArgumentError("UID FETCH needs a non-empty UID set");
    wire::CommandBuilder b(NextTag(), "UID FETCH", literal_mode());
    b.Raw(text).Raw(items);
    IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());
    if (cmd.segments.size() != 1) return absl::InvalidArgumentError("FETCH items need no literal");
    batch += cmd.segments[0];
    tags.push_back(cmd.tag);
  }
  MarkProgress();
  IMAPC_RETURN_IF_ERROR(transport_->Write(batch, DeadlineAfter(options_.response_timeout)));
  busy_ = true;
  return std::unique_ptr<FetchStream>(new FetchStream(this, std::move(tags)));
}

FetchStream::~FetchStream() {
  // Leave the connection ready for the next command: read the remaining
  // answers (bodies are discarded chunk by chunk, not held).
  while (error_.ok() && !pending_tags_.empty()) {
    absl::StatusOr<Event> e = Next();
    if (!e.ok()) break;
  }
  // A stream that failed midway leaves an answer half read: the
  // connection cannot be trusted with another command.
  if (!error_.ok() && session_->broken_.ok()) {
    session_->broken_ = WithErrorKind(
        absl::UnavailableError(absl::StrCat("the connection failed during UID FETCH: ",
                                            error_.message().substr(0, 200))),
        ErrorKind::kProtocol);
  }
  session_->busy_ = false;
}

absl::StatusOr<size_t> FetchStream::ReadBody(char* buf, size_t capacity) {
  if (!error_.ok()) return error_;
  absl::StatusOr<size_t> n = session_->ReadStreamedLiteral(buf, capacity);
  if (!n.ok()) {
    error_ = Annotate(n.status(), absl::StrCat("reading ", body_.section, " of message ", body_.seq));
    return error_;
  }
  max_buffered_ = std::max(max_buffered_, session_->parser_.buffered());
  return n;
}

absl::StatusOr<FetchStream::Event> FetchStream::Next() {
  if (!error_.ok()) return error_;
  // Drop what the consumer did not read of the last body.
  char sink[16 * 1024];
  while (session_->parser_.streaming_remaining() > 0) {
    absl::StatusOr<size_t> n = ReadBody(sink, sizeof(sink));
    if (!n.ok()) return n.status();
  }
  while (!pending_tags_.empty()) {
    absl::StatusOr<wire::ParserEvent> event = session_->ReadEvent();
    if (!event.ok()) {
      error_ = Annotate(event.status(), "UID FETCH");
      return error_;
    }
    max_buffered_ = std::max(max_buffered_, session_->parser_.buffered());
    if (event->kind == wire::ParserEvent::Kind::kLiteralStart) {
      body_ = DescribeBody(event->literal_prefix, event->literal_size);
      if (body_.size > session_->options_.max_message_bytes) {
        // Not waited for: the rest of the literal stays unread, so the
        // connection is of no further use.
        error_ = WithMessageSize(
            WithMessageUid(
                WithErrorKind(
                    absl::ResourceExhaustedError(absl::StrCat(
                        "message ", body_.uid.has_value() ? absl::StrCat("UID ", *body_.uid)
                                                          : absl::StrCat("number ", body_.seq),
                        " is ", body_.size, " bytes, above the limit of ",
                        session_->options_.max_message_bytes,
                        " bytes (max_message_bytes); it was not downloaded")),
                    ErrorKind::kLimit),
                body_.uid.value_or(0)),
            body_.size);
        session_->broken_ = WithErrorKind(
            absl::UnavailableError("the connection was abandoned in the middle of an oversized message"),
            ErrorKind::kUsage);
        return error_;
      }
      return Event::kBody;
    }
    wire::Response& r = event->response;
    if (r.kind == wire::Response::Kind::kUntagged) {
      if (r.keyword == "FETCH") {
        // Flag updates from other clients come as FETCH too; the consumer
        // tells them apart by what they carry (no body, maybe no UID).
        session_->MarkProgress();
        message_ = std::move(r);
        return Event::kMessage;
      }
      session_->HandleUntagged(r);
      continue;
    }
    if (r.kind != wire::Response::Kind::kTagged || r.tag != pending_tags_.front()) {
      error_ = WithErrorKind(absl::UnavailableError(absl::StrCat(
                                 "unexpected answer during UID FETCH: ", r.DebugString().substr(0, 200))),
                             ErrorKind::kProtocol);
      return error_;
    }
    pending_tags_.pop_front();
    session_->MarkProgress();
    absl::Status s = session_->TaggedStatus(r, "UID FETCH");
    if (!s.ok()) {
      session_->Observe("- UID FETCH", start_, false);
      error_ = s;
      return error_;
    }
  }
  session_->Observe("- UID FETCH", start_, true);
  session_->busy_ = false;
  return Event::kDone;
}

}  // namespace imap
