#include "server/connector_service.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/unknown_field_set.h"
#include "imap/records/cursor.h"
#include "imap/util/error_kind.h"
#include "imap/util/status_macros.h"
#include "server/acknowledge.h"
#include "server/cancel_watcher.h"
#include "server/connection_spec.h"
#include "server/connection_validation.h"
#include "server/discover.h"
#include "server/imap_connect.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/record_stream.h"
#include "server/status_convert.h"
#include "server/test_connection.h"
#include "server/test_query.h"
#include "server/write_records.h"

namespace server {
namespace {

using connector::v1::Connection;

absl::Status RequireName(const std::string& name) {
  if (name.empty()) return InvalidFields({{"name", "is required"}});
  return absl::OkStatus();
}

// Logs the outcome of an RPC (never its payload) and converts the status.
// Counts a finished call, and the IMAP failure behind it, in the metrics.
void Count(absl::string_view rpc, const absl::Status& status) {
  Metrics::Global().CallFinished(rpc, status.code());
  if (status.ok()) return;
  const imap::ErrorKind kind = imap::GetErrorKind(status);
  if (kind != imap::ErrorKind::kUnknown) Metrics::Global().ImapError(imap::ErrorKindName(kind));
}

grpc::Status Finish(absl::string_view rpc, absl::string_view subject, const absl::Status& status) {
  Count(rpc, status);
  if (status.ok()) {
    LogInfo(absl::StrCat(rpc, " ", Quote(subject), ": OK"));
  } else {
    LogWarning(absl::StrCat(rpc, " ", Quote(subject), ": ", absl::StatusCodeToString(status.code()), ": ",
                            status.message()));
  }
  return ToGrpcStatus(status);
}

absl::Time DeadlineOf(const grpc::ServerContextBase& context) {
  return context.deadline() == std::chrono::system_clock::time_point::max()
             ? absl::InfiniteFuture()
             : absl::FromChrono(context.deadline());
}

absl::Status RequireSource(const Connection& c) {
  if (!c.is_source()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "connection ", Quote(c.name()), " is not a source (is_source = false): it cannot be read from"));
  }
  return absl::OkStatus();
}

