// APPEND (with APPENDUID from UIDPLUS).
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {

std::string FormatImapDateTime(absl::Time t) {
  return absl::FormatTime("%d-%b-%Y %H:%M:%S +0000", t, absl::UTCTimeZone());
}

absl::StatusOr<AppendResult> Session::Append(absl::string_view folder, absl::string_view message,
                                             const std::vector<std::string>& flags,
                                             absl::optional<absl::Time> internal_date) {
  IMAPC_RETURN_IF_ERROR(CheckReady());
  for (const std::string& f : flags) {
    if (!wire::IsFlag(f)) {
      return absl::InvalidArgumentError(absl::StrCat("'", f, "' is not a valid flag"));
    }
  }
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  wire::CommandBuilder b(NextTag(), "APPEND", literal_mode());
  b.AString(wire_name);
  if (!flags.empty()) b.Raw(absl::StrCat("(", absl::StrJoin(flags, " "), ")"));
  if (internal_date.has_value()) b.Raw(absl::StrCat("\"", FormatImapDateTime(*internal_date), "\""));
  IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());

  // The message itself is written from the caller's buffer, not copied into
  // the command: "{N}" (or "{N+}") now, the bytes after the continuation.
  // A message with NUL bytes needs BINARY's literal8.
  const bool binary = message.find('\0') != absl::string_view::npos;
  if (binary && !HasCapability("BINARY")) {
    return absl::InvalidArgumentError("message contains NUL bytes and the server has no BINARY");
  }
  const bool non_sync = HasCapability("LITERAL+") ||
                        (HasCapability("LITERAL-") && message.size() <= 4096);
  std::string head = cmd.segments.back();
  head.resize(head.size() - 2);  // drop CRLF: the literal follows
  absl::StrAppend(&head, " ", binary ? "~" : "", "{", message.size(), non_sync ? "+" : "", "}\r\n");
  cmd.segments.back() = std::move(head);

  const absl::Time deadline = DeadlineAfter(options_.response_timeout);
  for (size_t i = 0; i + 1 < cmd.segments.size(); ++i) {
    // Literals in the folder name: wait for each continuation.
    IMAPC_RETURN_IF_ERROR(transport_->Write(cmd.segments[i], deadline));
    IMAPC_ASSIGN_OR_RETURN(wire::Response r, ReadResponse());
    if (r.kind != wire::Response::Kind::kContinuation) {
      IMAPC_RETURN_IF_ERROR(TaggedStatus(r, "APPEND"));
      return WithErrorKind(absl::UnavailableError("APPEND: no continuation for the folder name"),
                           ErrorKind::kProtocol);
    }
  }
  IMAPC_RETURN_IF_ERROR(transport_->Write(cmd.segments.back(), deadline));
  bool sent = false;
  auto send_message = [&]() -> absl::Status {
    sent = true;
    // A large message takes time to send: the deadline grows with its size
    // at a floor of 1 MB/s.
    const absl::Time write_deadline =
        DeadlineAfter(options_.response_timeout + absl::Seconds(message.size() >> 20));
    IMAPC_RETURN_IF_ERROR(transport_->Write(message, write_deadline));
    return transport_->Write("\r\n", write_deadline);
  };
  if (non_sync) IMAPC_RETURN_IF_ERROR(send_message());
  AppendResult result;
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(wire::Response r, ReadResponse());
    if (r.kind == wire::Response::Kind::kContinuation && !sent) {
      IMAPC_RETURN_IF_ERROR(send_message());
      continue;
    }
    if (r.kind == wire::Response::Kind::kUntagged) {
      HandleUntagged(r);
      continue;
    }
    if (r.kind != wire::Response::Kind::kTagged || r.tag != cmd.tag) {
      return WithErrorKind(absl::UnavailableError(absl::StrCat("unexpected answer to APPEND: ",
                                                               r.DebugString().substr(0, 200))),
                           ErrorKind::kProtocol);
    }
    IMAPC_RETURN_IF_ERROR(TaggedStatus(r, absl::StrCat("APPEND to \"", folder, "\"")));
    if (r.code == "APPENDUID" && r.code_args.size() == 2 && r.code_args[0].IsNumber() &&
        r.code_args[1].IsNumber()) {
      result.uid_validity = static_cast<uint32_t>(r.code_args[0].number);
      result.uid = static_cast<uint32_t>(r.code_args[1].number);
    }
    return result;
  }
}

}  // namespace imap
