#include "server/record_stream.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "imap/records/query_runner.h"
#include "imap/session/session.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "server/gmail_dedup.h"
#include "server/imap_connect.h"
#include "server/log.h"
#include "server/record_builder.h"

namespace server {

void StreamControl::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  for (imap::Transport* t : transports_) t->Interrupt();
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
  transports_.push_back(transport);
  if (cancelled_) transport->Interrupt();
}

void StreamControl::Detach(imap::Transport* transport) {
  absl::MutexLock lock(&mu_);
  transports_.erase(std::remove(transports_.begin(), transports_.end(), transport),
                    transports_.end());
}

namespace {

using imap::records::Cursor;
using imap::records::FolderPosition;

// Messages per UID FETCH of a one-connection stream without LIMIT.
constexpr uint64_t kStreamingFetchMessages = 1000;
// A parallel stream's chunk, in batches (at most 500 messages), and what
// one connection may read ahead of the records being sent, in batches'
// bytes.
constexpr int kParallelChunkBatches = 5;
constexpr uint64_t kReadAheadBatches = 4;

class Streamer {
 public:
  Streamer(const StreamRequest& request, BatchSink& sink, StreamControl& control)
      : request_(request), sink_(sink), control_(control) {
    if (request.deduplicate_gmail_messages) dedup_ = std::make_unique<GmailDedup>();
    stats_.cursor = request.start;
    options_.reader.keep_attachment_content = request.include_attachment_content;
    options_.keep_raw = std::find(request.plan.columns.begin(), request.plan.columns.end(),
                                  "raw") != request.plan.columns.end();
    options_.shard_count = request.shard_count;
    options_.shard_index = request.shard_index;
    // One UID FETCH at a time is answered before the next goes out, so at
    // each command's end the server idles while we parse its last message
    // and a round trip passes: at 100 messages per command that cost about
    // 5% of a fast stream's time. Larger commands hold no more in memory
    // (messages stream through), but a LIMIT would read past its end and a
    // descending plan holds a command's messages, so those keep a batch's.
    const bool streams_through = !request.plan.limit.has_value() && !request.plan.descending;
    options_.batch_size = streams_through
                              ? kStreamingFetchMessages
                              : static_cast<uint64_t>(std::max(50, request.max_batch_records));
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
    if (session_ != nullptr) (void)session_->Logout();  // the stream is complete either way
    DropSession();
    return stats_;
  }

 private:
  bool LimitReached() const {
    return request_.plan.limit.has_value() && stats_.records >= *request_.plan.limit;
  }

  // Closes every IMAP connection of the stream.
  void DropSession() {
    if (session_ != nullptr) control_.Detach(&session_->transport());
    session_.reset();
    for (std::unique_ptr<imap::Session>& helper : helpers_) {
      if (helper != nullptr) control_.Detach(&helper->transport());
      helper.reset();
    }
  }

  // What a failed step means for the stream: the retry policy of
  // docs/retry-policy.md. Returns OK to try the step again (after
  // `*backoff_needed` says whether to wait first), or the status that ends
  // the stream. May add a record for a message that cannot be read.
  absl::Status Recover(const absl::Status& s, bool* backoff_needed) {
    *backoff_needed = true;
    const imap::ErrorKind kind = imap::GetErrorKind(s);
    const uint32_t uid = imap::GetMessageUid(s);
    if (kind == imap::ErrorKind::kLimit && absl::IsResourceExhausted(s) && uid != 0 &&
        imap::GetMessageSize(s) > 0) {
      // A message over max_message_bytes: reconnecting fetches it again.
      if (!request_.connection.skip_oversized_messages()) return s;
      *backoff_needed = false;
      return AddUnreadable(uid, std::string(s.message()), imap::GetMessageSize(s));
    }
    if (kind == imap::ErrorKind::kMalformed) {
      // Once may be a glitch of the line; the same answer twice in a row is
      // the server's (or the message's) and would repeat forever.
      const std::pair<std::string, uint32_t> where{current_folder_, uid};
      const bool again = last_malformed_.has_value() && *last_malformed_ == where &&
                         stats_.records == records_at_malformed_;
      last_malformed_ = where;
      records_at_malformed_ = stats_.records;
      if (!again) return absl::OkStatus();
      last_malformed_.reset();
      if (uid == 0) {
        return imap::WithErrorKind(
            absl::InternalError(absl::StrCat("the server's answer did not parse twice in a row "
                                             "(not a connection problem, so not retried): ",
                                             s.message())),
            kind);
      }
      *backoff_needed = false;
      return AddUnreadable(uid,
                           absl::StrCat("the server's answer for this message did not parse twice "
                                        "in a row, so it was skipped: ",
                                        s.message()),
                           absl::nullopt);
    }
    // An untrusted certificate is the same on the next connection.
    if (kind == imap::ErrorKind::kCertificate) return s;
    switch (s.code()) {
      case absl::StatusCode::kUnavailable:  // dropped, BYE, refused, [UNAVAILABLE], [INUSE]
        return absl::OkStatus();
      case absl::StatusCode::kDeadlineExceeded:  // one of timeout_ms's bounds, not the call's
        return absl::Now() < request_.deadline ? absl::OkStatus() : s;
      case absl::StatusCode::kResourceExhausted:
        // The server's own [LIMIT] (e.g. connections per user) frees up;
        // our limits do not.
        return kind == imap::ErrorKind::kUnknown ? absl::OkStatus() : s;
      default:
        return s;
    }
  }

