// Session::ListFolders: every folder with its subscription and counts, in
// as few round trips as the server allows (LIST-STATUS: one command;
// otherwise LIST, LSUB and STATUS commands sent in pipelined windows).
#include <deque>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"

namespace imap {
namespace {

bool HasAttribute(const ListEntry& e, absl::string_view attribute) {
  for (const std::string& a : e.attributes) {
    if (absl::EqualsIgnoreCase(a, attribute)) return true;
  }
  return false;
}

// INBOX is case-insensitive (RFC 3501 5.1); other names are not.
std::string NameKey(absl::string_view wire_name) {
  if (absl::EqualsIgnoreCase(wire_name, "INBOX")) return "INBOX";
  return std::string(wire_name);
}

// The server's answer to one folder's STATUS, `answer`, is that folder's
// alone: a refusal becomes its error (a plain NO, most servers' answer for
// a folder that no longer exists, as NOT_FOUND) and the others go on.
// A tagged answer, whatever it says, leaves the connection usable.
void NoteFolderRefusal(absl::Status answer, FolderStatus* folder) {
  if (answer.ok()) return;
  if (answer.code() == absl::StatusCode::kFailedPrecondition &&
      GetErrorKind(answer) == ErrorKind::kUnknown) {
    answer = WithErrorKind(absl::NotFoundError(answer.message()), ErrorKind::kNoMailbox);
  }
  folder->status = StatusInfo();
  folder->error = std::move(answer);
}

}  // namespace

absl::StatusOr<ListFoldersResult> Session::ListFolders(const ListFoldersOptions& options) {
  IMAPC_RETURN_IF_ERROR(CheckReady());
  const bool extended = options.use_extensions && HasCapability("LIST-EXTENDED");
  const bool list_status = extended && HasCapability("LIST-STATUS");
  ListFoldersResult result;
  result.used_list_status = list_status;
  const std::string items = absl::StrCat("MESSAGES UIDNEXT UIDVALIDITY UNSEEN",
                                         HasCapability("STATUS=SIZE") ? " SIZE" : "");

  wire::CommandBuilder b(NextTag(), "LIST", literal_mode());
  b.String("").String("*");
  if (extended) {
    std::string ret = "SUBSCRIBED";
    // Servers with SPECIAL-USE may put the roles on LIST only when asked
    // (RFC 6154 3: the SPECIAL-USE return option).
    if (HasCapability("SPECIAL-USE")) ret += " SPECIAL-USE";
    if (list_status) absl::StrAppend(&ret, " STATUS (", items, ")");
    b.Raw(absl::StrCat("RETURN (", ret, ")"));
  }
  // STATUS answers inside the LIST (LIST-STATUS) come after their LIST
  // line; they are matched by name.
  std::map<std::string, StatusInfo> statuses;
  absl::Status bad;
  IMAPC_RETURN_IF_ERROR(Run(b, "LIST", [&](const wire::Response& r) {
    if (r.keyword == "STATUS" && r.values.size() == 2 && r.values[0].IsStringLike() &&
        r.values[1].IsList()) {
      ReadStatusItems(r.values[1].list, &statuses[NameKey(r.values[0].text)]);
      return true;
    }
    if (r.keyword != "LIST") return false;
    absl::StatusOr<ListEntry> e = ParseListResponse(r);
    if (!e.ok()) {
      if (bad.ok()) bad = e.status();
      return true;
    }
    FolderStatus f;
    f.entry = *std::move(e);
    f.selectable = !HasAttribute(f.entry, "\\Noselect") && !HasAttribute(f.entry, "\\NonExistent");
    f.subscribed = HasAttribute(f.entry, "\\Subscribed");
    result.folders.push_back(std::move(f));
    return true;
  }).status());
  IMAPC_RETURN_IF_ERROR(bad);

  if (!extended) {
    // LSUB names the subscribed folders (RFC 3501 6.3.9).
    wire::CommandBuilder lsub(NextTag(), "LSUB", literal_mode());
    lsub.String("").String("*");
    std::map<std::string, bool> subscribed;
    IMAPC_RETURN_IF_ERROR(Run(lsub, "LSUB", [&](const wire::Response& r) {
      if (r.keyword != "LSUB") return false;
      absl::StatusOr<ListEntry> e = ParseListResponse(r);
      if (e.ok()) subscribed[NameKey(e->wire_name)] = true;
      return true;
    }).status());
    for (FolderStatus& f : result.folders) f.subscribed = subscribed.count(NameKey(f.entry.wire_name)) > 0;
  }

  // Folders the LIST did not give counts for: all of them without
  // LIST-STATUS; with it, those the server could not STATUS (RFC 5819
  // says it then sends none), whose own STATUS tells why.
  std::vector<FolderStatus*> missing;
  for (FolderStatus& f : result.folders) {
    if (!f.selectable) continue;
    auto it = statuses.find(NameKey(f.entry.wire_name));
    if (it != statuses.end()) {
      f.status = it->second;
    } else {
      missing.push_back(&f);
    }
  }
  result.status_commands = static_cast<int>(missing.size());
  IMAPC_RETURN_IF_ERROR(PipelinedStatus(missing, absl::StrCat("(", items, ")"), options.status_window));
  return result;
}

absl::Status Session::PipelinedStatus(const std::vector<FolderStatus*>& folders,
                                      absl::string_view items, int window) {
  if (window < 1) window = 1;
  size_t next = 0;
  while (next < folders.size()) {
    IMAPC_RETURN_IF_ERROR(CheckReady());
    // One window: every command goes out before any answer is read; the
    // server answers them in order.
    struct Pending {
      std::string tag;
      std::string redacted;
      FolderStatus* folder;
    };
    std::deque<Pending> pending;
    std::map<std::string, FolderStatus*> by_name;
    std::string batch;
    std::vector<FolderStatus*> alone;  // names that need a synchronizing literal
    for (; next < folders.size() && static_cast<int>(pending.size() + alone.size()) < window; ++next) {
      FolderStatus* f = folders[next];
      wire::CommandBuilder b(NextTag(), "STATUS", literal_mode());
      b.AString(f->entry.wire_name).Raw(items);
      IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());
      if (cmd.segments.size() != 1) {
        alone.push_back(f);
        continue;
      }
      batch += cmd.segments[0];
      pending.push_back({cmd.tag, cmd.redacted, f});
      by_name[NameKey(f->entry.wire_name)] = f;
    }
    const absl::Time start = absl::Now();
    MarkProgress();
    if (!batch.empty()) {
      IMAPC_RETURN_IF_ERROR(transport_->Write(batch, DeadlineAfter(options_.response_timeout)));
    }
    while (!pending.empty()) {
      absl::StatusOr<wire::Response> r = ReadResponse();
      if (!r.ok()) return Annotate(r.status(), "STATUS");
      if (r->kind == wire::Response::Kind::kUntagged) {
        if (r->keyword == "STATUS" && r->values.size() == 2 && r->values[0].IsStringLike() &&
            r->values[1].IsList()) {
          auto it = by_name.find(NameKey(r->values[0].text));
          // A name the server spelled differently belongs to the command
          // it answers: the oldest one still running.
          FolderStatus* f = it != by_name.end() ? it->second : pending.front().folder;
          ReadStatusItems(r->values[1].list, &f->status);
        } else {
          HandleUntagged(*r);
        }
        continue;
      }
      if (r->kind != wire::Response::Kind::kTagged || r->tag != pending.front().tag) {
        return WithErrorKind(
            absl::UnavailableError(absl::StrCat("unexpected answer during pipelined STATUS: ",
                                                r->DebugString().substr(0, 200))),
            ErrorKind::kProtocol);
      }
      const Pending done = pending.front();
      pending.pop_front();
      MarkProgress();
      absl::Status s = TaggedStatus(*r, absl::StrCat("STATUS \"", done.folder->entry.name, "\""));
      Observe(done.redacted, start, s.ok());
      NoteFolderRefusal(s, done.folder);
    }
    for (FolderStatus* f : alone) {
      // The literal needs the server's go-ahead: one at a time.
      wire::CommandBuilder b(NextTag(), "STATUS", literal_mode());
      b.AString(f->entry.wire_name).Raw(items);
      IMAPC_ASSIGN_OR_RETURN(wire::Command cmd, b.Build());
      StatusInfo info;
      const std::string what = absl::StrCat("STATUS \"", f->entry.name, "\"");
      absl::StatusOr<wire::Response> r = Execute(cmd, nullptr, [&](const wire::Response& u) {
        if (u.keyword != "STATUS" || u.values.size() != 2 || !u.values[1].IsList()) return false;
        ReadStatusItems(u.values[1].list, &info);
        return true;
      });
      if (!r.ok()) return Annotate(r.status(), what);
      NoteFolderRefusal(TaggedStatus(*r, what), f);
      if (f->error.ok()) f->status = info;
    }
  }
  return absl::OkStatus();
}

}  // namespace imap
