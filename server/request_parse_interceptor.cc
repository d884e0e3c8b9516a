#include "server/request_parse_interceptor.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/interceptor.h"
#include "grpcpp/support/status.h"
#include "server/log.h"

namespace server {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::InterceptorBatchMethods;
using grpc::experimental::ServerRpcInfo;

class RequestParseInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit RequestParseInterceptor(ServerRpcInfo* info) : method_(info->method()) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      // The one request of the call did not deserialize: the handler will
      // not run and gRPC answers with an empty message.
      unparsed_ = true;
    }
    if (unparsed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (!status.ok() && status.error_message().empty()) {
        LogWarning(absl::StrCat(method_, ": refused a request that does not parse (",
                                status.error_code(), ")"));
        methods->ModifySendStatus(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, UnparsableRequestMessage(method_)));
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  bool unparsed_ = false;
};

}  // namespace

std::string UnparsableRequestMessage(const std::string& method) {
  absl::string_view name = method;
  const size_t slash = name.rfind('/');
  if (slash != absl::string_view::npos) name.remove_prefix(slash + 1);
  return absl::StrCat(
      "the ", name, " request could not be parsed: a string field is not valid UTF-8 (protobuf "
      "refuses such requests before the server sees them, so the field cannot be named), or the "
      "bytes are not a serialized ", name, " request; send text fields as UTF-8 and binary data in "
      "bytes fields");
}

grpc::experimental::Interceptor* RequestParseInterceptorFactory::CreateServerInterceptor(
    ServerRpcInfo* info) {
  if (info->type() != ServerRpcInfo::Type::UNARY &&
      info->type() != ServerRpcInfo::Type::SERVER_STREAMING) {
    return nullptr;  // no interceptor for this call
  }
  return new RequestParseInterceptor(info);
}

}  // namespace server
