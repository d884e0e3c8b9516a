// The gRPC Connector service: validates requests, calls the store and the
// engine, and translates their results. One method per RPC.
//
//   ConnectorService service(store.get(), "cloud");
//   builder.RegisterService(&service);
#ifndef SERVER_CONNECTOR_SERVICE_H_
#define SERVER_CONNECTOR_SERVICE_H_

#include <string>

#include "connector/v1/connector.grpc.pb.h"
#include "server/connection_store.h"

namespace server {

// Thread-safe: gRPC calls the methods from many threads.
class ConnectorService final : public connector::v1::Connector::Service {
 public:
  // `store` must outlive the service.
  ConnectorService(ConnectionStore* store, std::string agent);

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

 private:
  ConnectionStore* store_;
  const std::string agent_;
};

}  // namespace server

#endif  // SERVER_CONNECTOR_SERVICE_H_
