// IDLE (RFC 2177).
#include <string>

#include "absl/strings/str_cat.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {

absl::StatusOr<std::vector<MailboxEvent>> Session::Idle(absl::Duration max_wait) {
  IMAPC_RETURN_IF_ERROR(CheckReady());
  if (!HasCapability("IDLE")) return absl::FailedPreconditionError("the server has no IDLE");
  const std::string tag = NextTag();
  MarkProgress();
  IMAPC_RETURN_IF_ERROR(
      transport_->Write(absl::StrCat(tag, " IDLE\r\n"), DeadlineAfter(options_.response_timeout)));
  const size_t events_before = events_.size();
  // Wait for "+ idling"; a tagged answer instead means IDLE was refused.
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(wire::Response r, ReadResponse());
    if (r.kind == wire::Response::Kind::kContinuation) break;
    if (r.kind == wire::Response::Kind::kUntagged) {
      HandleUntagged(r);
      continue;
    }
    IMAPC_RETURN_IF_ERROR(TaggedStatus(r, "IDLE"));
    return WithErrorKind(absl::UnavailableError("IDLE ended before it started"),
                         ErrorKind::kProtocol);
  }
  const absl::Time until = std::min(absl::Now() + max_wait, options_.overall_deadline);
  // Wait until something happens or the time is up.
  while (events_.size() == events_before && absl::Now() < until) {
    IMAPC_ASSIGN_OR_RETURN(wire::ParserEvent event, parser_.NextEvent());
    if (event.kind == wire::ParserEvent::Kind::kResponse) {
      if (event.response.kind != wire::Response::Kind::kUntagged) {
        return WithErrorKind(absl::UnavailableError(absl::StrCat(
                                 "unexpected answer during IDLE: ", event.response.DebugString())),
                             ErrorKind::kProtocol);
      }
      HandleUntagged(event.response);
      if (bye_text_.has_value()) {
        return WithErrorKind(absl::UnavailableError(absl::StrCat("the server said BYE: ", *bye_text_)),
                             ErrorKind::kProtocol);
      }
      continue;
    }
    if (event.kind == wire::ParserEvent::Kind::kLiteralStart) {
      MarkProgress();
      literal_window_start_ = absl::Now();
      literal_window_bytes_ = 0;
      char sink[16 * 1024];
      while (true) {
        IMAPC_ASSIGN_OR_RETURN(size_t n, ReadStreamedLiteral(sink, sizeof(sink)));
        if (n == 0) break;
      }
      continue;
    }
    absl::Status filled = FillUntil(until);
    if (absl::IsDeadlineExceeded(filled) && absl::Now() >= until) break;
    IMAPC_RETURN_IF_ERROR(filled);
  }
  IMAPC_RETURN_IF_ERROR(transport_->Write("DONE\r\n", DeadlineAfter(options_.response_timeout)));
  MarkProgress();
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(wire::Response r, ReadResponse());
    if (r.kind == wire::Response::Kind::kUntagged) {
      HandleUntagged(r);
      continue;
    }
    if (r.kind == wire::Response::Kind::kTagged && r.tag == tag) {
      IMAPC_RETURN_IF_ERROR(TaggedStatus(r, "IDLE"));
      break;
    }
    return WithErrorKind(absl::UnavailableError(absl::StrCat("unexpected answer ending IDLE: ",
                                                             r.DebugString().substr(0, 200))),
                         ErrorKind::kProtocol);
  }
  return std::vector<MailboxEvent>(events_.begin() + static_cast<std::ptrdiff_t>(
                                                         std::min(events_before, events_.size())),
                                   events_.end());
}

}  // namespace imap
