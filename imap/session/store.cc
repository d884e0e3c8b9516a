// UID STORE, UID COPY, UID MOVE and UID EXPUNGE.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {
namespace {

absl::Status CheckUids(const wire::UidSet& uids) {
  if (uids.empty()) return absl::InvalidArgumentError("empty UID set");
  return absl::OkStatus();
}

// COPYUID <uidvalidity> <source set> <destination set>, from a response code.
void ReadCopyUid(const wire::Response& r, CopyResult* result) {
  if (r.code != "COPYUID" || r.code_args.size() != 3 || !r.code_args[0].IsNumber()) return;
  absl::StatusOr<wire::UidSet> source = wire::UidSet::Parse(r.code_args[1].text);
  absl::StatusOr<wire::UidSet> destination = wire::UidSet::Parse(r.code_args[2].text);
  if (!source.ok() || !destination.ok()) return;
  result->uid_validity = static_cast<uint32_t>(r.code_args[0].number);
  result->source_uids = *std::move(source);
  result->destination_uids = *std::move(destination);
}

}  // namespace

absl::Status Session::UidStore(const wire::UidSet& uids, absl::string_view operation,
                               const std::vector<std::string>& flags) {
  IMAPC_RETURN_IF_ERROR(CheckUids(uids));
  static constexpr absl::string_view kOperations[] = {"FLAGS", "+FLAGS", "-FLAGS", "FLAGS.SILENT",
                                                      "+FLAGS.SILENT", "-FLAGS.SILENT"};
  bool known = false;
  for (absl::string_view op : kOperations) known = known || op == operation;
  if (!known) return absl::InvalidArgumentError(absl::StrCat("unknown STORE operation '", operation, "'"));
  for (const std::string& f : flags) {
    if (!wire::IsFlag(f)) {
      return absl::InvalidArgumentError(absl::StrCat("'", f, "' is not a valid flag"));
    }
  }
  wire::CommandBuilder b(NextTag(), "UID STORE", literal_mode());
  b.Raw(uids.ToString()).Raw(operation).Raw(absl::StrCat("(", absl::StrJoin(flags, " "), ")"));
  return Run(b, "UID STORE").status();
}

absl::StatusOr<CopyResult> Session::UidCopy(const wire::UidSet& uids, absl::string_view folder) {
  IMAPC_RETURN_IF_ERROR(CheckUids(uids));
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  wire::CommandBuilder b(NextTag(), "UID COPY", literal_mode());
  b.Raw(uids.ToString()).AString(wire_name);
  IMAPC_ASSIGN_OR_RETURN(wire::Response r, Run(b, absl::StrCat("UID COPY to \"", folder, "\"")));
  CopyResult result;
  ReadCopyUid(r, &result);
  return result;
}

absl::StatusOr<CopyResult> Session::UidMove(const wire::UidSet& uids, absl::string_view folder) {
  IMAPC_RETURN_IF_ERROR(CheckUids(uids));
  if (!HasCapability("MOVE")) {
    if (!HasCapability("UIDPLUS")) {
      return absl::FailedPreconditionError(
          "the server has neither MOVE nor UIDPLUS; moving would need EXPUNGE, which could remove "
          "other messages marked \\Deleted");
    }
    IMAPC_ASSIGN_OR_RETURN(CopyResult copied, UidCopy(uids, folder));
    IMAPC_RETURN_IF_ERROR(UidStore(uids, "+FLAGS.SILENT", {"\\Deleted"}));
    IMAPC_RETURN_IF_ERROR(UidExpunge(uids));
    return copied;
  }
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  wire::CommandBuilder b(NextTag(), "UID MOVE", literal_mode());
  b.Raw(uids.ToString()).AString(wire_name);
  CopyResult result;
  // RFC 6851: COPYUID comes in an untagged OK before the EXPUNGEs.
  IMAPC_ASSIGN_OR_RETURN(wire::Response r,
                         Run(b, absl::StrCat("UID MOVE to \"", folder, "\""),
                             [&](const wire::Response& u) {
                               if (u.status == wire::StatusWord::kOk && u.code == "COPYUID") {
                                 ReadCopyUid(u, &result);
                                 return true;
                               }
                               return false;
                             }));
  if (!result.uid_validity.has_value()) ReadCopyUid(r, &result);
  return result;
}

absl::Status Session::UidExpunge(const wire::UidSet& uids) {
  IMAPC_RETURN_IF_ERROR(CheckUids(uids));
  if (!HasCapability("UIDPLUS")) {
    return absl::FailedPreconditionError("UID EXPUNGE needs the server's UIDPLUS");
  }
  wire::CommandBuilder b(NextTag(), "UID EXPUNGE", literal_mode());
  b.Raw(uids.ToString());
  return Run(b, "UID EXPUNGE").status();
}

}  // namespace imap
