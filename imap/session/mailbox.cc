// Session::Examine and Session::Select.
#include <string>

#include "absl/strings/str_cat.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "imap/wire/mutf7.h"

namespace imap {

absl::StatusOr<MailboxInfo> Session::Examine(absl::string_view folder) {
  return OpenMailbox("EXAMINE", folder);
}

absl::StatusOr<MailboxInfo> Session::Select(absl::string_view folder) {
  return OpenMailbox("SELECT", folder);
}

absl::StatusOr<MailboxInfo> Session::OpenMailbox(absl::string_view verb,
                                                 absl::string_view folder) {
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, wire::EncodeMailboxName(folder));
  wire::CommandBuilder b(NextTag(), verb, literal_mode());
  b.AString(wire_name);
  IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());

  MailboxInfo info;
  info.name = std::string(folder);
  opening_ = &info;
  absl::StatusOr<wire::Response> r = Execute(cmd);
  opening_ = nullptr;
  const std::string what = absl::StrCat(verb, " \"", folder, "\"");
  if (!r.ok()) return Annotate(r.status(), what);
  absl::Status s = TaggedStatus(*r, what);
  if (!s.ok()) {
    // Most servers answer a plain NO for a folder that does not exist.
    if (r->status == wire::StatusWord::kNo && GetErrorKind(s) == ErrorKind::kUnknown) {
      return WithErrorKind(absl::NotFoundError(s.message()), ErrorKind::kNoMailbox);
    }
    return s;
  }
  info.read_only = r->code == "READ-ONLY";
  return info;
}

}  // namespace imap