// Streams batches to a gRPC client: the worker thread runs the IMAP side
// and blocks in Send() while a write is in flight, so IMAP reading pauses
// while the client is slow. Seals the cursors of what it sends. Deletes
// itself when the call is done.
class StreamReactor final : public grpc::ServerWriteReactor<connector::v1::StreamRecordsResponse>,
                            public BatchSink,
                            public OpenStreams::Member {
 public:
  // Starts the worker for `request`, or finishes at once with `error`.
  // `sealer` and `streams` must outlive the call.
  StreamReactor(grpc::CallbackServerContext* context, absl::StatusOr<StreamRequest> request,
                std::string subject, const CursorSealer* sealer, OpenStreams* streams)
      : context_(context), subject_(std::move(subject)), sealer_(sealer), streams_(streams) {
    if (!request.ok()) {
      LogWarning(absl::StrCat("StreamRecords ", Quote(subject_), ": ", request.status().ToString()));
      Count("StreamRecords", request.status());
      Finish(ToGrpcStatus(request.status()));
      return;
    }
    request_ = *std::move(request);
    delivered_cursor_ = sealer_->Seal(request_.connection.name(), request_.start.Encode());
    // A follow stream never ends by itself: shutdown ends it (and refuses
    // new ones, which would only hold the server until the grace ends).
    if (request_.follow) {
      if (!streams_->Add(this)) {
        const absl::Status refused = ShutdownStatus();
        LogInfo(absl::StrCat("StreamRecords ", Quote(subject_), ": refused, the server is shutting down"));
        Count("StreamRecords", refused);
        FinishWithCursor(refused);
        return;
      }
      registered_ = true;
    }
    Metrics::Global().StreamOpened();
    streams_->Opened();
    counted_open_ = true;
    std::thread([this] { Work(); }).detach();
  }

  absl::Status Send(OutgoingBatch batch) override {
    const std::string& name = request_.connection.name();
    // The records go in already encoded, as occurrences of the records
    // field that the message itself does not parse: serialization writes
    // them out as they are, and the client reads them as records.
    google::protobuf::UnknownFieldSet* encoded =
        batch.response.GetReflection()->MutableUnknownFields(&batch.response);
    for (EncodedRecord& record : batch.records) {
      AppendRecordCursor(sealer_->Seal(name, record.cursor), &record.bytes);
      encoded->AddLengthDelimited(connector::v1::StreamRecordsResponse::kRecordsFieldNumber)
          ->swap(record.bytes);
    }
    const uint64_t records = batch.records.size();
    batch.response.set_cursor(sealer_->Seal(name, batch.response.cursor()));
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &StreamReactor::CanWrite));
      if (ended_by_shutdown_) return absl::UnavailableError("the server is shutting down");
      if (cancelled_ || write_failed_) return absl::CancelledError("the client went away");
      pending_ = std::move(batch.response);
      in_flight_ = true;
      records_sent_ += records;
    }
    Metrics::Global().RecordsSent(records, pending_.ByteSizeLong());
    StartWrite(&pending_);  // outside the lock: OnWriteDone may run inline
    return absl::OkStatus();
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    in_flight_ = false;
    if (!ok) {
      write_failed_ = true;
    } else if (!pending_.cursor().empty()) {
      // Messages reach the client in order and before the trailer, so a
      // client that sees the trailer has every batch up to this one.
      delivered_cursor_ = pending_.cursor();
    }
  }

  void OnCancel() override {
    // gRPC cancels the calls still running when the shutdown grace ends;
    // anything else is the client (or its deadline).
    const bool by_server =
        streams_->shutting_down() && absl::Now() >= streams_->grace_end() - absl::Seconds(1);
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      cancelled_by_server_ = by_server;
    }
    control_.Cancel();
  }

  void EndForShutdown() override {
    {
      absl::MutexLock lock(&mu_);
      ended_by_shutdown_ = true;
    }
    control_.Cancel();
  }

  void OnDone() override {
    if (counted_open_) {
      Metrics::Global().StreamClosed();
      streams_->Closed();
    }
    delete this;
  }

 private:
  bool CanWrite() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return !in_flight_ || cancelled_ || write_failed_ || ended_by_shutdown_;
  }

  static absl::Status ShutdownStatus() {
    return absl::UnavailableError(absl::StrCat(
        "the server is shutting down; resume on another replica or after the restart from the "
        "cursor in the trailing metadata '", kResumeCursorTrailer, "' (the last batch's cursor)"));
  }

  // Finishes with `status`; an error carries the cursor to resume from.
  void FinishWithCursor(const absl::Status& status) {
    if (!status.ok()) {
      std::string cursor;
      {
        absl::MutexLock lock(&mu_);
        cursor = delivered_cursor_;
      }
      // Clients refuse metadata beyond 8 KiB (and the whole status with
      // it): a cursor of very many folders is left to the batches.
      if (!cursor.empty() && cursor.size() <= 4096) {
        context_->AddTrailingMetadata(kResumeCursorTrailer, cursor);
      }
    }
    Finish(ToGrpcStatus(status));
  }

  void Work() {
    const absl::Time start = absl::Now();
    absl::StatusOr<StreamStats> stats = RunRecordStream(request_, *this, control_);
    bool by_shutdown = false;
    bool by_client = false;
    bool by_grace_end = false;
    uint64_t records = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &StreamReactor::CanWrite));
      if (in_flight_) {
        // Cancelled with a write outstanding: gRPC still calls OnWriteDone.
        mu_.Await(absl::Condition(+[](bool* f) { return !*f; }, &in_flight_));
      }
      by_shutdown = ended_by_shutdown_;
      by_grace_end = cancelled_ && cancelled_by_server_;
      by_client = cancelled_ && !cancelled_by_server_;
      records = records_sent_;
    }
    if (registered_) streams_->Remove(this);
    const std::string elapsed = absl::FormatDuration(absl::Now() - start);
    absl::Status status = stats.status();
    if (stats.ok()) {
      LogInfo(absl::StrCat("StreamRecords ", Quote(subject_), ": ", stats->records, " records, ",
                           stats->record_bytes, " bytes, ", stats->batches, " batches, ",
                           stats->reconnects, " reconnects in ", elapsed));
    } else if (by_shutdown) {
      // Whatever the worker saw once interrupted, the client is told to
      // resume: the request was fine, this server is going away.
      status = ShutdownStatus();
      LogInfo(absl::StrCat("StreamRecords ", Quote(subject_), ": ended by the server shutdown after ",
                           records, " records in ", elapsed,
                           "; the client was told to resume (UNAVAILABLE)"));
    } else if (by_grace_end) {
      LogWarning(absl::StrCat("StreamRecords ", Quote(subject_),
                              ": cancelled by the server at the end of the shutdown grace period after ",
                              records, " records in ", elapsed));
    } else if (by_client && status.code() == absl::StatusCode::kCancelled) {
      LogInfo(absl::StrCat("StreamRecords ", Quote(subject_), ": the client cancelled the stream after ",
                           records, " records in ", elapsed));
    } else {
      LogWarning(absl::StrCat("StreamRecords ", Quote(subject_), ": ", status.ToString()));
    }
    Count("StreamRecords", status);
    FinishWithCursor(status);
    // Nothing may touch `this` from here on: OnDone deletes it.
  }

  grpc::CallbackServerContext* const context_;
  const std::string subject_;
  const CursorSealer* const sealer_;
  OpenStreams* const streams_;
  StreamRequest request_;
  StreamControl control_;
  absl::Mutex mu_;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_by_server_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_by_shutdown_ ABSL_GUARDED_BY(mu_) = false;
  bool write_failed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t records_sent_ ABSL_GUARDED_BY(mu_) = 0;
  // Sealed; the position after the last batch written to the client.
  std::string delivered_cursor_ ABSL_GUARDED_BY(mu_);
  connector::v1::StreamRecordsResponse pending_;
  bool counted_open_ = false;
  bool registered_ = false;
};

}  // namespace

