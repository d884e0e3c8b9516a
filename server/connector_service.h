// The gRPC Connector service: validates requests, calls the store and the
// engine, and translates their results. One method per RPC.
//
//   ConnectorService service(store.get(), "cloud");
//   builder.RegisterService(&service);
#ifndef SERVER_CONNECTOR_SERVICE_H_
#define SERVER_CONNECTOR_SERVICE_H_

#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "connector/v1/connector.grpc.pb.h"
#include "server/bearer_auth.h"
#include "server/connection_store.h"
#include "server/cursor_seal.h"
#include "server/idle_memory_trimmer.h"

namespace server {

// Tunables of the streaming RPCs (tests shorten them).
struct StreamTuning {
  absl::Duration poll_interval = absl::Seconds(30);
  absl::Duration idle_renew = absl::Minutes(25);
  absl::Duration backoff_initial = absl::Milliseconds(100);
  absl::Duration backoff_max = absl::Seconds(10);
  int max_reconnect_attempts = 8;
};

// The trailing metadata key of a StreamRecords call that ends with an
// error: the cursor after the last batch the client was sent, to resume from.
inline constexpr char kResumeCursorTrailer[] = "imapc-resume-cursor";

// The follow streams now open, so that a shutdown can end them at once
// instead of letting them hold the server for the whole grace period; and
// how many streams of any kind are open (for memory). Thread-safe.
class OpenStreams {
 public:
  class Member {
   public:
    // Ends the stream promptly (UNAVAILABLE, to resume elsewhere). Called
    // with the registry locked: must not call back into it.
    virtual void EndForShutdown() = 0;

   protected:
    ~Member() = default;
  };

  // Every StreamRecords call, follow or not, from its start to its end:
  // once none is open, freed memory goes back to the system.
  void Opened();
  void Closed();
  // StreamRecords calls open now.
  int64_t open() const;

  // Adds `m` until Remove(m); false (not added) once shutdown has begun.
  bool Add(Member* m);
  void Remove(Member* m);
  // Ends every member and refuses new ones. `grace_end`: when gRPC cancels
  // the calls still running.
  void Shutdown(absl::Time grace_end);
  // Whether Shutdown() ran, and its grace_end (InfiniteFuture before).
  bool shutting_down() const;
  absl::Time grace_end() const;

