#include "server/write_records.h"

#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "imap/mime/composer.h"
#include "imap/mime/message_reader.h"
#include "imap/records/query_runner.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "imap/wire/command_writer.h"
#include "server/imap_connect.h"
#include "server/status_convert.h"
#include "server/test_query.h"

namespace server {
namespace {

using connector::v1::OutgoingMessage;
using connector::v1::WriteResult;

// A system flag APPEND may set, or a keyword atom.
bool IsStoredFlag(const std::string& f) {
  static constexpr absl::string_view kSystem[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"};
  for (absl::string_view s : kSystem) {
    if (absl::EqualsIgnoreCase(f, s)) return true;
  }
  return f.size() <= 200 && imap::wire::IsAtom(f);
}

std::vector<imap::mime::ComposeAddress> Addresses(google::protobuf::RepeatedPtrField<connector::v1::Address>* list) {
  std::vector<imap::mime::ComposeAddress> out;
  for (connector::v1::Address& a : *list) out.push_back({std::move(*a.mutable_name()), std::move(*a.mutable_address())});
  return out;
}

// The composer's input, taking the bytes out of `m` (no copy of attachments).
imap::mime::ComposeInput ToComposeInput(connector::v1::ComposedMessage* m) {
  imap::mime::ComposeInput in;
  in.from = Addresses(m->mutable_from());
  in.to = Addresses(m->mutable_to());
  in.cc = Addresses(m->mutable_cc());
  in.bcc = Addresses(m->mutable_bcc());
  in.reply_to = Addresses(m->mutable_reply_to());
  in.subject = std::move(*m->mutable_subject());
  if (m->date_unix_millis() != 0) in.date = absl::FromUnixMillis(m->date_unix_millis());
  in.message_id = std::move(*m->mutable_message_id());
  in.in_reply_to = std::move(*m->mutable_in_reply_to());
  for (std::string& r : *m->mutable_references()) in.references.push_back(std::move(r));
  in.text_body = std::move(*m->mutable_text_body());
  in.html_body = std::move(*m->mutable_html_body());
  for (connector::v1::OutgoingAttachment& a : *m->mutable_attachments()) {
    in.attachments.push_back({std::move(*a.mutable_filename()), std::move(*a.mutable_content_type()),
                              std::move(*a.mutable_content()), std::move(*a.mutable_content_id()), a.inline_()});
  }
  for (connector::v1::Header& h : *m->mutable_headers()) {
    in.extra_headers.emplace_back(std::move(*h.mutable_name()), std::move(*h.mutable_value()));
  }
  return in;
}

// The Message-ID of a raw message, read from its header only.
std::string MessageIdOf(absl::string_view raw) {
  size_t end = raw.find("\r\n\r\n");
  if (end == absl::string_view::npos) end = raw.find("\n\n");
  const absl::string_view header = raw.substr(0, end == absl::string_view::npos ? raw.size() : end + 2);
  return imap::mime::ReadMessage(header).message_id;
}

void SetError(WriteResult* r, const absl::Status& s) {
  r->set_error_code(static_cast<int>(s.code()));
  r->set_error_message(std::string(s.message()));
}

class Writer {
 public:
  Writer(const connector::v1::Connection& c, std::string folder, const connector::v1::WriteOptions& o,
         absl::Time deadline, StreamControl* control)
      : connection_(c), folder_(std::move(folder)), options_(o), deadline_(deadline), control_(control) {}
  ~Writer() { Drop(); }

  // The folder written to (after Open(), a role resolved).
  const std::string& folder() const { return folder_; }

  absl::Status Open() {
    Drop();
    IMAPC_ASSIGN_OR_RETURN(session_, OpenSession(connection_, deadline_));
    attached_.emplace(control_, &session_->transport());
    // A role ("\Sent", from FROM role:sent) names the folder that has it.
    if (absl::StartsWith(folder_, "\\")) {
      IMAPC_ASSIGN_OR_RETURN(std::vector<std::string> resolved,
                             imap::records::ResolveFolders(*session_, {folder_}, connection_.default_folder()));
      if (!resolved.empty()) folder_ = resolved[0];
    }
    // STATUS checks the folder without selecting it: APPEND into a folder
    // selected read-only (EXAMINE) is refused by Courier ("Current box is
    // selected READ-ONLY").
    absl::Status found = session_->Status(folder_).status();
    if (found.code() == absl::StatusCode::kNotFound && options_.create_folder()) {
      IMAPC_RETURN_IF_ERROR(imap::Annotate(session_->Create(folder_), absl::StrCat("creating \"", folder_, "\"")));
      found = session_->Status(folder_).status();
    }
    if (found.code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("folder \"", folder_, "\" does not exist (", found.message(),
                                              "); set create_folder to create it"));
    }
    IMAPC_RETURN_IF_ERROR(found);
    // Looking for a Message-ID needs SEARCH, so a selected folder: SELECT
    // it read-write, which every server lets us APPEND into.
    if (options_.skip_existing_message_ids()) IMAPC_RETURN_IF_ERROR(session_->Select(folder_).status());
    return absl::OkStatus();
  }

  void Write(int index, OutgoingMessage& m, WriteResult* result) {
    result->set_index(index);
    const std::string field = absl::StrCat("messages[", index, "]");
    for (int f = 0; f < m.flags_size(); ++f) {
      if (!IsStoredFlag(m.flags(f))) {
        SetError(result, absl::InvalidArgumentError(absl::StrCat(
                             field, ".flags[", f, "]: '", m.flags(f),
                             "' is neither a system flag (\\Seen ...) nor a keyword atom")));
        return;
      }
    }
    const int64_t date = m.internal_date_unix_millis();
    if (date != 0 && (date < kMinInternalDateMillis || date > kMaxInternalDateMillis)) {
      SetError(result, absl::InvalidArgumentError(absl::StrCat(
                           field, ".internal_date_unix_millis: is ", date, ", outside what IMAP servers store: ",
                           kMinInternalDateMillis, " (1970-01-01T00:00:01Z) to ", kMaxInternalDateMillis,
                           " (2106-02-07T06:28:15Z); 0 means the time of arrival")));
      return;
    }
    std::string composed;
    absl::string_view bytes;
    std::string message_id;
    switch (m.content_case()) {
      case OutgoingMessage::kRaw:
        bytes = m.raw();
        if (bytes.empty()) {
          SetError(result, absl::InvalidArgumentError(absl::StrCat(field, ".raw: is empty")));
          return;
        }
        if (bytes.find('\0') != absl::string_view::npos) {
          SetError(result, absl::InvalidArgumentError(absl::StrCat(field, ".raw: contains a NUL byte, which IMAP cannot store")));
          return;
        }
        message_id = MessageIdOf(bytes);
        break;
      case OutgoingMessage::kComposed: {
        absl::StatusOr<imap::mime::ComposedMessage> c =
            imap::mime::ComposeMessage(ToComposeInput(m.mutable_composed()));
        if (!c.ok()) {
          SetError(result, absl::InvalidArgumentError(absl::StrCat(field, ".composed.", c.status().message())));
          return;
        }
        composed = std::move(c->bytes);
        bytes = composed;
        message_id = std::move(c->message_id);
        break;
      }
      default:
        SetError(result, absl::InvalidArgumentError(absl::StrCat(field, ": give raw or composed")));
        return;
    }
    result->set_message_id(message_id);
    std::vector<std::string> flags(m.flags().begin(), m.flags().end());
    absl::optional<absl::Time> internal_date;
    if (date != 0) internal_date = absl::FromUnixMillis(date);

    // One reconnect per message when the connection drops under it.
    for (int attempt = 0; attempt < 2; ++attempt) {
      absl::Status s = session_ == nullptr ? Open() : absl::OkStatus();
      if (s.ok() && options_.skip_existing_message_ids() && !message_id.empty()) {
        absl::StatusOr<bool> exists = Exists(message_id);
        if (!exists.ok()) {
          s = exists.status();
        } else if (*exists) {
          result->set_skipped_duplicate(true);
          return;
        }
      }
      if (s.ok()) {
        absl::StatusOr<imap::AppendResult> appended = session_->Append(folder_, bytes, flags, internal_date);
        if (appended.ok()) {
          result->set_uid(appended->uid.value_or(0));
          result->set_uid_validity(appended->uid_validity.value_or(0));
          if (!message_id.empty()) written_ids_.insert(message_id);
          return;
        }
        s = appended.status();
      }
      if (s.code() != absl::StatusCode::kUnavailable || absl::Now() >= deadline_) {
        SetError(result, s);
        return;
      }
      if (control_ != nullptr && control_->cancelled()) {
        SetError(result, absl::CancelledError("the call was cancelled"));
        return;
      }
      Drop();  // dropped: reconnect and try once more
    }
    SetError(result, absl::UnavailableError("the IMAP connection dropped twice while writing this message"));
  }

  void Close() {
    if (session_ != nullptr) (void)session_->Logout();
    Drop();
  }

 private:
  void Drop() {
    attached_.reset();  // before the transport goes
    session_.reset();
  }

  absl::StatusOr<bool> Exists(const std::string& message_id) {
    // What this call appended is known here; SEARCH answers for the rest.
    if (written_ids_.count(message_id) > 0) return true;
    imap::Session::SearchCriteria c;
    c.Key("HEADER Message-ID").String(message_id);
    IMAPC_ASSIGN_OR_RETURN(imap::wire::UidSet found, session_->UidSearch(c));
    return !found.empty();
  }

  const connector::v1::Connection& connection_;
  std::string folder_;  // a role is replaced by the folder that has it on Open()
  const connector::v1::WriteOptions& options_;
  const absl::Time deadline_;
  StreamControl* const control_;
  std::unique_ptr<imap::Session> session_;
  std::optional<AttachedTransport> attached_;
  std::set<std::string> written_ids_;
};

}  // namespace

absl::StatusOr<std::string> TargetFolderOf(const std::string& query) {
  IMAPC_ASSIGN_OR_RETURN(imap::query::Plan plan, CompileQuery(query));
  if (plan.folders.empty()) return std::string();
  const std::string& folder = plan.folders[0];
  if (folder.find_first_of("*%") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("query: the folder to write to cannot be a pattern ('", folder, "')"));
  }
  return folder;
}