bool OpenStreams::Add(Member* m) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) return false;
  members_.insert(m);
  return true;
}

void OpenStreams::Remove(Member* m) {
  absl::MutexLock lock(&mu_);
  members_.erase(m);
}

int64_t OpenStreams::open() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

void OpenStreams::Opened() {
  absl::MutexLock lock(&mu_);
  if (open_++ == 0) trimmer_.Busy();
}

void OpenStreams::Closed() {
  absl::MutexLock lock(&mu_);
  if (--open_ == 0) trimmer_.Idle();
}

void OpenStreams::Shutdown(absl::Time grace_end) {
  absl::MutexLock lock(&mu_);
  shutting_down_ = true;
  grace_end_ = grace_end;
  // Members stay registered until their worker removes them, which waits
  // for this lock: none can be deleted while being ended.
  for (Member* m : members_) m->EndForShutdown();
}

bool OpenStreams::shutting_down() const {
  absl::MutexLock lock(&mu_);
  return shutting_down_;
}

absl::Time OpenStreams::grace_end() const {
  absl::MutexLock lock(&mu_);
  return grace_end_;
}

ConnectorService::ConnectorService(ConnectionStore* store, std::string agent, StreamTuning tuning,
                                   BearerAuth auth, CursorSealer sealer, bool replicas_share_data_dir)
    : store_(store),
      agent_(std::move(agent)),
      tuning_(tuning),
      auth_(std::move(auth)),
      replicas_share_data_dir_(replicas_share_data_dir),
      sealer_(std::move(sealer)) {}

absl::Status ConnectorService::NotWithoutSharedDataDir(absl::string_view what,
                                                       absl::string_view why) const {
  return absl::FailedPreconditionError(absl::StrCat(
      what, ": this server is one of several replicas that do not share a data directory "
      "(--replicas_share_data_dir=false), so ", why,
      ". Resume streams with resume_after and the cursor Acknowledge (or the stream) returned, declare "
      "connections in the --connections_file, or give the replicas one shared data volume "
      "(the chart's persistence.shared)"));
}

void ConnectorService::BeginShutdown(absl::Time grace_end) {
  open_streams_.Shutdown(grace_end);
}

Connection ConnectorService::ForResponse(const Connection& c) const {
  Connection out = WithoutPassword(c);
  // Stored unsealed (the store is ours); sealed like every cursor that
  // leaves the server.
  out.set_last_ack_cursor(sealer_.Seal(c.name(), c.last_ack_cursor()));
  return out;
}

