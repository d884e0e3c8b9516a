// Gives a useful answer to a request that protobuf refused to parse. gRPC
// parses the request before any handler runs; when that fails (most often a
// string field holding bytes that are not UTF-8, which proto3 forbids) it
// answers INTERNAL or UNIMPLEMENTED with an empty message. This interceptor
// turns that into INVALID_ARGUMENT saying so.
//
//   std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> f;
//   f.push_back(std::make_unique<RequestParseInterceptorFactory>());
//   builder.experimental().SetInterceptorCreators(std::move(f));
#ifndef SERVER_REQUEST_PARSE_INTERCEPTOR_H_
#define SERVER_REQUEST_PARSE_INTERCEPTOR_H_

#include <string>

#include "grpcpp/support/server_interceptor.h"

namespace server {

// The message of the INVALID_ARGUMENT that replaces an unparsable
// request's status, for `method` ("/connector.v1.Connector/GetConnection").
std::string UnparsableRequestMessage(const std::string& method);

// Thread-safe; one interceptor per call. Only calls with exactly one
// request (unary and server-streaming) are rewritten: in a client stream a
// message that does not parse looks to the handler like the end of the
// stream, which gRPC does not let us tell apart.
class RequestParseInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;
};

}  // namespace server

#endif  // SERVER_REQUEST_PARSE_INTERCEPTOR_H_
