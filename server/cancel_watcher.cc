#include "server/cancel_watcher.h"

#include "absl/time/time.h"

namespace server {

CancelWatcher::CancelWatcher(grpc::ServerContext* context, StreamControl* control) {
  thread_ = std::thread([this, context, control] {
    absl::MutexLock lock(&mu_);
    while (!done_) {
      mu_.AwaitWithTimeout(absl::Condition(&done_), absl::Milliseconds(50));
      if (!done_ && context->IsCancelled()) {
        control->Cancel();
        return;
      }
    }
  });
}

CancelWatcher::~CancelWatcher() {
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
  }
  thread_.join();
}

}  // namespace server