absl::StatusOr<std::string> ConnectorService::OpenCursor(const std::string& connection,
                                                         const std::string& token,
                                                         const char* field) const {
  absl::StatusOr<std::string> raw = sealer_.Open(connection, token);
  if (!raw.ok()) return InvalidFields({{field, std::string(raw.status().message())}});
  return raw;
}

absl::StatusOr<Connection> ConnectorService::Resolve(const connector::v1::ConnectionRef& ref,
                                                     std::string* subject,
                                                     const RefFields& fields) const {
  Connection connection;
  switch (ref.target_case()) {
    case connector::v1::ConnectionRef::kName: {
      *subject = ref.name();
      if (ref.name().empty()) return InvalidFields({{fields.name, "is required"}});
      absl::StatusOr<Connection> stored = store_->Get(ref.name());
      if (!stored.ok()) return stored.status();
      connection = *std::move(stored);
      break;
    }
    case connector::v1::ConnectionRef::kConnection: {
      *subject = absl::StrCat(ref.connection().name(), " (inline)");
      ValidationContext validation;
      validation.agent = agent_;
      validation.field_prefix = fields.inline_prefix;
      absl::StatusOr<ValidConnection> valid = ValidateConnection(ref.connection(), validation);
      if (!valid.ok()) return valid.status();
      connection = std::move(valid->connection);
      break;
    }
    default:
      return InvalidFields({{fields.target, "give a connection name or an inline connection"}});
  }
  if (!connection.is_active()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "connection ", Quote(connection.name()),
        " is inactive (is_active = false); activate it with Configure first"));
  }
  if (connection.cloud_agent() != agent_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "connection ", Quote(connection.name()), " belongs to agent ", Quote(connection.cloud_agent()),
        ", this server is agent '", agent_, "'"));
  }
  return connection;
}

grpc::Status ConnectorService::Configure(grpc::ServerContext* context,
                                         const connector::v1::ConfigureRequest* request,
                                         connector::v1::ConfigureResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("Configure", "", denied);
  }
  const Connection& input = request->connection();
  if (!replicas_share_data_dir_) {
    return Finish("Configure", input.name(),
                  NotWithoutSharedDataDir("Configure", "a connection configured on one replica would be "
                                                       "unknown to the others"));
  }
  ValidationContext validation;
  validation.agent = agent_;
  absl::StatusOr<Connection> existing =
      input.name().empty() ? absl::NotFoundError("") : store_->Get(input.name());
  if (existing.ok() && input.password().empty()) validation.stored_password = existing->password();
  // OAuth 2.0 secrets left empty keep the stored ones, as the password does.
  if (existing.ok()) validation.stored_oauth2 = existing->oauth2();
  absl::StatusOr<ValidConnection> valid = ValidateConnection(input, validation);
  if (!valid.ok()) return Finish("Configure", input.name(), valid.status());
  // The acknowledged position belongs to the mailbox, not to the settings,
  // and only Acknowledge sets it (last_ack_cursor is output only): Put keeps
  // the stored one, even if another replica moved it since `existing`.
  valid->connection.clear_last_ack_cursor();
  bool replaced = false;
  absl::Status stored = store_->Put(valid->connection, &replaced);
  if (!stored.ok()) return Finish("Configure", input.name(), stored);
  absl::StatusOr<Connection> now = store_->Get(input.name());
  *response->mutable_connection() = ForResponse(now.ok() ? *now : valid->connection);
  response->set_replaced(replaced);
  for (std::string& note : valid->notes) response->add_notes(std::move(note));
  return Finish("Configure", input.name(), absl::OkStatus());
}

grpc::Status ConnectorService::GetConnection(grpc::ServerContext* context,
                                             const connector::v1::GetConnectionRequest* request,
                                             Connection* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("GetConnection", "", denied);
  }
  if (absl::Status s = RequireName(request->name()); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<Connection> c = store_->Get(request->name());
  if (!c.ok()) return ToGrpcStatus(c.status());
  *response = ForResponse(*c);
  return grpc::Status::OK;
}

