#include "imap/records/query_runner.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/session/fetch.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "imap/wire/fetch_data.h"

namespace imap::records {

Session::SearchCriteria ToCriteria(const query::Plan& plan) {
  Session::SearchCriteria c;
  for (const query::SearchPart& part : plan.search) {
    if (part.is_string) {
      c.String(part.text);
    } else {
      c.Key(part.text);
    }
  }
  return c;
}

absl::StatusOr<std::vector<std::string>> ResolveFolders(Session& session,
                                                        const std::vector<std::string>& names,
                                                        absl::string_view default_folder) {
  std::vector<std::string> out;
  auto add = [&out](std::string name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  };
  if (names.empty()) {
    add(std::string(default_folder));
    return out;
  }
  absl::optional<char> delimiter;
  for (const std::string& name : names) {
    if (name.find_first_of("*%") == std::string::npos) {
      add(name);
      continue;
    }
    if (!delimiter.has_value()) {
      // LIST "" "" answers with the hierarchy separator (RFC 3501 6.3.8).
      IMAPC_ASSIGN_OR_RETURN(std::vector<ListEntry> root, session.List("", ""));
      delimiter = root.empty() ? '/' : root[0].delimiter;
    }
    std::string pattern = name;
    if (*delimiter != 0 && *delimiter != '/') std::replace(pattern.begin(), pattern.end(), '/', *delimiter);
    IMAPC_ASSIGN_OR_RETURN(std::vector<ListEntry> found, session.List("", pattern));
    for (ListEntry& e : found) {
      bool selectable = true;
      for (const std::string& a : e.attributes) {
        if (absl::EqualsIgnoreCase(a, "\\Noselect") || absl::EqualsIgnoreCase(a, "\\NonExistent")) {
          selectable = false;
        }
      }
      if (selectable) add(std::move(e.name));
    }
  }
  return out;
}

namespace {

// Fetches `uids` and hands each message, complete, to `emit`.
absl::Status FetchBatch(Session& session, const query::Plan& plan, const std::string& folder,
                        uint32_t uid_validity, const wire::UidSet& uids, const RunOptions& options,
                        const std::function<absl::Status(FetchedMessage&)>& emit) {
  IMAPC_ASSIGN_OR_RETURN(std::unique_ptr<FetchStream> stream,
                         session.UidFetch({uids}, plan.fetch_items));
  std::unique_ptr<mime::MessageReader> reader;
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(FetchStream::Event event, stream->Next());
    if (event == FetchStream::Event::kDone) return absl::OkStatus();
    if (event == FetchStream::Event::kBody) {
      // A large message or header: stream it into the MIME reader.
      reader = std::make_unique<mime::MessageReader>(options.reader);
      char buf[64 * 1024];
      while (true) {
        IMAPC_ASSIGN_OR_RETURN(size_t n, stream->ReadBody(buf, sizeof(buf)));
        if (n == 0) break;
        reader->Feed(absl::string_view(buf, n));
      }
      continue;
    }
    absl::StatusOr<wire::FetchAttributes> attrs = wire::ParseFetch(stream->message());
    if (!attrs.ok()) return Annotate(attrs.status(), absl::StrCat("FETCH in \"", folder, "\""));
    if (!attrs->uid.has_value() || !uids.Contains(*attrs->uid)) {
      reader.reset();  // an unsolicited update (flags changed elsewhere)
      continue;
    }
    FetchedMessage m;
    m.facts.uid = *attrs->uid;
    m.facts.folder = folder;
    m.facts.uid_validity = uid_validity;
    if (attrs->flags.has_value()) m.facts.flags = *attrs->flags;
    m.facts.internal_date = attrs->internal_date;
    m.facts.size = attrs->rfc822_size;
    // Small bodies arrive inside the FETCH response instead of streaming.
    for (const wire::BodySection& section : attrs->sections) {
      if (reader == nullptr && section.data.has_value() &&
          (section.section.empty() || section.section == "HEADER")) {
        reader = std::make_unique<mime::MessageReader>(options.reader);
        reader->Feed(*section.data);
      }
    }
    if (reader != nullptr) {
      m.record = reader->Finish();
      m.facts.record = &m.record;
      reader.reset();
    }
    IMAPC_RETURN_IF_ERROR(emit(m));
  }
}

}  // namespace

absl::StatusOr<FolderResult> RunOnFolder(
    Session& session, const query::Plan& plan, absl::string_view folder, const RunOptions& options,
    const std::function<bool(const FetchedMessage&)>& on_message) {
  FolderResult result;
  result.folder = std::string(folder);
  IMAPC_ASSIGN_OR_RETURN(MailboxInfo box, session.Examine(folder));
  result.uid_validity = box.uid_validity;
  if (box.exists == 0) return result;
  absl::StatusOr<wire::UidSet> found = session.UidSearch(ToCriteria(plan));
  if (!found.ok()) return Annotate(found.status(), absl::StrCat("SEARCH in \"", folder, "\""));
  result.matched_by_search = found->size();

  std::vector<wire::UidSet> batches = found->Chunks(std::max<uint64_t>(1, options.batch_size));
  if (plan.descending) std::reverse(batches.begin(), batches.end());
  bool stop = false;
  for (const wire::UidSet& batch : batches) {
    std::vector<FetchedMessage> kept;  // for descending order within a batch
    absl::Status s = FetchBatch(
        session, plan, result.folder, result.uid_validity, batch, options,
        [&](FetchedMessage& m) -> absl::Status {
          if (stop) return absl::OkStatus();  // drain the rest of the answer
          if (plan.residual.has_value()) {
            absl::StatusOr<bool> ok = query::Evaluate(*plan.residual, m.facts);
            if (!ok.ok()) return ok.status();
            if (!*ok) return absl::OkStatus();
          }
          if (plan.descending) {
            kept.push_back(std::move(m));  // record pointers are fixed when emitting
            return absl::OkStatus();
          }
          ++result.emitted;
          if (!on_message(m) || (plan.limit && result.emitted >= *plan.limit)) stop = true;
          return absl::OkStatus();
        });
    IMAPC_RETURN_IF_ERROR(s);
    for (auto it = kept.rbegin(); it != kept.rend() && !stop; ++it) {
      it->facts.record = it->facts.record ? &it->record : nullptr;
      ++result.emitted;
      if (!on_message(*it) || (plan.limit && result.emitted >= *plan.limit)) stop = true;
    }
    if (stop) break;
  }
  return result;
}

}  // namespace imap::records
