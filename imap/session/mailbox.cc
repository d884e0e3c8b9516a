// Folder commands: LIST, STATUS, EXAMINE/SELECT, CREATE, DELETE, SUBSCRIBE.
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "imap/wire/mutf7.h"

namespace imap {
namespace {

absl::Status Malformed(absl::string_view what) {
  return WithErrorKind(absl::UnavailableError(absl::StrCat("malformed ", what)),
                       ErrorKind::kMalformed);
}

// Most servers answer a plain NO (no response code) for a folder that does
// not exist; a NO without a code from a folder command means just that.
absl::Status NotFoundIfPlainNo(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kFailedPrecondition && GetErrorKind(s) == ErrorKind::kUnknown) {
    return WithErrorKind(absl::NotFoundError(s.message()), ErrorKind::kNoMailbox);
  }
  return s;
}

}  // namespace

absl::StatusOr<std::string> Session::WireMailboxName(absl::string_view folder) const {
  // Modified UTF-7, unless UTF8=ACCEPT is enabled (RFC 6855).
  if (IsEnabled("UTF8=ACCEPT")) return std::string(folder);
  return wire::EncodeMailboxName(folder);
}

absl::StatusOr<std::vector<ListEntry>> Session::List(absl::string_view reference,
                                                     absl::string_view pattern) {
  IMAPC_ASSIGN_OR_RETURN(std::string wire_reference, WireMailboxName(reference));
  IMAPC_ASSIGN_OR_RETURN(std::string wire_pattern, WireMailboxName(pattern));
  wire::CommandBuilder b(NextTag(), "LIST", literal_mode());
  // Quoted strings keep a pattern's % and * as wildcards.
  b.String(wire_reference).String(wire_pattern);

  std::vector<ListEntry> entries;
  absl::Status bad;
  IMAPC_RETURN_IF_ERROR(Run(b, "LIST", [&](const wire::Response& r) {
    if (r.keyword != "LIST") return false;
    absl::StatusOr<ListEntry> e = ParseListResponse(r);
    if (!e.ok()) {
      if (bad.ok()) bad = e.status();
      return true;
    }
    entries.push_back(*std::move(e));
    return true;
  }).status());
  IMAPC_RETURN_IF_ERROR(bad);
  return entries;
}

absl::StatusOr<ListEntry> Session::ParseListResponse(const wire::Response& r) const {
  if (r.values.size() < 3 || !r.values[0].IsList() ||
      !(r.values[1].IsString() || r.values[1].IsNil()) || !r.values[2].IsStringLike()) {
    return Malformed(absl::StrCat(r.keyword, " response: ", r.DebugString().substr(0, 200)));
  }
  ListEntry e;
  for (const wire::Value& a : r.values[0].list) e.attributes.push_back(a.text);
  if (r.values[1].IsString() && r.values[1].text.size() == 1) e.delimiter = r.values[1].text[0];
  e.wire_name = r.values[2].text;
  // A name that is not valid modified UTF-7 (some servers send raw
  // UTF-8) is kept as sent.
  absl::StatusOr<std::string> decoded =
      IsEnabled("UTF8=ACCEPT") ? absl::StatusOr<std::string>(e.wire_name)
                               : wire::DecodeMailboxName(e.wire_name);
  e.name = decoded.ok() ? *decoded : e.wire_name;
  return e;
}

std::string Session::StatusItems() const {
  std::string items = "MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN";
  if (HasCapability("CONDSTORE")) items += " HIGHESTMODSEQ";
  if (HasCapability("STATUS=SIZE")) items += " SIZE";
  return items;
}

void Session::ReadStatusItems(const std::vector<wire::Value>& kv, StatusInfo* info) {
  for (size_t i = 0; i + 1 < kv.size(); i += 2) {
    if (!kv[i + 1].IsNumber()) continue;
    const std::string key = absl::AsciiStrToUpper(kv[i].text);
    const uint64_t n = kv[i + 1].number;
    const auto n32 = static_cast<uint32_t>(n);
    if (key == "MESSAGES") info->messages = n32;
    if (key == "RECENT") info->recent = n32;
    if (key == "UIDNEXT") info->uid_next = n32;
    if (key == "UIDVALIDITY") info->uid_validity = n32;
    if (key == "UNSEEN") info->unseen = n32;
    if (key == "HIGHESTMODSEQ") info->highest_modseq = n;
    if (key == "SIZE") info->size = n;
  }
}

absl::StatusOr<StatusInfo> Session::Status(absl::string_view folder) {
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  wire::CommandBuilder b(NextTag(), "STATUS", literal_mode());
  b.AString(wire_name).Raw(absl::StrCat("(", StatusItems(), ")"));
  StatusInfo info;
  absl::StatusOr<wire::Response> r =
      Run(b, absl::StrCat("STATUS \"", folder, "\""), [&](const wire::Response& u) {
        if (u.keyword != "STATUS" || u.values.size() != 2 || !u.values[1].IsList()) return false;
        ReadStatusItems(u.values[1].list, &info);
        return true;
      });
  if (!r.ok()) return NotFoundIfPlainNo(r.status());
  return info;
}

absl::StatusOr<MailboxInfo> Session::Examine(absl::string_view folder) {
  return OpenMailbox("EXAMINE", folder);
}

absl::StatusOr<MailboxInfo> Session::Select(absl::string_view folder) {
  return OpenMailbox("SELECT", folder);
}

absl::StatusOr<MailboxInfo> Session::OpenMailbox(absl::string_view verb,
                                                 absl::string_view folder) {
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  wire::CommandBuilder b(NextTag(), verb, literal_mode());
  b.AString(wire_name);
  if (IsEnabled("CONDSTORE") || IsEnabled("QRESYNC")) b.Raw("(CONDSTORE)");
  IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());

  // Whatever was selected is closed as soon as the command is sent.
  selected_.reset();
  events_.clear();
  MailboxInfo info;
  info.name = std::string(folder);
  opening_ = &info;
  absl::StatusOr<wire::Response> r = Execute(cmd);
  opening_ = nullptr;
  const std::string what = absl::StrCat(verb, " \"", folder, "\"");
  if (!r.ok()) return Annotate(r.status(), what);
  IMAPC_RETURN_IF_ERROR(NotFoundIfPlainNo(TaggedStatus(*r, what)));
  info.read_only = r->code == "READ-ONLY";
  selected_ = info;
  return info;
}

absl::Status Session::Create(absl::string_view folder) {
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  wire::CommandBuilder b(NextTag(), "CREATE", literal_mode());
  b.AString(wire_name);
  return Run(b, absl::StrCat("CREATE \"", folder, "\"")).status();
}

absl::Status Session::Delete(absl::string_view folder) {
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  wire::CommandBuilder b(NextTag(), "DELETE", literal_mode());
  b.AString(wire_name);
  return Run(b, absl::StrCat("DELETE \"", folder, "\"")).status();
}

absl::Status Session::Subscribe(absl::string_view folder, bool subscribe) {
  IMAPC_ASSIGN_OR_RETURN(std::string wire_name, WireMailboxName(folder));
  const absl::string_view verb = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
  wire::CommandBuilder b(NextTag(), verb, literal_mode());
  b.AString(wire_name);
  return Run(b, absl::StrCat(verb, " \"", folder, "\"")).status();
}

}  // namespace imap