grpc::Status ConnectorService::ListConnections(grpc::ServerContext* context,
                                               const connector::v1::ListConnectionsRequest*,
                                               connector::v1::ListConnectionsResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("ListConnections", "", denied);
  }
  for (const Connection& c : store_->List()) *response->add_connections() = ForResponse(c);
  return grpc::Status::OK;
}

grpc::Status ConnectorService::DeleteConnection(grpc::ServerContext* context,
                                                const connector::v1::DeleteConnectionRequest* request,
                                                connector::v1::DeleteConnectionResponse*) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("DeleteConnection", "", denied);
  }
  if (absl::Status s = RequireName(request->name()); !s.ok()) return ToGrpcStatus(s);
  if (!replicas_share_data_dir_) {
    return Finish("DeleteConnection", request->name(),
                  NotWithoutSharedDataDir("DeleteConnection", "a connection deleted on one replica would "
                                                              "still be served by the others"));
  }
  absl::Status deleted = store_->Delete(request->name());
  if (deleted.ok()) ForgetToken(request->name());  // a later connection of that name starts afresh
  return Finish("DeleteConnection", request->name(), deleted);
}

grpc::Status ConnectorService::TestConnection(grpc::ServerContext* context,
                                              const connector::v1::TestConnectionRequest* request,
                                              connector::v1::TestConnectionResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("TestConnection", "", denied);
  }
  connector::v1::ConnectionRef ref;
  if (request->target_case() == connector::v1::TestConnectionRequest::kName) ref.set_name(request->name());
  if (request->target_case() == connector::v1::TestConnectionRequest::kConnection) {
    *ref.mutable_connection() = request->connection();
  }
  std::string subject;
  absl::StatusOr<Connection> resolved = Resolve(ref, &subject, kTestConnectionFields);
  if (!resolved.ok()) return Finish("TestConnection", subject, resolved.status());
  const Connection& connection = *resolved;
  const absl::Time deadline = DeadlineOf(*context);
  absl::StatusOr<connector::v1::TestConnectionResponse> result =
      [&] {
        StreamControl control;
        CancelWatcher watcher(context, &control);
        return RunConnectionTest(connection, deadline, [context] { return context->IsCancelled(); },
                                 &control);
      }();
  if (!result.ok()) return Finish("TestConnection", subject, result.status());
  *response = *std::move(result);
  if (response->ok()) {
    LogInfo(absl::StrCat("TestConnection ", Quote(subject), ": ok, ", response->message_count(),
                         " messages in ", Quote(response->folder(), '"')));
  } else {
    LogInfo(absl::StrCat("TestConnection ", Quote(subject), ": failed: ", response->message()));
  }
  return grpc::Status::OK;
}

grpc::Status ConnectorService::TestQuery(grpc::ServerContext* context,
                                         const connector::v1::TestQueryRequest* request,
                                         connector::v1::TestQueryResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("TestQuery", "", denied);
  }
  std::string subject;
  absl::StatusOr<Connection> connection = Resolve(request->connection(), &subject);
  if (!connection.ok()) return Finish("TestQuery", subject, connection.status());
  if (absl::Status s = RequireSource(*connection); !s.ok()) return Finish("TestQuery", subject, s);
  if (request->sample_size() < 0 || request->sample_size() > 100) {
    return Finish("TestQuery", subject,
                  InvalidFields({{"sample_size", absl::StrCat("is ", request->sample_size(),
                                                              "; use 0 (default 5) to 100")}}));
  }
  const std::string query = request->has_query() ? request->query() : connection->query();
  StreamControl control;
  CancelWatcher watcher(context, &control);
  absl::StatusOr<connector::v1::TestQueryResponse> result = RunTestQuery(
      *connection, query, request->sample_size() == 0 ? 5 : request->sample_size(),
      DeadlineOf(*context), &control);
  if (!result.ok()) return Finish("TestQuery", subject, result.status());
  *response = *std::move(result);
  for (connector::v1::Record& sample : *response->mutable_samples()) {
    sample.set_cursor(sealer_.Seal(connection->name(), sample.cursor()));
  }
  return Finish("TestQuery", subject, absl::OkStatus());
}