  // Adds the record of a message that cannot be read (too large, or its
  // answer never parses): its UID and what is known, with a defect saying
  // why. The cursor moves past it, so the next attempt starts after it.
  absl::Status AddUnreadable(uint32_t uid, const std::string& why, absl::optional<uint64_t> size) {
    imap::records::FetchedMessage m;
    m.facts.uid = uid;
    m.facts.folder = current_folder_;
    m.facts.uid_validity = current_uid_validity_;
    m.facts.size = size;
    m.record.defects.push_back({"message", why});
    m.facts.record = &m.record;
    LogWarning(absl::StrCat("stream on '", request_.connection.name().substr(0, 100), "': folder \"",
                            current_folder_.substr(0, 100), "\" UID ", uid, ": ", why));
    return Add(m);
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

  // Runs `step` on a connected session; if it fails in a way a new
  // connection can fix, connects again (with backoff) and reruns `step`,
  // which resumes from the cursor. Gives up after max_reconnect_attempts
  // failures in a row without a new record.
  template <typename Step>
  absl::Status WithRetries(absl::string_view what, Step step) {
    int failures = 0;
    absl::Duration backoff = request_.backoff_initial;
    while (true) {
      IMAPC_RETURN_IF_ERROR(Interrupted());
      absl::Status s;
      bool connecting = false;  // failures to connect are labelled by OpenSession
      const uint64_t records_before = stats_.records;
      if (session_ == nullptr) {
        connecting = true;
        OpenOptions open;
        open.cancelled = [this] { return control_.cancelled(); };
        open.control = &control_;
        absl::StatusOr<std::unique_ptr<imap::Session>> session =
            OpenSession(request_.connection, request_.deadline, nullptr, open);
        if (session.ok()) {
          session_ = *std::move(session);
          control_.Attach(&session_->transport());
        } else {
          s = session.status();
        }
      }
      if (s.ok()) {
        connecting = false;
        s = step();
        if (s.ok()) return s;
      }
      DropSession();
      IMAPC_RETURN_IF_ERROR(Interrupted());
      bool backoff_needed = true;
      absl::Status recovered = Recover(s, &backoff_needed);
      if (!recovered.ok()) {
        return connecting || recovered.code() != s.code() ? recovered
                                                          : imap::Annotate(recovered, std::string(what));
      }
      if (stats_.records > records_before) {
        failures = 0;  // progress was made: every reconnect that reads something is worth it
        backoff = request_.backoff_initial;
      }
      if (backoff_needed && ++failures > request_.max_reconnect_attempts) {
        return connecting ? s : imap::Annotate(s, std::string(what));
      }
      ++stats_.reconnects;
      LogWarning(absl::StrCat("stream on '", request_.connection.name().substr(0, 100), "': ", what,
                              ": ", s.message().substr(0, 300), "; reconnecting",
                              backoff_needed ? absl::StrCat(" in ", absl::FormatDuration(backoff)) : ""));
      if (!backoff_needed) continue;
      if (!control_.WaitFor(std::min(Jittered(backoff), request_.deadline - absl::Now()))) {
        return Interrupted();
      }
      backoff = std::min(backoff * 2, request_.backoff_max);
    }
  }

  // `d` spread over [d/2, 3d/2): streams that lost their connections
  // together (a server restart, a provider throttling) do not all come
  // back at the same moment.
  absl::Duration Jittered(absl::Duration d) {
    return d * std::uniform_real_distribution<double>(0.5, 1.5)(rng_);
  }

  // Reads `folder` from the cursor's position to its end.
  absl::Status ReadFolder(const std::string& folder) {
    bool complete = false;
    current_folder_ = folder;
    auto read = [&]() -> absl::Status {
      imap::records::RunOptions options = options_;
      options.start_after = [&](const imap::MailboxInfo& box) -> absl::StatusOr<uint32_t> {
        current_uid_validity_ = box.uid_validity;
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
      if (request_.parallelism > 1) {
        absl::StatusOr<bool> done = ReadFolderInParallel(folder, options);
        if (!done.ok()) return done.status();
        complete = *done;
        return absl::OkStatus();
      }
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
    return AddRecord(
        EncodeRecord(m, request_.plan.columns, request_.connection.datetime_format()));
  }

  absl::Status AddRecord(EncodedRecord record) {
    // A message this stream delivered from another label: skipped; the
    // next record's cursor (or the folder's end) moves past it.
    if (dedup_ != nullptr && !dedup_->Admit(record.gmail_msgid)) return absl::OkStatus();
    stats_.cursor.Advance(record.folder, record.uid_validity, record.uid);
    record.cursor = stats_.cursor.Encode();
    // The cursor field as it stands now; sealing makes it somewhat longer.
    const size_t bytes = record.bytes.size() + 2 + record.cursor.size();
    if (!batch_.records.empty() &&
        batch_bytes_ + bytes > static_cast<uint64_t>(request_.max_batch_bytes)) {
      IMAPC_RETURN_IF_ERROR(Flush(""));
    }
    batch_.records.push_back(std::move(record));
    batch_bytes_ += bytes;
    ++stats_.records;
    stats_.record_bytes += bytes;
    if (batch_.records.size() >= static_cast<size_t>(request_.max_batch_records) ||
        batch_bytes_ >= static_cast<uint64_t>(request_.max_batch_bytes)) {
      return Flush("");
    }
    return absl::OkStatus();
  }

  // A session for parallel worker `w` (0 is the main one) with `folder`
  // open, checked to be the same folder the search ran on.
  absl::StatusOr<imap::Session*> WorkerSession(size_t w, const std::string& folder,
                                               uint32_t uid_validity) {
    if (w == 0) return session_.get();
    std::unique_ptr<imap::Session>& helper = helpers_[w - 1];
    if (helper == nullptr) {
      // Extra connections take a free slot of max_connections or none:
      // parallelism is clipped, never queued behind other calls.
      OpenOptions open;
      open.wait_for_slot = false;
      open.control = &control_;
      IMAPC_ASSIGN_OR_RETURN(helper, OpenSession(request_.connection, request_.deadline, nullptr, open));
      control_.Attach(&helper->transport());
    }
    IMAPC_ASSIGN_OR_RETURN(imap::MailboxInfo box, helper->Examine(folder));
    if (box.uid_validity != uid_validity) {
      // Renumbered between the search and now: search again.
      return absl::UnavailableError(absl::StrCat("folder \"", folder, "\" changed UIDVALIDITY"));
    }
    return helper.get();
  }

  // Searches `folder` on the main session, then fetches and parses its
  // chunks on up to `parallelism` sessions at once while this thread hands
  // the records on in UID order. Workers take the next chunk as they get
  // free, so a connection that cannot log in (e.g. the server's
  // per-user limit) leaves its share to the others and tries again with
  // backoff. A chunk cut short keeps the records it completed: they are
  // sent, and the next attempt starts after them. The chunk being sent
  // drains as it is read; at most `parallelism` - 1 more are read ahead,
  // each up to kReadAheadBatches batches' bytes. Returns whether the
  // folder was read to its end (not stopped by LIMIT).
  absl::StatusOr<bool> ReadFolderInParallel(const std::string& folder,
                                            const imap::records::RunOptions& options) {
    IMAPC_ASSIGN_OR_RETURN(imap::records::FolderSearch search,
                           imap::records::SearchFolder(*session_, request_.plan, folder, options));
    const imap::records::FolderResult& result = search.result;
    current_uid_validity_ = result.uid_validity;
    // Chunks of five batches: each costs a command's round trip and its
    // wait for the chunk before it (records leave in order), which at one
    // batch per chunk took 15% of a fast stream's time; a chunk read ahead
    // is bounded in bytes below, not by its length.
    const int chunk_records = request_.chunk_records > 0
                                  ? request_.chunk_records
                                  : kParallelChunkBatches * request_.max_batch_records;
    // What a connection may hold of a chunk not being sent yet.
    const uint64_t read_ahead_bytes =
        kReadAheadBatches * static_cast<uint64_t>(request_.max_batch_bytes);
    const uint64_t chunk = static_cast<uint64_t>(std::clamp(chunk_records, 1, 500));
    const std::vector<imap::wire::UidSet> chunks =
        search.uids.empty() ? std::vector<imap::wire::UidSet>()
                            : search.uids.Chunks(chunk, imap::records::kMaxRangesPerFetch);
    const size_t workers = std::min<size_t>(static_cast<size_t>(request_.parallelism),
                                            std::max<size_t>(1, chunks.size()));
    helpers_.resize(static_cast<size_t>(request_.parallelism) - 1);

    struct Chunk {
      bool done = false;
      // Complete records not yet taken by the sending thread, even when
      // status fails.
      std::vector<EncodedRecord> records;
      uint64_t bytes = 0;  // of `records`
      absl::Status status;
    };
    struct Shared {
      absl::Mutex mu;
      std::vector<Chunk> chunks;
      size_t next_to_take = 0;
      size_t next_emit = 0;
      size_t alive = 0;  // workers that may still complete a chunk
      bool stop = false;
      absl::Status last_connect_error;
    } shared;
    shared.chunks.resize(chunks.size());
    shared.alive = workers;
    const std::string format = request_.connection.datetime_format();
    auto work = [&](size_t w) {
      imap::Session* session = nullptr;
      absl::Duration backoff = request_.backoff_initial;
      int connect_failures = 0;
      auto quit = [&] {
        absl::MutexLock lock(&shared.mu);
        --shared.alive;
      };
      while (true) {
        if (session == nullptr) {
          absl::StatusOr<imap::Session*> opened = WorkerSession(w, folder, result.uid_validity);
          if (!opened.ok()) {
            // The others carry on; this one tries again later, unless
            // nothing is left to do or it keeps failing.
            absl::MutexLock lock(&shared.mu);
            shared.last_connect_error = opened.status();
            if (++connect_failures > request_.max_reconnect_attempts || w == 0) {
              --shared.alive;
              return;
            }
            if (connect_failures == 1) LogWarning(absl::StrCat("stream on '", request_.connection.name().substr(0, 100),
                                    "': extra connection ", w, ": ", opened.status().message().substr(0, 300),
                                    "; the other connections go on, retrying it in ",
                                    absl::FormatDuration(backoff)));
            auto nothing_left = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
              return shared.stop || shared.next_to_take >= shared.chunks.size();
            };
            shared.mu.AwaitWithTimeout(absl::Condition(&nothing_left), backoff);
            if (nothing_left()) {
              --shared.alive;
              return;
            }
            backoff = std::min(backoff * 2, request_.backoff_max);
            continue;
          }
          session = *opened;
        }
        size_t c = 0;
        {
          absl::MutexLock lock(&shared.mu);
          auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
            return shared.stop || shared.next_to_take >= shared.chunks.size() ||
                   shared.next_to_take < shared.next_emit + workers;
          };
          shared.mu.Await(absl::Condition(&ready));
          if (shared.stop || shared.next_to_take >= shared.chunks.size()) {
            --shared.alive;
            return;
          }
          c = shared.next_to_take++;
        }
        // Records are handed over a few at a time as they are built (one
        // at a time would wake the sending thread for every record): the
        // chunk being sent drains while it is read. A chunk ahead of it
        // fills up to read_ahead_bytes; then its connection waits, with
        // the rest of the answer unread, until the sending thread takes
        // what it holds.
        constexpr size_t kHandOver = 16;
        constexpr uint64_t kHandOverBytes = 256 << 10;
        std::vector<EncodedRecord> built;
        uint64_t built_bytes = 0;
        auto hand_over = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
          Chunk& to = shared.chunks[c];
          for (auto& r : built) to.records.push_back(std::move(r));
          to.bytes += built_bytes;
          built.clear();
          built_bytes = 0;
        };
        absl::Status s = imap::records::FetchMatching(
            *session, request_.plan, folder, result.uid_validity, chunks[c], options,
            [&](imap::records::FetchedMessage& m) {
              built.push_back(EncodeRecord(m, request_.plan.columns, format));
              built_bytes += built.back().bytes.size();
              if (built.size() < kHandOver && built_bytes < kHandOverBytes) return true;
              absl::MutexLock lock(&shared.mu);
              hand_over();
              auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
                return shared.stop || shared.chunks[c].bytes < read_ahead_bytes;
              };
              shared.mu.Await(absl::Condition(&room));
              return !shared.stop;  // stopped: the rest of the answer is skipped
            });
        {
          absl::MutexLock lock(&shared.mu);
          hand_over();
          shared.chunks[c].status = s;
          shared.chunks[c].done = true;
        }
        if (!s.ok()) {
          // This connection is broken; the chunk's error ends this attempt
          // once the records before it are sent.
          quit();
          return;
        }
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
    std::thread main_worker(work, 0);

    absl::Status status;
    bool stopped = false;
    for (size_t c = 0; c < chunks.size() && status.ok() && !stopped; ++c) {
      // Send chunk c's records as they come, until it is done.
      bool chunk_done = false;
      while (!chunk_done && status.ok() && !stopped) {
        std::vector<EncodedRecord> ready;
        absl::Status chunk_status;
        {
          absl::MutexLock lock(&shared.mu);
          Chunk& sending = shared.chunks[c];
          auto available = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
            return !sending.records.empty() || sending.done || shared.alive == 0;
          };
          shared.mu.Await(absl::Condition(&available));
          if (sending.records.empty() && !sending.done) {
            status = Interrupted();
            if (status.ok()) {
              status = shared.last_connect_error.ok()
                           ? imap::WithErrorKind(absl::UnavailableError("no connection of the stream works"),
                                                 imap::ErrorKind::kProtocol)
                           : shared.last_connect_error;
            }
            break;
          }
          ready.swap(sending.records);
          sending.bytes = 0;
          chunk_done = sending.done;
          chunk_status = sending.status;
        }
        for (EncodedRecord& r : ready) {
          status = AddRecord(std::move(r));
          if (!status.ok() || LimitReached()) {
            stopped = true;
            break;
          }
        }
        if (chunk_done && status.ok() && !stopped && !chunk_status.ok()) status = chunk_status;
      }
      absl::MutexLock lock(&shared.mu);
      shared.next_emit = c + 1;
    }
    {
      absl::MutexLock lock(&shared.mu);
      shared.stop = true;
    }
    main_worker.join();
    for (std::thread& t : threads) t.join();
    IMAPC_RETURN_IF_ERROR(status);
    if (stopped) return false;
    stats_.cursor.Advance(folder, result.uid_validity, result.highest_searched_uid,
                          result.highest_modseq);
    return true;
  }