absl::StatusOr<connector::v1::WriteRecordsResponse> RunWrite(const connector::v1::Connection& connection,
                                                             const std::string& folder,
                                                             const connector::v1::WriteOptions& options,
                                                             absl::Time deadline, const NextRequest& next,
                                                             StreamControl* control) {
  connector::v1::WriteRecordsResponse response;
  response.set_folder(folder);
  Writer writer(connection, folder, options, deadline, control);
  IMAPC_RETURN_IF_ERROR(writer.Open());
  response.set_folder(writer.folder());
  connector::v1::WriteRecordsRequest request;
  // requests[0] carried the options; messages are counted from 0.
  for (int position = 1, index = 0; next(&request); ++position, ++index) {
    if (request.item_case() != connector::v1::WriteRecordsRequest::kMessage) {
      // Options mid-stream would change what the messages before them were
      // written with: refuse them rather than apply or ignore them.
      writer.Close();
      const bool options_again = request.item_case() == connector::v1::WriteRecordsRequest::kOptions;
      return InvalidFields(
          {{absl::StrCat("requests[", position, "]", options_again ? ".options" : ""),
            absl::StrCat(options_again ? "only the first request may carry options"
                                       : "carries neither options nor a message",
                         "; the ", index, " messages before it were processed (", response.written(),
                         " written, ", response.skipped(), " skipped, ", response.failed(),
                         " failed) and the rest of the stream was not read")}});
    }
    WriteResult* result = response.add_results();
    writer.Write(index, *request.mutable_message(), result);
    if (result->error_code() != 0) {
      response.set_failed(response.failed() + 1);
    } else if (result->skipped_duplicate()) {
      response.set_skipped(response.skipped() + 1);
    } else {
      response.set_written(response.written() + 1);
    }
    request.Clear();
  }
  writer.Close();
  return response;
}

}  // namespace server