grpc::Status ConnectorService::GetSpec(grpc::ServerContext* context, const connector::v1::GetSpecRequest*,
                                       connector::v1::GetSpecResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) return Finish("GetSpec", "", denied);
  absl::StatusOr<connector::v1::GetSpecResponse> spec = BuildSpec(agent_);
  if (!spec.ok()) return Finish("GetSpec", "", spec.status());
  *response = *std::move(spec);
  return grpc::Status::OK;
}

grpc::Status ConnectorService::Discover(grpc::ServerContext* context,
                                        const connector::v1::DiscoverRequest* request,
                                        connector::v1::DiscoverResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("Discover", "", denied);
  }
  std::string subject;
  absl::StatusOr<Connection> connection = Resolve(request->connection(), &subject);
  if (!connection.ok()) return Finish("Discover", subject, connection.status());
  // Not RequireSource: a target's folders are where WriteRecords appends.
  StreamControl control;
  CancelWatcher watcher(context, &control);
  absl::StatusOr<connector::v1::DiscoverResponse> result =
      RunDiscover(*connection, DeadlineOf(*context), &control);
  if (!result.ok()) return Finish("Discover", subject, result.status());
  *response = *std::move(result);
  return Finish("Discover", subject, absl::OkStatus());
}

grpc::ServerWriteReactor<connector::v1::StreamRecordsResponse>* ConnectorService::StreamRecords(
    grpc::CallbackServerContext* context, const connector::v1::StreamRecordsRequest* request) {
  std::string subject;
  auto build = [&]() -> absl::StatusOr<StreamRequest> {
    IMAPC_RETURN_IF_ERROR(auth_.Check(*context));
    absl::StatusOr<Connection> connection = Resolve(request->connection(), &subject);
    if (!connection.ok()) return connection.status();
    IMAPC_RETURN_IF_ERROR(RequireSource(*connection));
    StreamRequest out;
    std::vector<FieldViolation> bad;
    const int records = request->max_batch_records();
    if (records < 0 || records > 10000) {
      bad.push_back({"max_batch_records", absl::StrCat("is ", records, "; use 0 (default 100) to 10000")});
    }
    const int64_t bytes = request->max_batch_bytes();
    if (bytes != 0 && (bytes < 4096 || bytes > (int64_t{64} << 20))) {
      bad.push_back({"max_batch_bytes", absl::StrCat("is ", bytes, "; use 0 (default 256 KiB) or 4096 to 67108864")});
    }
    const int shards = request->shard_count() == 0 ? 1 : request->shard_count();
    if (shards < 1 || shards > 1024) {
      bad.push_back({"shard_count", absl::StrCat("is ", request->shard_count(), "; use 0 or 1 (no split) to 1024")});
    } else if (request->shard_index() < 0 || request->shard_index() >= shards) {
      bad.push_back({"shard_index", absl::StrCat("is ", request->shard_index(), "; use 0 to ", shards - 1)});
    }
    if (request->parallelism() < 0 || request->parallelism() > 8) {
      bad.push_back({"parallelism", absl::StrCat("is ", request->parallelism(),
                                                 "; use 0 (default, 2) or 1 to 8")});
    }
    if (request->since_last_ack() && !replicas_share_data_dir_) {
      return NotWithoutSharedDataDir("since_last_ack", "no replica keeps an acknowledged position that "
                                                       "the others see");
    }
    if (!request->resume_after().empty() && request->since_last_ack()) {
      bad.push_back({"since_last_ack", "cannot be combined with resume_after; choose one"});
    }
    if (request->since_last_ack() &&
        request->connection().target_case() != connector::v1::ConnectionRef::kName) {
      bad.push_back({"since_last_ack", "needs a stored connection (by name): inline connections "
                                       "have no acknowledged position"});
    }
    // The stored position is ours already; a client's must be one we sealed
    // for this connection.
    absl::StatusOr<std::string> raw_start =
        request->since_last_ack() ? absl::StatusOr<std::string>(connection->last_ack_cursor())
                                  : sealer_.Open(connection->name(), request->resume_after());
    absl::StatusOr<imap::records::Cursor> start =
        raw_start.ok() ? imap::records::Cursor::Decode(*raw_start) : raw_start.status();
    if (!start.ok()) bad.push_back({"resume_after", std::string(start.status().message())});
    if (!bad.empty()) return InvalidFields(bad);

    const std::string query = request->has_query() ? request->query() : connection->query();
    IMAPC_ASSIGN_OR_RETURN(out.plan, CompileQuery(query));
    if (out.plan.descending) {
      return InvalidFields({{"query", "ORDER BY uid DESC is not available in StreamRecords, which "
                                      "delivers records in UID order so that cursors can resume "
                                      "them; use ORDER BY uid (or TestQuery for the newest)"}});
    }
    out.connection = *std::move(connection);
    out.start = *std::move(start);
    out.reread_on_uidvalidity_change = request->full_reread_on_uidvalidity_change();
    out.max_batch_records = records == 0 ? 100 : records;
    out.max_batch_bytes = bytes == 0 ? kDefaultMaxBatchBytes : bytes;
    if (open_streams_.open() > kBusyStreams) {
      // Many streams share the server: smaller defaults keep its memory down.
      if (bytes == 0) out.max_batch_bytes = kBusyMaxBatchBytes;
      out.chunk_records = std::max(1, out.max_batch_records / 2);
    }
    out.include_attachment_content = request->include_attachment_content();
    out.follow = request->follow();
    out.deduplicate_gmail_messages = request->deduplicate_gmail_messages();
    if (out.deduplicate_gmail_messages) {
      // Repeats are recognised by X-GM-MSGID, which only Gmail has.
      imap::query::RequireGmailMessageIds(&out.plan, "deduplicate_gmail_messages");
    }
    out.shard_count = static_cast<uint32_t>(shards);
    out.shard_index = static_cast<uint32_t>(request->shard_index());
    // Two connections by default: parsing on one overlaps fetching on the
    // other (1.26x the records/s of one connection on 10,000 messages).
    out.parallelism = request->parallelism() == 0 ? 2 : request->parallelism();
    out.deadline = DeadlineOf(*context);
    out.poll_interval = tuning_.poll_interval;
    out.idle_renew = tuning_.idle_renew;
    out.backoff_initial = tuning_.backoff_initial;
    out.backoff_max = tuning_.backoff_max;
    out.max_reconnect_attempts = tuning_.max_reconnect_attempts;
    return out;
  };
  absl::StatusOr<StreamRequest> stream = build();
  return new StreamReactor(context, std::move(stream), subject, &sealer_, &open_streams_);
}