  // Sends the batch (with the cursor after it); an empty batch only when
  // it says a folder is done or it is the first.
  absl::Status Flush(const std::string& folder_done) {
    if (batch_.records.empty() && folder_done.empty() && stats_.batches > 0) {
      return absl::OkStatus();
    }
    if (stats_.batches == 0) {
      for (connector::v1::ColumnSchema& s : SchemaOf(request_.plan.columns)) {
        *batch_.response.add_schema() = std::move(s);
      }
    }
    batch_.response.set_cursor(stats_.cursor.Encode());
    batch_.response.set_folder_done(folder_done);
    OutgoingBatch out = std::move(batch_);
    batch_ = OutgoingBatch();
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
          // Ended and begun again every idle_refresh_ms: the folder is
          // checked in between, so mail shows within that interval even
          // where IDLE itself only polls slowly (Courier).
          const absl::Duration refresh =
              request_.connection.idle_refresh_ms() > 0
                  ? absl::Milliseconds(request_.connection.idle_refresh_ms())
                  : absl::Seconds(30);
          return session_
              ->Idle(std::min({request_.idle_renew, refresh, request_.deadline - absl::Now()}))
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
  // The other sessions of a parallel stream (parallelism - 1 of them).
  std::vector<std::unique_ptr<imap::Session>> helpers_;
  std::vector<std::string> folders_;
  // The folder being read and its UIDVALIDITY, for records of messages
  // that cannot be read.
  std::string current_folder_;
  uint32_t current_uid_validity_ = 0;
  // Where the last malformed answer was (folder, UID; 0 when unknown) and
  // how many records had been sent then: the same place twice in a row
  // without progress is not retried again.
  std::optional<std::pair<std::string, uint32_t>> last_malformed_;
  uint64_t records_at_malformed_ = 0;
  OutgoingBatch batch_;
  uint64_t batch_bytes_ = 0;
  std::mt19937 rng_{std::random_device{}()};
  StreamStats stats_;
  std::unique_ptr<GmailDedup> dedup_;  // with deduplicate_gmail_messages
};

}  // namespace

absl::StatusOr<StreamStats> RunRecordStream(const StreamRequest& request, BatchSink& sink,
                                            StreamControl& control) {
  Streamer streamer(request, sink, control);
  return streamer.Run();
}

}  // namespace server
