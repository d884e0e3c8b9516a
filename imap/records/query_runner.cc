#include "imap/records/query_runner.h"

#include <algorithm>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/mime/content_type.h"
#include "imap/mime/message_reader.h"
#include "imap/mime/transfer_decoder.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_join.h"
#include "imap/session/fetch.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "imap/wire/fetch_data.h"
#include "imap/wire/mutf7.h"

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

absl::Status CheckServerSupports(const Session& session, const query::Plan& plan) {
  if (plan.gmail_fields.empty() || session.HasCapability("X-GM-EXT-1")) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(plan.gmail_fields[0],
                   " needs a Gmail server (X-GM-EXT-1); this server does not offer it"));
}

namespace {

// Folder roles: the special-use attributes of RFC 6154, Gmail's \Important,
// and \Inbox (Gmail's old XLIST role), which is always INBOX.
constexpr absl::string_view kRoles[] = {"\\All",   "\\Archive", "\\Drafts",
                                        "\\Flagged", "\\Important", "\\Inbox",
                                        "\\Junk",  "\\Sent",    "\\Trash"};

bool IsSelectable(const ListEntry& e) {
  for (const std::string& a : e.attributes) {
    if (absl::EqualsIgnoreCase(a, "\\Noselect") || absl::EqualsIgnoreCase(a, "\\NonExistent")) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string FolderRole(const ListEntry& entry) {
  if (absl::EqualsIgnoreCase(entry.name, "INBOX")) return "\\Inbox";
  for (const std::string& a : entry.attributes) {
    for (absl::string_view role : kRoles) {
      if (role != "\\Inbox" && absl::EqualsIgnoreCase(a, role)) return std::string(role);
    }
  }
  return "";
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
  absl::optional<std::vector<ListEntry>> everything;  // LIST "" "*", for roles
  for (const std::string& name : names) {
    if (absl::StartsWith(name, "\\")) {
      // A role: the folders whose LIST attributes carry it.
      const absl::string_view* role = nullptr;
      for (const absl::string_view& r : kRoles) {
        if (absl::EqualsIgnoreCase(r, name)) role = &r;
      }
      const std::string role_name = absl::AsciiStrToLower(name.substr(1));
      if (role == nullptr) {
        return absl::NotFoundError(absl::StrCat(
            "unknown folder role '", role_name.substr(0, 40),
            "'; known roles: all, archive, drafts, flagged, important, inbox, junk, sent, trash"));
      }
      if (*role == "\\Inbox") {
        add("INBOX");
        continue;
      }
      if (!everything.has_value()) {
        IMAPC_ASSIGN_OR_RETURN(everything, session.List("", "*"));
      }
      bool found = false;
      for (const ListEntry& e : *everything) {
        bool has_role = false;
        for (const std::string& a : e.attributes) has_role |= absl::EqualsIgnoreCase(a, *role);
        if (has_role && IsSelectable(e)) {
          add(e.name);
          found = true;
        }
      }
      if (!found) {
        return absl::NotFoundError(absl::StrCat(
            "no folder has the role ", role_name, ": the server lists none with the attribute ",
            *role, " (RFC 6154 SPECIAL-USE)"));
      }
      continue;
    }
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
      if (IsSelectable(e)) add(std::move(e.name));
    }
  }
  return out;
}

namespace {

bool IsAttachmentLike(const wire::BodyStructure& part) {
  // The MIME reader makes every uuencoded part an attachment.
  if (mime::ParseTransferEncoding(part.encoding, nullptr, "") == mime::TransferEncoding::kUuencode) {
    return true;
  }
  if (part.disposition.has_value()) {
    if (part.disposition->type == "attachment") return true;
    for (const wire::BodyParam& p : part.disposition->params) {
      if (absl::EqualsIgnoreCase(p.name, "filename") || absl::StartsWithIgnoreCase(p.name, "filename*")) {
        return true;
      }
    }
  }
  return part.Param("name").has_value();
}

}  // namespace

TextSections ChooseTextSections(const wire::BodyStructure& root) {
  TextSections out;
  for (const wire::PartRef& ref : wire::LeafParts(root, wire::NestedMessages::kAsLeaf)) {
    const wire::BodyStructure& part = *ref.part;
    if (part.type != "text" || IsAttachmentLike(part)) continue;
    if (part.subtype == "plain" && out.text.empty()) out.text = ref.section;
    if (part.subtype == "html" && out.html.empty()) out.html = ref.section;
  }
  return out;
}

namespace {

absl::Status FetchBatch(Session& session, const query::Plan& plan, const std::string& folder,
                        uint32_t uid_validity, const wire::UidSet& uids, const RunOptions& options,
                        const std::function<absl::Status(FetchedMessage&)>& emit);

// Text-parts plans: the first FETCH brought BODYSTRUCTURE (and what the
// other columns need); this fetches only the chosen text parts, grouped by
// the sections they are at, decodes them and completes the records.
absl::Status FetchTextParts(Session& session, const std::string& folder, std::vector<FetchedMessage>& messages,
                            const RunOptions& options) {
  std::map<uint32_t, FetchedMessage*> by_uid;
  std::map<std::string, wire::UidSet> groups;  // "1.1 1.2" -> UIDs
  std::map<uint32_t, TextSections> chosen;
  for (FetchedMessage& m : messages) {
    if (m.facts.record == nullptr) m.facts.record = &m.record;
    if (!m.body_structure.has_value()) continue;
    TextSections t = ChooseTextSections(*m.body_structure);
    std::string key = absl::StrCat(t.text, " ", t.html);
    if (t.text.empty() && t.html.empty()) continue;
    by_uid[m.facts.uid] = &m;
    chosen[m.facts.uid] = t;
    groups[key].Add(m.facts.uid);
  }
  for (const auto& [key, uids] : groups) {
    std::vector<std::string> items = {"UID"};
    for (absl::string_view section : absl::StrSplit(key, ' ', absl::SkipEmpty())) {
      items.push_back(absl::StrCat("BODY.PEEK[", section, "]"));
    }
    IMAPC_ASSIGN_OR_RETURN(std::unique_ptr<FetchStream> stream,
                           session.UidFetch({uids}, absl::StrCat("(", absl::StrJoin(items, " "), ")")));
    std::map<std::string, std::string> streamed;  // section -> bytes, for the next message
    while (true) {
      IMAPC_ASSIGN_OR_RETURN(FetchStream::Event event, stream->Next());
      if (event == FetchStream::Event::kDone) break;
      if (event == FetchStream::Event::kBody) {
        std::string& bytes = streamed[stream->body().section];
        char buf[64 * 1024];
        while (true) {
          IMAPC_ASSIGN_OR_RETURN(size_t n, stream->ReadBody(buf, sizeof(buf)));
          if (n == 0) break;
          if (bytes.size() < options.reader.max_body_bytes * 2) bytes.append(buf, n);
        }
        continue;
      }
      absl::StatusOr<wire::FetchAttributes> attrs = wire::ParseFetch(stream->message());
      if (!attrs.ok()) return Annotate(attrs.status(), absl::StrCat("FETCH in \"", folder, "\""));
      auto it = attrs->uid.has_value() ? by_uid.find(*attrs->uid) : by_uid.end();
      if (it == by_uid.end()) {
        streamed.clear();
        continue;
      }
      for (const wire::BodySection& section : attrs->sections) {
        if (section.data.has_value()) streamed[absl::AsciiStrToUpper(section.section)] = *section.data;
      }
      FetchedMessage& m = *it->second;
      const TextSections& t = chosen[m.facts.uid];
      for (const auto& [section, target] :
           {std::make_pair(t.text, &m.record.text_body), std::make_pair(t.html, &m.record.html_body)}) {
        if (section.empty()) continue;
        absl::StatusOr<const wire::BodyStructure*> part = wire::FindPart(*m.body_structure, section);
        if (!part.ok()) continue;
        const std::string where = absl::StrCat("part ", section, " body");
        std::unique_ptr<mime::TransferDecoder> decoder = mime::TransferDecoder::For(
            mime::ParseTransferEncoding((*part)->encoding, &m.record.defects, where), where);
        std::string decoded;
        decoder->Feed(streamed[section], &decoded);
        decoder->Finish(&decoded);
        for (const mime::Defect& d : decoder->defects()) m.record.defects.push_back(d);
        // "begin 644 name" blocks are attachments, not text, as in the reader.
        if (target == &m.record.text_body) decoded = mime::TextWithoutUuencodedFiles(decoded);
        *target = mime::DecodeText(decoded, (*part)->Param("charset").value_or(""), &m.record.defects, where);
      }
      streamed.clear();
    }
  }
  return absl::OkStatus();
}

// Fetches `uids` and hands each message, complete, to `emit`.
absl::Status FetchBatch(Session& session, const query::Plan& plan, const std::string& folder,
                        uint32_t uid_validity, const wire::UidSet& uids, const RunOptions& options,
                        const std::function<absl::Status(FetchedMessage&)>& emit) {
  if (plan.text_parts_only) {
    // Two steps: structures (and headers) first, then only the text parts.
    query::Plan first = plan;
    first.text_parts_only = false;
    std::vector<FetchedMessage> messages;
    IMAPC_RETURN_IF_ERROR(FetchBatch(session, first, folder, uid_validity, uids, options,
                                     [&](FetchedMessage& m) {
                                       messages.push_back(std::move(m));
                                       return absl::OkStatus();
                                     }));
    IMAPC_RETURN_IF_ERROR(FetchTextParts(session, folder, messages, options));
    for (FetchedMessage& m : messages) {
      m.facts.record = &m.record;  // the vector moved the records
      IMAPC_RETURN_IF_ERROR(emit(m));
    }
    return absl::OkStatus();
  }
  IMAPC_ASSIGN_OR_RETURN(std::unique_ptr<FetchStream> stream,
                         session.UidFetch({uids}, plan.fetch_items));
  mime::ReaderOptions reader_options = options.reader;
  reader_options.keep_header_list = reader_options.keep_header_list && plan.needs_header_list;
  std::unique_ptr<mime::MessageReader> reader;
  std::string raw;
  while (true) {
    IMAPC_ASSIGN_OR_RETURN(FetchStream::Event event, stream->Next());
    if (event == FetchStream::Event::kDone) return absl::OkStatus();
    if (event == FetchStream::Event::kBody) {
      // A large message or header: stream it into the MIME reader.
      reader = std::make_unique<mime::MessageReader>(reader_options);
      raw.clear();
      char buf[64 * 1024];
      while (true) {
        IMAPC_ASSIGN_OR_RETURN(size_t n, stream->ReadBody(buf, sizeof(buf)));
        if (n == 0) break;
        reader->Feed(absl::string_view(buf, n));
        if (options.keep_raw) raw.append(buf, n);
      }
      continue;
    }
    absl::StatusOr<wire::FetchAttributes> attrs = wire::ParseFetch(stream->message());
    if (!attrs.ok()) return Annotate(attrs.status(), absl::StrCat("FETCH in \"", folder, "\""));
    if (!attrs->uid.has_value() || !uids.Contains(*attrs->uid)) {
      reader.reset();  // an unsolicited update (flags changed elsewhere)
      raw.clear();
      continue;
    }
    FetchedMessage m;
    m.facts.uid = *attrs->uid;
    m.facts.folder = folder;
    m.facts.uid_validity = uid_validity;
    if (attrs->flags.has_value()) m.facts.flags = *attrs->flags;
    m.facts.internal_date = attrs->internal_date;
    m.facts.size = attrs->rfc822_size;
    if (attrs->gmail_labels.has_value()) {
      // Labels are named like folders: modified UTF-7 on the wire. A label
      // that does not decode is kept as sent rather than failing the run.
      std::vector<std::string> labels;
      for (std::string& label : *attrs->gmail_labels) {
        absl::StatusOr<std::string> utf8 = wire::DecodeMailboxName(label);
        labels.push_back(utf8.ok() ? *std::move(utf8) : std::move(label));
      }
      m.facts.gmail_labels = std::move(labels);
    }
    m.facts.gmail_msgid = attrs->gmail_msgid;
    m.facts.gmail_thread_id = attrs->gmail_thrid;
    m.body_structure = std::move(attrs->body_structure);
    // Small bodies arrive inside the FETCH response instead of streaming.
    for (const wire::BodySection& section : attrs->sections) {
      if (reader == nullptr && section.data.has_value() &&
          (section.section.empty() || absl::StartsWith(section.section, "HEADER"))) {
        reader = std::make_unique<mime::MessageReader>(reader_options);
        reader->Feed(*section.data);
        if (options.keep_raw) raw = *section.data;
      }
    }
    if (reader != nullptr) {
      m.record = reader->Finish();
      m.facts.record = &m.record;
      reader.reset();
      m.raw = std::move(raw);
      raw.clear();
    }
    IMAPC_RETURN_IF_ERROR(emit(m));
  }
}

}  // namespace

absl::StatusOr<FolderSearch> SearchFolder(Session& session, const query::Plan& plan,
                                          absl::string_view folder, const RunOptions& options) {
  FolderSearch out;
  FolderResult& result = out.result;
  result.folder = std::string(folder);
  IMAPC_RETURN_IF_ERROR(CheckServerSupports(session, plan));
  IMAPC_ASSIGN_OR_RETURN(MailboxInfo box,
                         options.read_write ? session.Select(folder) : session.Examine(folder));
  result.uid_validity = box.uid_validity;
  result.exists = box.exists;
  result.highest_modseq = box.highest_modseq;
  uint32_t uid_after = options.uid_after;
  if (options.start_after) {
    IMAPC_ASSIGN_OR_RETURN(uid_after, options.start_after(box));
  }
  if (box.exists == 0 || uid_after == UINT32_MAX) return out;
  Session::SearchCriteria criteria = ToCriteria(plan);
  if (uid_after > 0) {
    // SEARCH keys are ANDed; "n:*" also matches the largest UID when it is
    // below n, which the filter below drops.
    criteria.Key(absl::StrCat("UID ", uid_after + 1, ":*"));
  }
  absl::StatusOr<wire::UidSet> found = session.UidSearch(criteria);
  if (!found.ok()) return Annotate(found.status(), absl::StrCat("SEARCH in \"", folder, "\""));
  const uint32_t shards = std::max<uint32_t>(1, options.shard_count);
  if (uid_after > 0 || shards > 1 || options.uid_upto != UINT32_MAX) {
    wire::UidSet kept;
    for (auto [first, last] : found->ranges()) {
      first = std::max(first, uid_after + 1);
      last = std::min(last, options.uid_upto);
      for (uint64_t uid = first; uid <= last; ++uid) {
        if (shards == 1) {
          kept.AddRange(static_cast<uint32_t>(uid), last);
          break;
        }
        if (uid % shards == options.shard_index) kept.Add(static_cast<uint32_t>(uid));
      }
    }
    *found = std::move(kept);
  }
  result.matched_by_search = found->size();
  if (!found->empty()) result.highest_searched_uid = found->max();
  out.uids = *std::move(found);
  return out;
}

// FetchBatch, with the UID of the message that was arriving attached to a
// failure (WithMessageUid): the first of `uids` after the last message
// that arrived complete. A stream can then skip a message whose answer
// never parses instead of failing on it forever.
absl::Status FetchBatchNamingUid(Session& session, const query::Plan& plan,
                                 const std::string& folder, uint32_t uid_validity,
                                 const wire::UidSet& uids, const RunOptions& options,
                                 const std::function<absl::Status(FetchedMessage&)>& emit) {
  uint32_t last_complete = 0;
  absl::Status s = FetchBatch(session, plan, folder, uid_validity, uids, options,
                              [&](FetchedMessage& m) {
                                last_complete = std::max(last_complete, m.facts.uid);
                                return emit(m);
                              });
  if (s.ok() || GetMessageUid(s) != 0) return s;
  for (const auto& [first, last] : uids.ranges()) {
    if (last > last_complete) return WithMessageUid(s, std::max(first, last_complete + 1));
  }
  return s;
}

absl::Status FetchMatching(Session& session, const query::Plan& plan, const std::string& folder,
                           uint32_t uid_validity, const wire::UidSet& uids,
                           const RunOptions& options,
                           const std::function<bool(FetchedMessage&)>& on_message) {
  bool stop = false;
  return FetchBatchNamingUid(session, plan, folder, uid_validity, uids, options,
                    [&](FetchedMessage& m) -> absl::Status {
                      if (stop) return absl::OkStatus();  // drain the rest of the answer
                      if (plan.residual.has_value()) {
                        absl::StatusOr<bool> ok = query::Evaluate(*plan.residual, m.facts);
                        if (!ok.ok()) return ok.status();
                        if (!*ok) return absl::OkStatus();
                      }
                      if (!on_message(m)) stop = true;
                      return absl::OkStatus();
                    });
}

absl::StatusOr<FolderResult> RunOnFolder(
    Session& session, const query::Plan& plan, absl::string_view folder, const RunOptions& options,
    const std::function<bool(const FetchedMessage&)>& on_message) {
  IMAPC_ASSIGN_OR_RETURN(FolderSearch search, SearchFolder(session, plan, folder, options));
  FolderResult& result = search.result;
  const wire::UidSet* found = &search.uids;
  if (found->empty()) return result;

  std::vector<wire::UidSet> batches =
      found->Chunks(std::max<uint64_t>(1, options.batch_size), kMaxRangesPerFetch);
  if (plan.descending) std::reverse(batches.begin(), batches.end());
  bool stop = false;
  for (const wire::UidSet& batch : batches) {
    std::vector<FetchedMessage> kept;  // for descending order within a batch
    absl::Status s = FetchBatchNamingUid(
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