grpc::Status ConnectorService::Acknowledge(grpc::ServerContext* context,
                                           const connector::v1::AcknowledgeRequest* request,
                                           connector::v1::AcknowledgeResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("Acknowledge", "", denied);
  }
  std::string subject;
  absl::StatusOr<Connection> connection = Resolve(request->connection(), &subject);
  if (!connection.ok()) return Finish("Acknowledge", subject, connection.status());
  if (absl::Status s = RequireSource(*connection); !s.ok()) return Finish("Acknowledge", subject, s);
  // Refused before anything runs or is stored: a cursor of another
  // connection (or a forged one) would make every since_last_ack fail.
  absl::StatusOr<std::string> raw_cursor = OpenCursor(connection->name(), request->cursor(), "cursor");
  if (!raw_cursor.ok()) return Finish("Acknowledge", subject, raw_cursor.status());
  absl::StatusOr<imap::records::Cursor> cursor = imap::records::Cursor::Decode(*raw_cursor);
  if (!cursor.ok()) {
    return Finish("Acknowledge", subject,
                  InvalidFields({{"cursor", std::string(cursor.status().message())}}));
  }
  if (cursor->empty()) {
    return Finish("Acknowledge", subject, InvalidFields({{"cursor", "is required"}}));
  }
  const bool override_actions = request->has_post_actions();
  const connector::v1::PostActions& actions =
      override_actions ? request->post_actions() : connection->post_actions();
  if (override_actions) {
    if (absl::Status s = ValidatePostActions(actions, "post_actions"); !s.ok()) {
      return Finish("Acknowledge", subject, s);
    }
  }
  const std::string query = request->has_query() ? request->query() : connection->query();
  absl::StatusOr<imap::query::Plan> plan = CompileQuery(query);
  if (!plan.ok()) return Finish("Acknowledge", subject, plan.status());
  // Post-actions look at which messages match, not at their columns.
  plan->limit.reset();

  // Replicas without a shared data directory record nothing: a position
  // stored on this replica would be unknown to the others (and
  // since_last_ack is refused there). The post-actions still run, from the
  // start of each folder, which is idempotent.
  const bool stored = replicas_share_data_dir_ &&
                      request->connection().target_case() == connector::v1::ConnectionRef::kName;
  absl::MutexLock lock(&ack_mu_);
  imap::records::Cursor previous;
  if (stored) {
    // Re-read under the lock: another Acknowledge may just have moved it.
    absl::StatusOr<Connection> current = store_->Get(connection->name());
    if (!current.ok()) return Finish("Acknowledge", subject, current.status());
    absl::StatusOr<imap::records::Cursor> last =
        imap::records::Cursor::Decode(current->last_ack_cursor());
    if (last.ok()) previous = *std::move(last);
  }
  absl::StatusOr<AckResult> result =
      [&] {
        StreamControl control;
        CancelWatcher watcher(context, &control);
        return RunAcknowledge(*connection, *plan, previous, *cursor, actions, DeadlineOf(*context),
                              &control);
      }();
  if (!result.ok()) return Finish("Acknowledge", subject, result.status());
  std::string encoded = result->acknowledged.Encode();
  if (stored) {
    // Merged with the stored one: another replica may have acknowledged
    // further meanwhile, and the answer is the position now recorded.
    absl::StatusOr<std::string> recorded = store_->RecordAcknowledged(connection->name(), encoded);
    if (!recorded.ok()) return Finish("Acknowledge", subject, recorded.status());
    encoded = *std::move(recorded);
  }
  response->set_recorded(stored);
  response->set_messages_changed(result->messages_changed);
  response->set_cursor(sealer_.Seal(connection->name(), encoded));
  LogInfo(absl::StrCat("Acknowledge ", Quote(subject), ": ", result->messages_changed,
                       " messages changed"));
  return grpc::Status::OK;
}