 private:
  mutable absl::Mutex mu_;
  std::set<Member*> members_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time grace_end_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  int64_t open_ ABSL_GUARDED_BY(mu_) = 0;
  IdleMemoryTrimmer trimmer_{absl::Milliseconds(250)};
};

// Thread-safe: gRPC calls the methods from many threads. StreamRecords
// uses the callback API (one write in flight, IMAP reading paused while
// the client is slow); the others are synchronous.
class ConnectorService final
    : public connector::v1::Connector::WithCallbackMethod_StreamRecords<
          connector::v1::Connector::Service> {
 public:
  // `store` must outlive the service. Cursors sent to clients are sealed
  // with `sealer` (see cursor_seal.h), and only sealed ones are accepted.
  // Without `replicas_share_data_dir` (--replicas_share_data_dir=false:
  // replicas that each have their own data directory) the store holds no
  // state another replica would need: Configure and DeleteConnection are
  // refused, StreamRecords refuses since_last_ack, and Acknowledge runs its
  // post-actions without recording the cursor (FAILED_PRECONDITION
  // messages say to resume with resume_after, or to share a data volume).
  ConnectorService(ConnectionStore* store, std::string agent, StreamTuning tuning = StreamTuning(),
                   BearerAuth auth = BearerAuth(),
                   CursorSealer sealer = CursorSealer::WithRandomKey(),
                   bool replicas_share_data_dir = true);

  // The server is stopping: follow streams end now with UNAVAILABLE and
  // their last cursor in the trailer kResumeCursorTrailer, new follow
  // streams are refused the same way, and other calls may run until
  // `grace_end` (when gRPC cancels them). Returns at once.
  void BeginShutdown(absl::Time grace_end);

  grpc::Status Configure(grpc::ServerContext* context, const connector::v1::ConfigureRequest* request,
                         connector::v1::ConfigureResponse* response) override;
  grpc::Status GetConnection(grpc::ServerContext* context,
                             const connector::v1::GetConnectionRequest* request,
                             connector::v1::Connection* response) override;
  grpc::Status ListConnections(grpc::ServerContext* context,
                               const connector::v1::ListConnectionsRequest* request,
                               connector::v1::ListConnectionsResponse* response) override;
  grpc::Status DeleteConnection(grpc::ServerContext* context,
                                const connector::v1::DeleteConnectionRequest* request,
                                connector::v1::DeleteConnectionResponse* response) override;
  grpc::Status TestConnection(grpc::ServerContext* context,
                              const connector::v1::TestConnectionRequest* request,
                              connector::v1::TestConnectionResponse* response) override;
  grpc::Status TestQuery(grpc::ServerContext* context, const connector::v1::TestQueryRequest* request,
                         connector::v1::TestQueryResponse* response) override;
  grpc::Status Discover(grpc::ServerContext* context, const connector::v1::DiscoverRequest* request,
                        connector::v1::DiscoverResponse* response) override;
  grpc::Status GetSpec(grpc::ServerContext* context, const connector::v1::GetSpecRequest* request,
                       connector::v1::GetSpecResponse* response) override;
  grpc::ServerWriteReactor<connector::v1::StreamRecordsResponse>* StreamRecords(
      grpc::CallbackServerContext* context,
      const connector::v1::StreamRecordsRequest* request) override;
  grpc::Status WriteRecords(grpc::ServerContext* context,
                            grpc::ServerReader<connector::v1::WriteRecordsRequest>* reader,
                            connector::v1::WriteRecordsResponse* response) override;
  grpc::Status Acknowledge(grpc::ServerContext* context,
                           const connector::v1::AcknowledgeRequest* request,
                           connector::v1::AcknowledgeResponse* response) override;

 private:
  // Field names for a request's connection in BadRequest violations.
  struct RefFields {
    const char* name;           // the name, when it is missing
    const char* inline_prefix;  // an inline connection's fields
    const char* target;         // neither given
  };
  static constexpr RefFields kRefFields = {"connection.name", "connection.connection", "connection"};
  // TestConnectionRequest predates ConnectionRef: its oneof is top-level.
  static constexpr RefFields kTestConnectionFields = {"name", "connection", "target"};

  // The connection a request names (stored) or carries (inline, validated),
  // refused with FAILED_PRECONDITION when inactive or for another agent.
  // `subject` receives a name for logs.
  absl::StatusOr<connector::v1::Connection> Resolve(const connector::v1::ConnectionRef& ref,
                                                    std::string* subject,
                                                    const RefFields& fields = kRefFields) const;

  // FAILED_PRECONDITION for `what` (a field or a method) on replicas
  // without a shared data directory.
  absl::Status NotWithoutSharedDataDir(absl::string_view what, absl::string_view why) const;

  ConnectionStore* store_;
  const std::string agent_;
  const StreamTuning tuning_;
  const BearerAuth auth_;
  const bool replicas_share_data_dir_;
  // A copy of `c` for a response: no password, its cursor sealed.
  connector::v1::Connection ForResponse(const connector::v1::Connection& c) const;
  // The engine cursor in `token` (sealed for `connection`), or
  // INVALID_ARGUMENT naming `field`.
  absl::StatusOr<std::string> OpenCursor(const std::string& connection, const std::string& token,
                                         const char* field) const;

  const CursorSealer sealer_;
  OpenStreams open_streams_;
  // Acknowledge reads and writes a connection's last cursor: one at a time.
  absl::Mutex ack_mu_;
};

}  // namespace server

#endif  // SERVER_CONNECTOR_SERVICE_H_
