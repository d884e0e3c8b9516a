#include "server/gmail_dedup.h"

namespace server {

bool GmailDedup::Admit(absl::optional<uint64_t> msgid) {
  if (!msgid.has_value()) return true;
  absl::MutexLock lock(&mu_);
  if (!seen_.insert(*msgid).second) {
    ++dropped_;
    return false;
  }
  order_.push_back(*msgid);
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

size_t GmailDedup::size() const {
  absl::MutexLock lock(&mu_);
  return seen_.size();
}

uint64_t GmailDedup::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

}  // namespace server
