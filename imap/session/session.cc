// Session core: the command loop, greeting, capabilities, STARTTLS, NOOP
// and LOGOUT. Login is in auth.cc, mailbox commands in mailbox.cc.
#include "imap/session/session.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {

using wire::Response;
using wire::StatusWord;

Session::Session(std::unique_ptr<Transport> transport, SessionOptions options)
    : transport_(std::move(transport)), options_(options), parser_(options.limits) {}

Session::~Session() = default;

absl::Time Session::Deadline() const {
  return std::min(absl::Now() + options_.response_timeout, options_.overall_deadline);
}

std::string Session::NextTag() { return absl::StrCat("A", next_tag_++); }

wire::LiteralMode Session::literal_mode() const {
  if (HasCapability("LITERAL+")) return wire::LiteralMode::kLiteralPlus;
  if (HasCapability("LITERAL-")) return wire::LiteralMode::kLiteralMinus;
  return wire::LiteralMode::kSynchronizing;
}

bool Session::HasCapability(absl::string_view name) const {
  for (const std::string& c : capabilities_) {
    if (absl::EqualsIgnoreCase(c, name)) return true;
  }
  return false;
}

void Session::SetCapabilities(const std::vector<wire::Value>& values) {
  capabilities_.clear();
  for (const wire::Value& v : values) {
    if (v.IsStringLike()) capabilities_.push_back(absl::AsciiStrToUpper(v.text));
  }
}

absl::StatusOr<Response> Session::ReadResponse() {
  char buf[64 * 1024];
  while (true) {
    absl::StatusOr<absl::optional<Response>> next = parser_.Next();
    if (!next.ok()) return next.status();
    if (next->has_value()) return **std::move(next);
    absl::StatusOr<size_t> n = transport_->Read(buf, sizeof(buf), Deadline());
    if (!n.ok()) {
      if (bye_text_.has_value() && absl::IsUnavailable(n.status())) {
        return WithErrorKind(
            absl::UnavailableError(absl::StrCat("the server closed the connection: ", *bye_text_)),
            ErrorKind::kProtocol);
      }
      return n.status();
    }
    parser_.Feed(absl::string_view(buf, *n));
  }
}

void Session::HandleUntagged(const Response& r) {
  if (r.status == StatusWord::kBye) {
    bye_text_ = r.text;
    return;
  }
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
  } else if (opening_ != nullptr && r.keyword == "EXISTS" && r.number.has_value()) {
    opening_->exists = *r.number;
  } else if (opening_ != nullptr && r.keyword == "FLAGS" && !r.values.empty() &&
             r.values[0].IsList()) {
    opening_->flags.clear();
    for (const wire::Value& f : r.values[0].list) opening_->flags.push_back(f.text);
  }
}

absl::StatusOr<Response> Session::Execute(const wire::Command& command,
                                          ContinuationHandler on_continuation) {
  if (bye_text_.has_value()) {
    return WithErrorKind(
        absl::UnavailableError(absl::StrCat("the server said BYE: ", *bye_text_)),
        ErrorKind::kProtocol);
  }
  size_t next_segment = 0;
  IMAPC_RETURN_IF_ERROR(transport_->Write(command.segments[next_segment++], Deadline()));
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
        HandleUntagged(r);
        break;
      case Response::Kind::kContinuation:
        if (on_continuation != nullptr) {
          IMAPC_ASSIGN_OR_RETURN(std::string reply, on_continuation(r));
          IMAPC_RETURN_IF_ERROR(transport_->Write(reply, Deadline()));
        } else if (next_segment < command.segments.size()) {
          IMAPC_RETURN_IF_ERROR(transport_->Write(command.segments[next_segment++], Deadline()));
        } else {
          return WithErrorKind(
              absl::UnavailableError("unexpected continuation request from the server"),
              ErrorKind::kProtocol);
        }
        break;
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
  absl::StatusCode code = r.status == StatusWord::kBad ? absl::StatusCode::kInvalidArgument
                                                       : absl::StatusCode::kFailedPrecondition;
  ErrorKind kind = ErrorKind::kUnknown;
  if (r.code == "AUTHENTICATIONFAILED" || r.code == "EXPIRED") {
    code = absl::StatusCode::kUnauthenticated;
    kind = ErrorKind::kAuth;
  } else if (r.code == "AUTHORIZATIONFAILED" || r.code == "NOPERM" || r.code == "PRIVACYREQUIRED") {
    code = absl::StatusCode::kPermissionDenied;
    kind = ErrorKind::kAuth;
  } else if (r.code == "NONEXISTENT" || r.code == "TRYCREATE") {
    code = absl::StatusCode::kNotFound;
    kind = ErrorKind::kNoMailbox;
  } else if (r.code == "UNAVAILABLE" || r.code == "INUSE" || r.code == "SERVERBUG") {
    code = absl::StatusCode::kUnavailable;
  } else if (r.code == "LIMIT" || r.code == "OVERQUOTA") {
    code = absl::StatusCode::kResourceExhausted;
  } else if (r.code == "ALREADYEXISTS") {
    code = absl::StatusCode::kAlreadyExists;
  }
  absl::Status status(code, message);
  return kind == ErrorKind::kUnknown ? status : WithErrorKind(status, kind);
}

absl::Status Session::RunSimpleCommand(absl::string_view name) {
  IMAPC_ASSIGN_OR_RETURN(wire::Command cmd,
                         wire::CommandBuilder(NextTag(), name, literal_mode()).Build());
  absl::StatusOr<Response> r = Execute(cmd);
  if (!r.ok()) return Annotate(r.status(), name);
  return TaggedStatus(*r, name);
}

absl::StatusOr<Greeting> Session::ReadGreeting() {
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

absl::Status Session::RefreshCapabilities() {
  return RunSimpleCommand("CAPABILITY");
}

absl::Status Session::StartTls(const TlsOptions& options) {
  if (!HasCapability("STARTTLS")) {
    return WithErrorKind(
        absl::FailedPreconditionError(
            "the server does not offer STARTTLS; refusing to continue without encryption"),
        ErrorKind::kTls);
  }
  absl::Status s = RunSimpleCommand("STARTTLS");
  if (!s.ok()) return WithErrorKind(s, ErrorKind::kTls);
  // Bytes that arrived after the tagged OK but before the handshake would
  // be plaintext injected by a man in the middle (CVE-2011-0411 style).
  if (parser_.buffered() != 0) {
    return WithErrorKind(
        absl::UnavailableError("the server sent data after STARTTLS before the TLS handshake"),
        ErrorKind::kTls);
  }
  IMAPC_RETURN_IF_ERROR(transport_->StartTls(options, Deadline()));
  capabilities_.clear();
  return absl::OkStatus();
}

absl::Status Session::Noop() {
  return RunSimpleCommand("NOOP");
}

absl::Status Session::Logout() {
  return RunSimpleCommand("LOGOUT");
}

}  // namespace imap