grpc::Status ConnectorService::WriteRecords(
    grpc::ServerContext* context, grpc::ServerReader<connector::v1::WriteRecordsRequest>* reader,
    connector::v1::WriteRecordsResponse* response) {
  if (absl::Status denied = auth_.Check(*context); !denied.ok()) {
    return Finish("WriteRecords", "", denied);
  }
  connector::v1::WriteRecordsRequest first;
  if (!reader->Read(&first) || first.item_case() != connector::v1::WriteRecordsRequest::kOptions) {
    return Finish("WriteRecords", "",
                  InvalidFields({{"options", "the first request must carry the write options"}}));
  }
  const connector::v1::WriteOptions options = first.options();
  std::string subject;
  absl::StatusOr<Connection> connection = Resolve(options.connection(), &subject);
  if (!connection.ok()) return Finish("WriteRecords", subject, connection.status());
  if (!connection->is_target()) {
    return Finish("WriteRecords", subject,
                  absl::FailedPreconditionError(absl::StrCat(
                      "connection ", Quote(connection->name()),
                      " is not a target (is_target = false): set is_target to write into it")));
  }
  std::string folder;
  for (const std::string* query : {options.has_query() ? &options.query() : nullptr, &connection->query()}) {
    if (query == nullptr || !folder.empty()) continue;
    absl::StatusOr<std::string> named = TargetFolderOf(*query);
    if (!named.ok()) return Finish("WriteRecords", subject, named.status());
    folder = *named;
  }
  if (folder.empty()) folder = connection->default_folder();
  StreamControl control;
  CancelWatcher watcher(context, &control);
  absl::StatusOr<connector::v1::WriteRecordsResponse> result = RunWrite(
      *connection, folder, options, DeadlineOf(*context),
      [&](connector::v1::WriteRecordsRequest* next) { return reader->Read(next); }, &control);
  if (!result.ok()) return Finish("WriteRecords", subject, result.status());
  *response = *std::move(result);
  LogInfo(absl::StrCat("WriteRecords ", Quote(subject), " into ", Quote(folder, '"'), ": ",
                       response->written(), " written, ",
                       response->skipped(), " skipped, ", response->failed(), " failed"));
  Count("WriteRecords", absl::OkStatus());
  return grpc::Status::OK;
}

}  // namespace server
