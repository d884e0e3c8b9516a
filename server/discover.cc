#include "server/discover.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/query/schema.h"
#include "imap/records/query_runner.h"
#include "server/imap_connect.h"
#include "server/record_builder.h"

namespace server {
namespace {

using connector::v1::DiscoverResponse;

void AddStep(DiscoverResponse* response, absl::string_view name, absl::Duration d, std::string detail) {
  connector::v1::PlanStep* step = response->add_steps();
  step->set_name(std::string(name));
  step->set_duration_ms(absl::ToDoubleMilliseconds(d));
  step->set_detail(std::move(detail));
}

connector::v1::Folder ToFolder(const imap::FolderStatus& f) {
  connector::v1::Folder out;
  out.set_name(f.entry.name);
  if (f.entry.delimiter != 0) out.set_delimiter(std::string(1, f.entry.delimiter));
  out.set_role(imap::records::FolderRole(f.entry));
  out.set_subscribed(f.subscribed);
  out.set_selectable(f.selectable);
  for (const std::string& a : f.entry.attributes) out.add_attributes(a);
  if (!f.error.ok()) {
    out.set_error(std::string(f.error.message()));
    return out;
  }
  if (!f.selectable) return out;
  out.set_messages(f.status.messages.value_or(0));
  out.set_unseen(f.status.unseen.value_or(0));
  if (f.status.size.has_value()) out.set_size(*f.status.size);
  out.set_uid_validity(f.status.uid_validity.value_or(0));
  out.set_uid_next(f.status.uid_next.value_or(0));
  return out;
}

absl::StatusOr<DiscoverResponse> RunDiscoverAttached(const connector::v1::Connection& c,
                                                     absl::Time deadline, StreamControl* control) {
  DiscoverResponse response;
  std::vector<TimedStep> steps;
  OpenOptions open;
  if (control != nullptr) open.cancelled = [control] { return control->cancelled(); };
  open.control = control;
  absl::StatusOr<std::unique_ptr<imap::Session>> session = OpenSession(c, deadline, &steps, open);
  for (TimedStep& s : steps) AddStep(&response, s.name, s.duration, std::move(s.detail));
  if (!session.ok()) return session.status();
  const AttachedTransport attached(control, &(*session)->transport());

  absl::Time start = absl::Now();
  absl::StatusOr<imap::ListFoldersResult> listed = (*session)->ListFolders();
  if (!listed.ok()) return listed.status();
  int failed = 0;
  for (const imap::FolderStatus& f : listed->folders) {
    *response.add_folders() = ToFolder(f);
    if (!f.error.ok()) ++failed;
  }
  const int n = listed->status_commands;
  const std::string pipelined = absl::StrCat(n, " pipelined STATUS command", n == 1 ? "" : "s");
  std::string detail = absl::StrCat(listed->folders.size(), " folders; counts from ");
  if (!listed->used_list_status) {
    absl::StrAppend(&detail, pipelined);
  } else {
    absl::StrAppend(&detail, "LIST-STATUS (RFC 5819)", n > 0 ? absl::StrCat(" and ", pipelined) : "");
  }
  if (failed > 0) {
    absl::StrAppend(&detail, "; ", failed, failed == 1 ? " folder" : " folders", " could not be read");
  }
  AddStep(&response, "list", absl::Now() - start, std::move(detail));
  // INBOX first, then by name: a stable order whatever the server's.
  std::stable_sort(response.mutable_folders()->begin(), response.mutable_folders()->end(),
                   [](const connector::v1::Folder& a, const connector::v1::Folder& b) {
                     const bool a_inbox = absl::EqualsIgnoreCase(a.name(), "INBOX");
                     const bool b_inbox = absl::EqualsIgnoreCase(b.name(), "INBOX");
                     if (a_inbox != b_inbox) return a_inbox;
                     return a.name() < b.name();
                   });

  std::vector<std::string> columns;
  for (const imap::query::Column& column : imap::query::Columns()) columns.emplace_back(column.name);
  for (connector::v1::ColumnSchema& s : SchemaOf(columns)) *response.add_columns() = std::move(s);
  response.set_query_language_version(kQueryLanguageVersion);

  start = absl::Now();
  absl::Status logout = (*session)->Logout();
  AddStep(&response, "logout", absl::Now() - start, logout.ok() ? "logged out" : logout.ToString());
  return response;
}

}  // namespace

absl::StatusOr<DiscoverResponse> RunDiscover(const connector::v1::Connection& c, absl::Time deadline,
                                             StreamControl* control) {
  absl::StatusOr<DiscoverResponse> result = RunDiscoverAttached(c, deadline, control);
  if (!result.ok() && control != nullptr && control->cancelled()) {
    return absl::CancelledError("Discover was cancelled");
  }
  return result;
}

}  // namespace server
