// Gives freed memory back to the system once the server falls idle.
//
// glibc keeps what a thread frees in that thread's arena, and the threads
// that fetch and parse mail come and go with the streams, so after a burst
// of streams the resident size would stay near its peak for good. When the
// last stream ends, this waits a moment (a client running streams one
// after another should not pay for a trim between each) and, if no stream
// started meanwhile, calls malloc_trim.
//
//   IdleMemoryTrimmer trimmer(absl::Milliseconds(250));
//   trimmer.Busy();  ...  trimmer.Idle();   // trims about 250 ms later
#ifndef SERVER_IDLE_MEMORY_TRIMMER_H_
#define SERVER_IDLE_MEMORY_TRIMMER_H_

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace server {

// Thread-safe.
class IdleMemoryTrimmer {
 public:
  explicit IdleMemoryTrimmer(absl::Duration delay);
  ~IdleMemoryTrimmer();  // stops the trimming thread
  IdleMemoryTrimmer(const IdleMemoryTrimmer&) = delete;
  IdleMemoryTrimmer& operator=(const IdleMemoryTrimmer&) = delete;

  // Work started: a pending trim waits for the next Idle().
  void Busy();
  // The work ended: trim after `delay` unless Busy() comes first.
  void Idle();

  // How many times memory was trimmed (for tests and logs).
  int64_t trims() const;

 private:
  void Run();

  const absl::Duration delay_;
  mutable absl::Mutex mu_;
  absl::Time trim_at_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t trims_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace server

#endif  // SERVER_IDLE_MEMORY_TRIMMER_H_
