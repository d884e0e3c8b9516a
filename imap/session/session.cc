// Session core: reading responses, the command loop, greeting,
// capabilities, STARTTLS, NOOP and LOGOUT, and untagged data.
#include "imap/session/session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {

using wire::Response;
using wire::StatusWord;

namespace {

// Unsolicited events kept before the oldest are dropped: a client that
// never asks must not make the session grow without bound.
constexpr size_t kMaxQueuedEvents = 100000;

// Body literals stream from `stream_from` bytes on, and always when they
// are larger than the largest message we accept, so that FetchStream sees
// their size before any of their bytes.
wire::ParserLimits WithStreaming(wire::ParserLimits limits, uint64_t stream_from,
                                 uint64_t max_message_bytes) {
  if (max_message_bytes < UINT64_MAX && (stream_from == 0 || stream_from > max_message_bytes + 1)) {
    stream_from = max_message_bytes + 1;
  }
  limits.stream_body_literals_from = stream_from;
  return limits;
}

}  // namespace

absl::string_view AuthMethodName(AuthMethod method) {
  switch (method) {
    case AuthMethod::kAuto:
      return "AUTO";
    case AuthMethod::kLogin:
      return "LOGIN";
    case AuthMethod::kPlain:
      return "PLAIN";
    case AuthMethod::kScramSha1:
      return "SCRAM-SHA-1";
    case AuthMethod::kScramSha256:
      return "SCRAM-SHA-256";
    case AuthMethod::kXoauth2:
      return "XOAUTH2";
    case AuthMethod::kOauthBearer:
      return "OAUTHBEARER";
  }
  return "";
}

Session::Session(std::unique_ptr<Transport> transport, SessionOptions options)
    : transport_(std::move(transport)),
      options_(options),
      parser_(WithStreaming(options.limits, options.stream_bodies_from, options.max_message_bytes)) {}

Session::~Session() = default;

absl::Time Session::DeadlineAfter(absl::Duration timeout) const {
  return std::min(absl::Now() + timeout, options_.overall_deadline);
}

std::string Session::NextTag() { return absl::StrCat("A", next_tag_++); }

wire::LiteralMode Session::literal_mode() const {
  if (HasCapability("LITERAL+")) return wire::LiteralMode::kLiteralPlus;
  if (HasCapability("LITERAL-")) return wire::LiteralMode::kLiteralMinus;
  return wire::LiteralMode::kSynchronizing;
}

absl::Status Session::CheckReady() const {
  if (!broken_.ok()) return broken_;
  if (busy_) {
    return WithErrorKind(absl::FailedPreconditionError("a FETCH stream still owns this connection"),
                         ErrorKind::kUsage);
  }
  if (bye_text_.has_value()) {
    return WithErrorKind(absl::UnavailableError(absl::StrCat("the server said BYE: ", *bye_text_)),
                         ErrorKind::kProtocol);
  }
  return absl::OkStatus();
}

bool Session::HasCapability(absl::string_view name) const {
  for (const std::string& c : capabilities_) {
    if (absl::EqualsIgnoreCase(c, name)) return true;
  }
  return false;
}

bool Session::IsEnabled(absl::string_view capability) const {
  for (const std::string& c : enabled_) {
    if (absl::EqualsIgnoreCase(c, capability)) return true;
  }
  return false;
}

void Session::SetCapabilities(const std::vector<wire::Value>& values) {
  capabilities_.clear();
  for (const wire::Value& v : values) {
    if (v.IsStringLike()) capabilities_.push_back(absl::AsciiStrToUpper(v.text));
  }
}

void Session::MarkProgress() {
  progress_deadline_ = absl::Now() + options_.command_timeout;
}

absl::Status Session::FillUntil(absl::Time until, char* direct, size_t capacity,
                                size_t* direct_read) {
  char buf[64 * 1024];
  char* const into = direct != nullptr ? direct : buf;
  const size_t room = direct != nullptr ? capacity : sizeof(buf);
  absl::StatusOr<size_t> n = transport_->Read(into, room, std::min(until, options_.overall_deadline));
  if (!n.ok()) {
    if (bye_text_.has_value() && absl::IsUnavailable(n.status())) {
      return WithErrorKind(
          absl::UnavailableError(absl::StrCat("the server closed the connection: ", *bye_text_)),
          ErrorKind::kProtocol);
    }
    return n.status();
  }
  if (direct != nullptr) {
    *direct_read = *n;
  } else {
    parser_.Feed(absl::string_view(buf, *n));
  }
  last_byte_time_ = absl::Now();
  return absl::OkStatus();
}

