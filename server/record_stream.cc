#include "server/record_stream.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "imap/records/query_runner.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "server/imap_connect.h"
#include "server/log.h"
#include "server/record_builder.h"

namespace server {

void StreamControl::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (transport_ != nullptr) transport_->Interrupt();
}

bool StreamControl::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool StreamControl::WaitFor(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&cancelled_), d);
  return !cancelled_;
}

void StreamControl::Attach(imap::Transport* transport) {
  absl::MutexLock lock(&mu_);
  transport_ = transport;
  if (cancelled_ && transport_ != nullptr) transport_->Interrupt();
}

namespace {

using connector::v1::StreamRecordsResponse;
using imap::records::Cursor;
using imap::records::FolderPosition;

class Streamer {
 public:
  Streamer(const StreamRequest& request, BatchSink& sink, StreamControl& control)
      : request_(request), sink_(sink), control_(control) {
    stats_.cursor = request.start;
    options_.reader.keep_attachment_content = request.include_attachment_content;
    options_.keep_raw = std::find(request.plan.columns.begin(), request.plan.columns.end(),
                                  "raw") != request.plan.columns.end();
    options_.shard_count = request.shard_count;
    options_.shard_index = request.shard_index;
    // Pipelined FETCH commands as large as a batch keep the server busy
    // while the sink takes the previous one.
    options_.batch_size = static_cast<uint64_t>(std::max(50, request.max_batch_records));
  }

  ~Streamer() { DropSession(); }

  absl::StatusOr<StreamStats> Run() {
    IMAPC_RETURN_IF_ERROR(WithRetries("list folders", [&]() -> absl::Status {
      absl::StatusOr<std::vector<std::string>> folders = imap::records::ResolveFolders(
          *session_, request_.plan.folders, request_.connection.default_folder());
      if (!folders.ok()) return folders.status();
      folders_ = *std::move(folders);
      return absl::OkStatus();
    }));
    for (const std::string& folder : folders_) {
      IMAPC_RETURN_IF_ERROR(ReadFolder(folder));
      if (LimitReached()) break;
    }
    if (request_.follow && !LimitReached()) IMAPC_RETURN_IF_ERROR(Follow());
    IMAPC_RETURN_IF_ERROR(Flush(""));
    if (session_ != nullptr) {
      control_.Attach(nullptr);
      (void)session_->Logout();  // the stream is complete either way
      session_.reset();
    }
    return stats_;
  }

 private:
  bool LimitReached() const {
    return request_.plan.limit.has_value() && stats_.records >= *request_.plan.limit;
  }

  void DropSession() {
    control_.Attach(nullptr);
    session_.reset();
  }

  // Whether `s` is the connection failing (worth reconnecting for) rather
  // than a refusal that would only repeat.
  bool Retryable(const absl::Status& s) const {
    if (s.code() == absl::StatusCode::kUnavailable) return true;
    if (s.code() == absl::StatusCode::kDeadlineExceeded) return absl::Now() < request_.deadline;
    return false;
  }

  absl::Status Interrupted() const {
    // The deadline first: gRPC also cancels a call whose deadline passed,
    // and its timer may fire a little before our clock reaches the deadline.
    if (absl::Now() + absl::Milliseconds(250) >= request_.deadline) {
      return absl::DeadlineExceededError("the call's deadline passed while streaming");
    }
    if (control_.cancelled()) return absl::CancelledError("the client cancelled the stream");
    return absl::OkStatus();
  }

  // Runs `step` on a connected session; if the connection fails, connects
  // again (with backoff) and reruns `step`, which resumes from the cursor.
  template <typename Step>
  absl::Status WithRetries(absl::string_view what, Step step) {
    int failures = 0;
    absl::Duration backoff = request_.backoff_initial;
    while (true) {
      IMAPC_RETURN_IF_ERROR(Interrupted());
      absl::Status s;
      if (session_ == nullptr) {
        absl::StatusOr<std::unique_ptr<imap::Session>> session =
            OpenSession(request_.connection, request_.deadline);
        if (session.ok()) {
          session_ = *std::move(session);
          control_.Attach(&session_->transport());
        } else {
          s = session.status();
        }
      }
      if (s.ok()) {
        const uint64_t records_before = stats_.records;
        s = step();
        if (s.ok()) return s;
        if (stats_.records > records_before) failures = 0;  // progress was made
      }
      DropSession();
      IMAPC_RETURN_IF_ERROR(Interrupted());
      if (!Retryable(s) || ++failures > request_.max_reconnect_attempts) {
        return imap::Annotate(s, std::string(what));
      }
      ++stats_.reconnects;
      LogWarning(absl::StrCat("stream on '", request_.connection.name(), "': ", what, ": ",
                              s.message(), "; reconnecting in ", absl::FormatDuration(backoff)));
      if (!control_.WaitFor(std::min(backoff, request_.deadline - absl::Now()))) {
        return Interrupted();
      }
      backoff = std::min(backoff * 2, request_.backoff_max);
    }
  }

