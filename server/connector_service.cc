#include "server/connector_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/connection_validation.h"
#include "server/log.h"
#include "server/status_convert.h"
#include "server/test_connection.h"

namespace server {
namespace {

using connector::v1::Connection;

absl::Status RequireName(const std::string& name) {
  if (name.empty()) return InvalidFields({{"name", "is required"}});
  return absl::OkStatus();
}

// Logs the outcome of an RPC (never its payload) and converts the status.
grpc::Status Finish(absl::string_view rpc, absl::string_view subject, const absl::Status& status) {
  if (status.ok()) {
    LogInfo(absl::StrCat(rpc, " '", subject, "': OK"));
  } else {
    LogWarning(absl::StrCat(rpc, " '", subject, "': ", absl::StatusCodeToString(status.code()), ": ",
                            status.message()));
  }
  return ToGrpcStatus(status);
}

}  // namespace

ConnectorService::ConnectorService(ConnectionStore* store, std::string agent)
    : store_(store), agent_(std::move(agent)) {}

grpc::Status ConnectorService::Configure(grpc::ServerContext*,
                                         const connector::v1::ConfigureRequest* request,
                                         connector::v1::ConfigureResponse* response) {
  const Connection& input = request->connection();
  ValidationContext context;
  context.agent = agent_;
  if (!input.name().empty() && input.password().empty()) {
    absl::StatusOr<Connection> existing = store_->Get(input.name());
    if (existing.ok()) context.stored_password = existing->password();
  }
  absl::StatusOr<ValidConnection> valid = ValidateConnection(input, context);
  if (!valid.ok()) return Finish("Configure", input.name(), valid.status());
  bool replaced = false;
  absl::Status stored = store_->Put(valid->connection, &replaced);
  if (!stored.ok()) return Finish("Configure", input.name(), stored);
  *response->mutable_connection() = WithoutPassword(valid->connection);
  response->set_replaced(replaced);
  for (std::string& note : valid->notes) response->add_notes(std::move(note));
  return Finish("Configure", input.name(), absl::OkStatus());
}

grpc::Status ConnectorService::GetConnection(grpc::ServerContext*,
                                             const connector::v1::GetConnectionRequest* request,
                                             Connection* response) {
  if (absl::Status s = RequireName(request->name()); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<Connection> c = store_->Get(request->name());
  if (!c.ok()) return ToGrpcStatus(c.status());
  *response = WithoutPassword(*c);
  return grpc::Status::OK;
}

grpc::Status ConnectorService::ListConnections(grpc::ServerContext*,
                                               const connector::v1::ListConnectionsRequest*,
                                               connector::v1::ListConnectionsResponse* response) {
  for (const Connection& c : store_->List()) *response->add_connections() = WithoutPassword(c);
  return grpc::Status::OK;
}

grpc::Status ConnectorService::DeleteConnection(grpc::ServerContext*,
                                                const connector::v1::DeleteConnectionRequest* request,
                                                connector::v1::DeleteConnectionResponse*) {
  if (absl::Status s = RequireName(request->name()); !s.ok()) return ToGrpcStatus(s);
  return Finish("DeleteConnection", request->name(), store_->Delete(request->name()));
}

grpc::Status ConnectorService::TestConnection(grpc::ServerContext* context,
                                              const connector::v1::TestConnectionRequest* request,
                                              connector::v1::TestConnectionResponse* response) {
  Connection connection;
  std::string subject;
  switch (request->target_case()) {
    case connector::v1::TestConnectionRequest::kName: {
      subject = request->name();
      if (absl::Status s = RequireName(request->name()); !s.ok()) return ToGrpcStatus(s);
      absl::StatusOr<Connection> stored = store_->Get(request->name());
      if (!stored.ok()) return Finish("TestConnection", subject, stored.status());
      connection = *std::move(stored);
      break;
    }
    case connector::v1::TestConnectionRequest::kConnection: {
      subject = absl::StrCat(request->connection().name(), " (inline)");
      ValidationContext validation;
      validation.agent = agent_;
      absl::StatusOr<ValidConnection> valid = ValidateConnection(request->connection(), validation);
      if (!valid.ok()) return Finish("TestConnection", subject, valid.status());
      connection = std::move(valid->connection);
      break;
    }
    default:
      return ToGrpcStatus(InvalidFields({{"target", "give a connection name or an inline connection"}}));
  }
  if (!connection.is_active()) {
    return Finish("TestConnection", subject,
                  absl::FailedPreconditionError(absl::StrCat(
                      "connection '", connection.name(),
                      "' is inactive (is_active = false); activate it with Configure first")));
  }
  if (connection.cloud_agent() != agent_) {
    return Finish("TestConnection", subject,
                  absl::FailedPreconditionError(absl::StrCat(
                      "connection '", connection.name(), "' belongs to agent '",
                      connection.cloud_agent(), "', this server is agent '", agent_, "'")));
  }
  const absl::Time deadline = context->deadline() == std::chrono::system_clock::time_point::max()
                                  ? absl::InfiniteFuture()
                                  : absl::FromChrono(context->deadline());
  absl::StatusOr<connector::v1::TestConnectionResponse> result =
      RunConnectionTest(connection, deadline, [context] { return context->IsCancelled(); });
  if (!result.ok()) return Finish("TestConnection", subject, result.status());
  *response = *std::move(result);
  if (response->ok()) {
    LogInfo(absl::StrCat("TestConnection '", subject, "': ok, ", response->message_count(),
                         " messages in ", response->folder()));
  } else {
    LogInfo(absl::StrCat("TestConnection '", subject, "': failed: ", response->message()));
  }
  return grpc::Status::OK;
}

}  // namespace server