absl::Status Session::Fill(char* direct, size_t capacity, size_t* direct_read) {
  const absl::Time now = absl::Now();
  const absl::Time silence_until = now + options_.response_timeout;
  const bool in_literal = parser_.streaming_remaining() > 0;
  // While a literal streams at a good rate, its rate window is the bound;
  // otherwise the command's progress deadline is.
  absl::Time progress_until = progress_deadline_;
  if (in_literal) {
    const uint64_t needed = options_.min_literal_bytes_per_second *
                            static_cast<uint64_t>(absl::ToInt64Seconds(options_.literal_rate_window));
    progress_until = literal_window_bytes_ >= needed
                         ? absl::InfiniteFuture()
                         : literal_window_start_ + options_.literal_rate_window;
  }
  const absl::Time until = std::min({silence_until, progress_until, options_.overall_deadline});
  absl::Status s = FillUntil(until, direct, capacity, direct_read);
  if (!absl::IsDeadlineExceeded(s) || until >= options_.overall_deadline) return s;
  // Say which of our bounds stopped the wait: the admin tunes timeout_ms
  // for one and not the other.
  const bool mid_response = parser_.buffered() > 0 || in_literal;
  // Silence when nothing came for (nearly) timeout_ms, whichever bound
  // ended the wait: both can fall due together.
  if (absl::Now() - last_byte_time_ >= options_.response_timeout * 0.95) {
    return WithErrorKind(
        absl::DeadlineExceededError(absl::StrCat(
            "the server sent nothing for ", absl::ToInt64Milliseconds(options_.response_timeout),
            " ms", mid_response ? " in the middle of a response" : "", " (timeout_ms)")),
        ErrorKind::kTimeout);
  }
  if (in_literal) {
    return WithErrorKind(
        absl::DeadlineExceededError(absl::StrCat(
            "the server sent a message body too slowly: ", literal_window_bytes_, " bytes in ",
            absl::ToInt64Seconds(options_.literal_rate_window), " s, below the minimum of ",
            options_.min_literal_bytes_per_second, " bytes/s")),
        ErrorKind::kTimeout);
  }
  return WithErrorKind(
      absl::DeadlineExceededError(absl::StrCat(
          "the server did not complete its answer within ",
          absl::ToInt64Milliseconds(options_.command_timeout),
          " ms although it kept the connection busy (it sent data without finishing)")),
      ErrorKind::kTimeout);
}

absl::Status Session::CheckLiteralRate() {
  const absl::Time now = absl::Now();
  if (now - literal_window_start_ < options_.literal_rate_window) return absl::OkStatus();
  const uint64_t needed = options_.min_literal_bytes_per_second *
                          static_cast<uint64_t>(absl::ToInt64Seconds(options_.literal_rate_window));
  if (literal_window_bytes_ < needed) {
    return WithErrorKind(
        absl::DeadlineExceededError(absl::StrCat(
            "the server sent a message body too slowly: ", literal_window_bytes_, " bytes in ",
            absl::ToInt64Seconds(now - literal_window_start_), " s, below the minimum of ",
            options_.min_literal_bytes_per_second, " bytes/s")),
        ErrorKind::kTimeout);
  }
  // A good window: the literal is progress, and a new window begins.
  literal_window_start_ = now;
  literal_window_bytes_ = 0;
  MarkProgress();
  return absl::OkStatus();
}

absl::StatusOr<wire::ParserEvent> Session::ReadEvent() {
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(wire::ParserEvent event, parser_.NextEvent());
    if (event.kind == wire::ParserEvent::Kind::kLiteralStart) {
      literal_window_start_ = absl::Now();
      literal_window_bytes_ = 0;
    }
    if (event.kind == wire::ParserEvent::Kind::kResponse && event.response.code == "ALERT") {
      NoteAlert(event.response);
    }
    if (event.kind != wire::ParserEvent::Kind::kNeedMore) return event;
    IMAPC_RETURN_IF_ERROR(Fill());
  }
}

