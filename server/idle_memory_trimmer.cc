#include "server/idle_memory_trimmer.h"

#include <malloc.h>

#include "absl/time/clock.h"

namespace server {

IdleMemoryTrimmer::IdleMemoryTrimmer(absl::Duration delay)
    : delay_(delay), thread_([this] { Run(); }) {}

IdleMemoryTrimmer::~IdleMemoryTrimmer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void IdleMemoryTrimmer::Busy() {
  absl::MutexLock lock(&mu_);
  trim_at_ = absl::InfiniteFuture();
}

void IdleMemoryTrimmer::Idle() {
  absl::MutexLock lock(&mu_);
  trim_at_ = absl::Now() + delay_;
}

int64_t IdleMemoryTrimmer::trims() const {
  absl::MutexLock lock(&mu_);
  return trims_;
}

void IdleMemoryTrimmer::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    // Wait until stopping, until the trim falls due, or until Busy() or
    // Idle() moves it (then wait again for the new time).
    const absl::Time due = trim_at_;
    const auto stop_or_moved = [this, due]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || trim_at_ != due;
    };
    mu_.AwaitWithDeadline(absl::Condition(&stop_or_moved), due);
    if (stopping_) return;
    if (trim_at_ > absl::Now()) continue;
    trim_at_ = absl::InfiniteFuture();
    mu_.Unlock();
    malloc_trim(0);
    mu_.Lock();
    ++trims_;
  }
}

}  // namespace server
