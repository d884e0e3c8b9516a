#include "server/connection_governor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "imap/util/error_kind.h"

namespace server {

ConnectionGovernor::Permit::~Permit() {
  if (governor_ != nullptr) governor_->Release(key_);
}

ConnectionGovernor& ConnectionGovernor::Global() {
  static ConnectionGovernor* governor = new ConnectionGovernor();
  return *governor;
}

absl::StatusOr<ConnectionGovernor::Permit> ConnectionGovernor::Acquire(
    const std::string& key, int limit, absl::Time deadline, const std::function<bool()>& cancelled) {
  absl::MutexLock lock(&mu_);
  Mailbox& box = mailboxes_[key];
  const uint64_t ticket = box.next_ticket++;
  auto my_turn = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return box.serving == ticket && box.in_use < limit;
  };
  while (!my_turn()) {
    const absl::Time now = absl::Now();
    const bool gave_up = now >= deadline;
    const bool stopped = cancelled && cancelled();
    if (gave_up || stopped) {
      // Leave the queue without blocking those behind: pass the turn on if
      // it is ours, else mark the ticket so serving skips it.
      if (box.serving == ticket) ++box.serving;
      else abandoned_.insert({key, ticket});
      while (abandoned_.erase({key, box.serving}) > 0) ++box.serving;
      if (stopped) return absl::CancelledError("cancelled while waiting for a connection slot");
      return imap::WithErrorKind(
          absl::ResourceExhaustedError(absl::StrCat(
              "all ", limit, " connections allowed to this mailbox (max_connections) stayed busy; "
              "this call waited for one until its deadline")),
          imap::ErrorKind::kLimit);
    }
    mu_.AwaitWithDeadline(absl::Condition(&my_turn),
                          std::min(deadline, now + absl::Milliseconds(100)));
  }
  ++box.in_use;
  ++box.serving;
  while (abandoned_.erase({key, box.serving}) > 0) ++box.serving;
  return Permit(this, key);
}

absl::StatusOr<ConnectionGovernor::Permit> ConnectionGovernor::TryAcquire(const std::string& key,
                                                                         int limit) {
  absl::MutexLock lock(&mu_);
  Mailbox& box = mailboxes_[key];
  if (box.serving != box.next_ticket || box.in_use >= limit) {
    return imap::WithErrorKind(
        absl::ResourceExhaustedError(absl::StrCat("all ", limit,
                                                  " connections allowed to this mailbox "
                                                  "(max_connections) are in use")),
        imap::ErrorKind::kLimit);
  }
  ++box.in_use;
  ++box.next_ticket;
  ++box.serving;
  return Permit(this, key);
}

int ConnectionGovernor::InUse(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = mailboxes_.find(key);
  return it == mailboxes_.end() ? 0 : it->second.in_use;
}

void ConnectionGovernor::Release(const std::string& key) {
  absl::MutexLock lock(&mu_);
  Mailbox& box = mailboxes_[key];
  --box.in_use;
  if (box.in_use == 0 && box.serving == box.next_ticket) mailboxes_.erase(key);
}

}  // namespace server