absl::StatusOr<size_t> Session::ReadStreamedLiteral(char* buf, size_t capacity) {
  if (capacity == 0) return 0;
  while (parser_.streaming_remaining() > 0) {
    IMAPC_RETURN_IF_ERROR(CheckLiteralRate());
    size_t n = parser_.ReadLiteral(buf, capacity);
    if (n == 0) {
      // Nothing of the literal is buffered: read the next bytes straight
      // into `buf` (never past the literal's end), sparing two copies
      // through the parser's buffer for every byte of a message body.
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(capacity, parser_.streaming_remaining()));
      transport_->ExpectComing(parser_.streaming_remaining());
      IMAPC_RETURN_IF_ERROR(Fill(buf, want, &n));
      parser_.LiteralReadElsewhere(n);
    }
    if (n > 0) {
      literal_window_bytes_ += n;
      if (parser_.streaming_remaining() == 0) MarkProgress();
      return n;
    }
  }
  return 0;
}

void Session::NoteAlert(const Response& r) {
  std::string text = r.code_text.empty() ? r.text : absl::StrCat(r.code_text, " ", r.text);
  if (text.size() > 500) text.resize(500);
  if (alerts_.size() < 16) alerts_.push_back(text);
  if (options_.on_alert) options_.on_alert(text);
}

absl::StatusOr<Response> Session::ReadResponse() {
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(wire::ParserEvent event, ReadEvent());
    if (event.kind == wire::ParserEvent::Kind::kResponse) return std::move(event.response);
    // A body literal nobody asked to stream here: read past it.
    char sink[16 * 1024];
    while (true) {
      IMAPC_ASSIGN_OR_RETURN(size_t n, ReadStreamedLiteral(sink, sizeof(sink)));
      if (n == 0) break;
    }
  }
}

void Session::HandleUntagged(const Response& r) {
  if (r.status == StatusWord::kBye) {
    bye_text_ = r.text;
    return;
  }
  auto queue = [this](MailboxEvent e) {
    if (events_.size() >= kMaxQueuedEvents) events_.erase(events_.begin());
    events_.push_back(std::move(e));
  };
  if (r.IsStatus()) {
    if (r.code == "CAPABILITY") SetCapabilities(r.code_args);
    if (opening_ != nullptr && !r.code_args.empty() && r.code_args[0].IsNumber()) {
      const uint64_t n = r.code_args[0].number;
      if (r.code == "UIDVALIDITY") opening_->uid_validity = static_cast<uint32_t>(n);
      if (r.code == "UIDNEXT") opening_->uid_next = static_cast<uint32_t>(n);
      if (r.code == "HIGHESTMODSEQ") opening_->highest_modseq = n;
    }
    return;
  }
  if (r.keyword == "CAPABILITY") {
    SetCapabilities(r.values);
  } else if (r.keyword == "ENABLED") {
    for (const wire::Value& v : r.values) {
      if (v.IsStringLike()) enabled_.push_back(absl::AsciiStrToUpper(v.text));
    }
  } else if (r.keyword == "EXISTS" && r.number.has_value()) {
    if (opening_ != nullptr) {
      opening_->exists = *r.number;
    } else if (selected_.has_value()) {
      selected_->exists = *r.number;
      queue({MailboxEvent::Kind::kExists, *r.number, absl::nullopt, {}});
    }
  } else if (r.keyword == "EXPUNGE" && r.number.has_value()) {
    if (selected_.has_value() && selected_->exists > 0) --selected_->exists;
    queue({MailboxEvent::Kind::kExpunge, *r.number, absl::nullopt, {}});
  } else if (r.keyword == "FLAGS" && !r.values.empty() && r.values[0].IsList()) {
    MailboxInfo* box = opening_ != nullptr ? opening_ : (selected_ ? &*selected_ : nullptr);
    if (box != nullptr) {
      box->flags.clear();
      for (const wire::Value& f : r.values[0].list) box->flags.push_back(f.text);
    }
  } else if (r.keyword == "FETCH" && r.number.has_value() && !r.values.empty() &&
             r.values[0].IsList()) {
    // An unsolicited FETCH: flags changed (by us or another client).
    MailboxEvent e{MailboxEvent::Kind::kFlags, *r.number, absl::nullopt, {}};
    const std::vector<wire::Value>& items = r.values[0].list;
    bool has_flags = false;
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
      if (items[i].IsAtom("UID") && items[i + 1].IsNumber()) {
        e.uid = static_cast<uint32_t>(items[i + 1].number);
      } else if (items[i].IsAtom("FLAGS") && items[i + 1].IsList()) {
        has_flags = true;
        for (const wire::Value& f : items[i + 1].list) e.flags.push_back(f.text);
      }
    }
    if (has_flags) queue(std::move(e));
  }
}

