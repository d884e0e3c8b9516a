#include "server/test_query.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "imap/query/parser.h"
#include "imap/query/render.h"
#include "imap/records/query_runner.h"
#include "server/imap_connect.h"
#include "server/record_builder.h"
#include "server/status_convert.h"

namespace server {
namespace {

using connector::v1::TestQueryResponse;

void AddStep(TestQueryResponse* response, absl::string_view name, absl::Duration d,
             std::string detail) {
  connector::v1::PlanStep* step = response->add_steps();
  step->set_name(std::string(name));
  step->set_duration_ms(absl::ToDoubleMilliseconds(d));
  step->set_detail(std::move(detail));
}

std::string QuotedFolder(absl::string_view folder) { return Quote(folder, '"'); }

}  // namespace

absl::StatusOr<TestQueryResponse> RunTestQueryAttached(const connector::v1::Connection& c,
                                                       absl::string_view text, int sample_size,
                                                       absl::Time deadline, StreamControl* control);

absl::StatusOr<imap::query::Plan> CompileQuery(absl::string_view text) {
  absl::StatusOr<imap::query::Query> query = imap::query::ParseQuery(text);
  if (!query.ok()) return InvalidFields({{"query", std::string(query.status().message())}});
  absl::StatusOr<imap::query::Plan> plan = imap::query::Compile(*query);
  if (!plan.ok()) return InvalidFields({{"query", std::string(plan.status().message())}});
  return plan;
}

absl::StatusOr<TestQueryResponse> RunTestQuery(const connector::v1::Connection& c,
                                               absl::string_view text, int sample_size,
                                               absl::Time deadline, StreamControl* control) {
  absl::StatusOr<TestQueryResponse> result = RunTestQueryAttached(c, text, sample_size, deadline, control);
  if (!result.ok() && control != nullptr && control->cancelled()) {
    return absl::CancelledError("TestQuery was cancelled");
  }
  return result;
}

absl::StatusOr<TestQueryResponse> RunTestQueryAttached(const connector::v1::Connection& c,
                                                       absl::string_view text, int sample_size,
                                                       absl::Time deadline, StreamControl* control) {
  TestQueryResponse response;
  absl::Time start = absl::Now();
  absl::StatusOr<imap::query::Plan> plan = CompileQuery(text);
  if (!plan.ok()) return plan.status();
  response.set_query(std::string(text));
  for (connector::v1::ColumnSchema& s : SchemaOf(plan->columns)) *response.add_schema() = std::move(s);
  if (plan->residual.has_value()) response.set_client_filter(imap::query::RenderExpr(*plan->residual));
  AddStep(&response, "compile", absl::Now() - start,
          absl::StrCat("SEARCH ", imap::query::SearchText(plan->search),
                       plan->search_is_exact ? " (exact)" : " (then checked on the client)"));

  std::vector<TimedStep> steps;
  OpenOptions open;
  if (control != nullptr) open.cancelled = [control] { return control->cancelled(); };
  open.control = control;
  absl::StatusOr<std::unique_ptr<imap::Session>> session = OpenSession(c, deadline, &steps, open);
  for (TimedStep& s : steps) AddStep(&response, s.name, s.duration, std::move(s.detail));
  if (!session.ok()) return session.status();
  // What a stream of this query may open: its parallelism is clipped by
  // the connections left of max_connections when it starts.
  const int in_use = ConnectionGovernor::Global().InUse(MailboxKey(c));
  const int limit = MaxConnections(c);
  AddStep(&response, "connections", absl::ZeroDuration(),
          absl::StrCat(in_use, " of ", limit, " connections to this mailbox in use (max_connections, "
                       "this one included); a stream's parallelism (default 2, up to 8) is clipped to the ",
                       limit - in_use + 1, " free now, extra connections being opened only while a slot "
                       "is free"));
  const AttachedTransport attached(control, &(*session)->transport());

  start = absl::Now();
  absl::StatusOr<std::vector<std::string>> folders =
      imap::records::ResolveFolders(**session, plan->folders, c.default_folder());
  if (!folders.ok()) return folders.status();
  AddStep(&response, "folders", absl::Now() - start, absl::StrJoin(*folders, ", "));

  imap::records::RunOptions options;
  options.keep_raw = std::find(plan->columns.begin(), plan->columns.end(), "raw") !=
                     plan->columns.end();
  const std::string search = imap::query::SearchText(plan->search);
  uint64_t kept = 0;
  for (const std::string& folder : *folders) {
    response.add_imap_commands(absl::StrCat("EXAMINE ", QuotedFolder(folder)));
    response.add_imap_commands(absl::StrCat("UID SEARCH ", search));
    response.add_imap_commands(absl::StrCat("UID FETCH <matched UIDs, ", options.batch_size,
                                            " per command, pipelined> ", plan->fetch_items));
    start = absl::Now();
    uint64_t sampled_here = 0;
    absl::StatusOr<imap::records::FolderResult> result = imap::records::RunOnFolder(
        **session, *plan, folder, options, [&](const imap::records::FetchedMessage& m) {
          if (kept >= static_cast<uint64_t>(sample_size)) return false;
          *response.add_samples() = BuildRecord(m, plan->columns, c.datetime_format());
          ++kept;
          ++sampled_here;
          return kept < static_cast<uint64_t>(sample_size);
        });
    if (!result.ok()) return result.status();
    connector::v1::FolderMatch* match = response.add_folders();
    match->set_folder(folder);
    match->set_uid_validity(result->uid_validity);
    match->set_messages(result->exists);
    match->set_matched_by_search(result->matched_by_search);
    match->set_search_is_exact(plan->search_is_exact);
    AddStep(&response, "run", absl::Now() - start,
            absl::StrCat(QuotedFolder(folder), ": ", result->exists, " messages, SEARCH matched ",
                         result->matched_by_search, ", ", sampled_here, " sampled"));
  }
  start = absl::Now();
  absl::Status logout = (*session)->Logout();
  AddStep(&response, "logout", absl::Now() - start, logout.ok() ? "logged out" : logout.ToString());
  return response;
}

}  // namespace server