  // Reads `folder` from the cursor's position to its end.
  absl::Status ReadFolder(const std::string& folder) {
    bool complete = false;
    auto read = [&]() -> absl::Status {
      imap::records::RunOptions options = options_;
      options.start_after = [&](const imap::MailboxInfo& box) -> absl::StatusOr<uint32_t> {
        const FolderPosition* pos = stats_.cursor.Find(folder);
        if (pos == nullptr) return 0;
        if (pos->uid_validity == box.uid_validity) return pos->last_uid;
        if (!request_.reread_on_uidvalidity_change) {
          return absl::FailedPreconditionError(absl::StrCat(
              "folder \"", folder, "\" was recreated or renumbered on the server: its UIDVALIDITY is ",
              box.uid_validity, ", the cursor's is ", pos->uid_validity,
              ", so the cursor's UIDs no longer name the same messages. Ask for a full re-read "
              "(full_reread_on_uidvalidity_change) to read the folder again from the start"));
        }
        LogWarning(absl::StrCat("folder \"", folder, "\": UIDVALIDITY changed from ",
                                pos->uid_validity, " to ", box.uid_validity, "; reading it again"));
        stats_.cursor.Forget(folder);
        return 0;
      };
      absl::Status sink_error;
      bool stopped = false;
      absl::StatusOr<imap::records::FolderResult> result = imap::records::RunOnFolder(
          *session_, request_.plan, folder, options,
          [&](const imap::records::FetchedMessage& m) {
            sink_error = Add(m);
            stopped = !sink_error.ok() || LimitReached();
            return !stopped;
          });
      IMAPC_RETURN_IF_ERROR(sink_error);
      if (!result.ok()) return result.status();
      if (!stopped) {
        // Every matching message up to the last one SEARCH found is behind
        // us, and the folder's UIDVALIDITY is on record even if none matched.
        stats_.cursor.Advance(folder, result->uid_validity, result->highest_searched_uid,
                              result->highest_modseq);
        complete = true;
      }
      return absl::OkStatus();
    };
    IMAPC_RETURN_IF_ERROR(WithRetries(absl::StrCat("folder \"", folder, "\""), read));
    if (complete) return Flush(folder);
    return absl::OkStatus();
  }

  // Adds one record to the batch, sending the batch when it is full.
  absl::Status Add(const imap::records::FetchedMessage& m) {
    connector::v1::Record record = BuildRecord(m, request_.plan.columns,
                                               request_.connection.datetime_format());
    stats_.cursor.Advance(m.facts.folder, m.facts.uid_validity, m.facts.uid);
    record.set_cursor(stats_.cursor.Encode());
    const size_t bytes = record.ByteSizeLong();
    if (batch_.records_size() > 0 &&
        batch_bytes_ + bytes > static_cast<uint64_t>(request_.max_batch_bytes)) {
      IMAPC_RETURN_IF_ERROR(Flush(""));
    }
    *batch_.add_records() = std::move(record);
    batch_bytes_ += bytes;
    ++stats_.records;
    stats_.record_bytes += bytes;
    if (batch_.records_size() >= request_.max_batch_records ||
        batch_bytes_ >= static_cast<uint64_t>(request_.max_batch_bytes)) {
      return Flush("");
    }
    return absl::OkStatus();
  }

  // Sends the batch (with the cursor after it); an empty batch only when
  // it says a folder is done or it is the first.
  absl::Status Flush(const std::string& folder_done) {
    if (batch_.records_size() == 0 && folder_done.empty() && stats_.batches > 0) {
      return absl::OkStatus();
    }
    if (stats_.batches == 0) {
      for (connector::v1::ColumnSchema& s : SchemaOf(request_.plan.columns)) {
        *batch_.add_schema() = std::move(s);
      }
    }
    batch_.set_cursor(stats_.cursor.Encode());
    batch_.set_folder_done(folder_done);
    StreamRecordsResponse out = std::move(batch_);
    batch_ = StreamRecordsResponse();
    batch_bytes_ = 0;
    ++stats_.batches;
    return sink_.Send(std::move(out));
  }

  // Waits for new mail and reads it, until cancelled or the deadline.
  absl::Status Follow() {
    const bool idle = folders_.size() == 1;
    while (true) {
      IMAPC_RETURN_IF_ERROR(Interrupted());
      IMAPC_RETURN_IF_ERROR(Flush(""));  // nothing may wait in a batch meanwhile
      if (idle) {
        auto wait = [&]() -> absl::Status {
          if (!session_->HasCapability("IDLE")) {
            return control_.WaitFor(request_.poll_interval) ? absl::OkStatus() : Interrupted();
          }
          if (!session_->selected().has_value()) {
            IMAPC_RETURN_IF_ERROR(session_->Examine(folders_[0]).status());
          }
          return session_->Idle(std::min(request_.idle_renew, request_.deadline - absl::Now()))
              .status();
        };
        IMAPC_RETURN_IF_ERROR(WithRetries("IDLE", wait));
      } else if (!control_.WaitFor(request_.poll_interval)) {
        return Interrupted();
      }
      for (const std::string& folder : folders_) IMAPC_RETURN_IF_ERROR(ReadFolder(folder));
    }
  }

  const StreamRequest& request_;
  BatchSink& sink_;
  StreamControl& control_;
  imap::records::RunOptions options_;
  std::unique_ptr<imap::Session> session_;
  std::vector<std::string> folders_;
  StreamRecordsResponse batch_;
  uint64_t batch_bytes_ = 0;
  StreamStats stats_;
};

}  // namespace

absl::StatusOr<StreamStats> RunRecordStream(const StreamRequest& request, BatchSink& sink,
                                            StreamControl& control) {
  Streamer streamer(request, sink, control);
  return streamer.Run();
}

}  // namespace server
