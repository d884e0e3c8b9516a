// Stops the IMAP work of a synchronous call when the call is cancelled
// (the client went away, its deadline passed, or the server is shutting
// down): gRPC's sync API has no cancel callback, so a watcher checks the
// call every 50 ms and then cancels a StreamControl, which interrupts the
// IMAP connections attached to it at once.
//
//   StreamControl control;
//   CancelWatcher watcher(context, &control);   // until the end of the scope
//   RunTestQuery(..., &control);
#ifndef SERVER_CANCEL_WATCHER_H_
#define SERVER_CANCEL_WATCHER_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "server/record_stream.h"

namespace server {

class CancelWatcher {
 public:
  CancelWatcher(grpc::ServerContext* context, StreamControl* control);
  ~CancelWatcher();  // stops watching; joins
  CancelWatcher(const CancelWatcher&) = delete;
  CancelWatcher& operator=(const CancelWatcher&) = delete;

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace server

#endif  // SERVER_CANCEL_WATCHER_H_