std::vector<MailboxEvent> Session::TakeEvents() {
  std::vector<MailboxEvent> out;
  out.swap(events_);
  return out;
}

absl::StatusOr<Response> Session::Execute(const wire::Command& command,
                                          ContinuationHandler on_continuation,
                                          UntaggedHandler on_untagged) {
  const absl::Time start = absl::Now();
  absl::StatusOr<Response> r = ExecuteUnobserved(command, std::move(on_continuation),
                                                 std::move(on_untagged));
  Observe(command.redacted, start, r.ok() && r->status == StatusWord::kOk);
  return r;
}

void Session::Observe(absl::string_view redacted, absl::Time start, bool ok) const {
  if (!options_.on_command) return;
  // "A12 UID FETCH 1:5 (...)" -> "UID FETCH"; "A3 SELECT ..." -> "SELECT".
  std::vector<absl::string_view> words = absl::StrSplit(redacted, absl::MaxSplits(' ', 3));
  absl::string_view name = words.size() > 1 ? words[1] : "";
  std::string verb(name);
  if (absl::EqualsIgnoreCase(name, "UID") && words.size() > 2) verb = absl::StrCat("UID ", words[2]);
  absl::StripTrailingAsciiWhitespace(&verb);
  options_.on_command(absl::AsciiStrToUpper(verb), absl::Now() - start, ok);
}

absl::StatusOr<Response> Session::ExecuteUnobserved(const wire::Command& command,
                                                    ContinuationHandler on_continuation,
                                                    UntaggedHandler on_untagged) {
  IMAPC_RETURN_IF_ERROR(CheckReady());
  MarkProgress();
  size_t next_segment = 0;
  IMAPC_RETURN_IF_ERROR(
      transport_->Write(command.segments[next_segment++], DeadlineAfter(options_.response_timeout)));
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(Response r, ReadResponse());
    switch (r.kind) {
      case Response::Kind::kTagged:
        if (r.tag != command.tag) {
          return WithErrorKind(
              absl::UnavailableError(absl::StrCat("the server answered tag '", r.tag,
                                                  "' while '", command.tag, "' was running")),
              ErrorKind::kProtocol);
        }
        if (r.code == "CAPABILITY") SetCapabilities(r.code_args);
        return r;
      case Response::Kind::kUntagged:
        if (on_untagged == nullptr || !on_untagged(r)) HandleUntagged(r);
        break;
      case Response::Kind::kContinuation: {
        std::string reply;
        if (on_continuation != nullptr) {
          IMAPC_ASSIGN_OR_RETURN(reply, on_continuation(r));
        } else if (next_segment < command.segments.size()) {
          reply = command.segments[next_segment++];
        } else {
          return WithErrorKind(
              absl::UnavailableError("unexpected continuation request from the server"),
              ErrorKind::kProtocol);
        }
        IMAPC_RETURN_IF_ERROR(transport_->Write(reply, DeadlineAfter(options_.response_timeout)));
        MarkProgress();  // the server asked for more: it is making progress
        break;
      }
    }
  }
}

absl::Status Session::TaggedStatus(const Response& r, absl::string_view what) const {
  if (r.status == StatusWord::kOk) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": server answered ", StatusWordName(r.status));
  if (!r.code.empty()) {
    absl::StrAppend(&message, " [", r.code, r.code_text.empty() ? "" : " ", r.code_text, "]");
  }
  if (!r.text.empty()) absl::StrAppend(&message, " ", r.text);
  // Response codes of RFC 5530 say why; map them to the canonical codes
  // callers decide retries from.
  // BAD means the server did not accept a command we built: not the RPC
  // caller's input (that is checked before anything is sent), and not
  // worth repeating. NO is a refusal of a valid command.
  absl::StatusCode code = r.status == StatusWord::kBad ? absl::StatusCode::kInternal
                                                       : absl::StatusCode::kFailedPrecondition;
  ErrorKind kind = r.status == StatusWord::kBad ? ErrorKind::kProtocol : ErrorKind::kUnknown;
  if (r.code == "AUTHENTICATIONFAILED" || r.code == "EXPIRED") {
    code = absl::StatusCode::kUnauthenticated;
    kind = ErrorKind::kAuth;
  } else if (r.code == "AUTHORIZATIONFAILED" || r.code == "NOPERM" || r.code == "PRIVACYREQUIRED") {
    code = absl::StatusCode::kPermissionDenied;
    kind = ErrorKind::kAuth;
  } else if (r.code == "NONEXISTENT" || r.code == "TRYCREATE") {
    code = absl::StatusCode::kNotFound;
    kind = ErrorKind::kNoMailbox;
  } else if (r.code == "UNAVAILABLE" || r.code == "INUSE" || r.code == "SERVERBUG" ||
             r.code == "THROTTLED") {
    code = absl::StatusCode::kUnavailable;
  } else if (r.code == "LIMIT" || r.code == "OVERQUOTA" || r.code == "TOOBIG") {
    code = absl::StatusCode::kResourceExhausted;
  } else if (r.code == "ALREADYEXISTS") {
    code = absl::StatusCode::kAlreadyExists;
  }
  absl::Status status(code, message);
  return kind == ErrorKind::kUnknown ? status : WithErrorKind(status, kind);
}

absl::StatusOr<Response> Session::Run(wire::CommandBuilder& builder, absl::string_view what,
                                      UntaggedHandler on_untagged) {
  IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, builder.Build());
  absl::StatusOr<Response> r = Execute(cmd, nullptr, std::move(on_untagged));
  if (!r.ok()) return Annotate(r.status(), what);
  IMAPC_RETURN_IF_ERROR(TaggedStatus(*r, what));
  return r;
}

absl::Status Session::RunSimpleCommand(absl::string_view name) {
  wire::CommandBuilder b(NextTag(), name, literal_mode());
  return Run(b, name).status();
}

absl::StatusOr<Greeting> Session::ReadGreeting() {
  MarkProgress();
  absl::StatusOr<Response> r = ReadResponse();
  if (!r.ok()) return Annotate(r.status(), "reading the greeting");
  if (r->kind != Response::Kind::kUntagged ||
      (r->status != StatusWord::kOk && r->status != StatusWord::kPreauth &&
       r->status != StatusWord::kBye)) {
    return WithErrorKind(
        absl::UnavailableError(absl::StrCat("expected an IMAP greeting, got: ",
                                            r->DebugString().substr(0, 200))),
        ErrorKind::kProtocol);
  }
  if (r->status == StatusWord::kBye) {
    return WithErrorKind(absl::UnavailableError(absl::StrCat("the server refused the connection: ",
                                                             r->text)),
                         ErrorKind::kProtocol);
  }
  if (r->code == "CAPABILITY") SetCapabilities(r->code_args);
  return Greeting{r->status, r->text};
}

absl::Status Session::RefreshCapabilities() { return RunSimpleCommand("CAPABILITY"); }

absl::Status Session::StartTls(const TlsOptions& options) {
  if (!HasCapability("STARTTLS")) {
    return WithErrorKind(
        absl::FailedPreconditionError(
            "the server does not offer STARTTLS; refusing to continue without encryption"),
        ErrorKind::kTls);
  }
  absl::Status s = RunSimpleCommand("STARTTLS");
  if (!s.ok()) {
    // The request that led here was valid: a server (or something in the
    // middle) that offers STARTTLS and then refuses it is unavailable for
    // an encrypted session, whatever its NO or BAD would map to.
    if (absl::IsDeadlineExceeded(s) || absl::IsUnavailable(s)) return WithErrorKind(s, ErrorKind::kTls);
    return WithErrorKind(
        absl::UnavailableError(absl::StrCat(s.message(), " (the server refused STARTTLS; refusing to "
                                            "continue without encryption)")),
        ErrorKind::kTls);
  }
  // Bytes that arrived after the tagged OK but before the handshake would
  // be plaintext injected by a man in the middle (CVE-2011-0411 style).
  if (parser_.buffered() != 0) {
    return WithErrorKind(
        absl::UnavailableError("the server sent data after STARTTLS before the TLS handshake"),
        ErrorKind::kTls);
  }
  IMAPC_RETURN_IF_ERROR(transport_->StartTls(options, DeadlineAfter(options_.response_timeout)));
  capabilities_.clear();
  return absl::OkStatus();
}

absl::Status Session::Noop() { return RunSimpleCommand("NOOP"); }

absl::Status Session::Logout() { return RunSimpleCommand("LOGOUT"); }

}  // namespace imap
