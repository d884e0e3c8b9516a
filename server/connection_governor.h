// Caps the IMAP connections this server holds at once to one mailbox (a
// server, port and user), across every call: providers refuse logins past
// their own limit (Gmail about 15 per user, Microsoft 365 about 20), so
// 32 streams on one mailbox must queue here instead of failing there.
//
//   absl::StatusOr<ConnectionGovernor::Permit> p =
//       ConnectionGovernor::Global().Acquire("imap.example.com:993/alice", 10, deadline, cancelled);
//   ... connect while *p is alive; the slot frees when it is destroyed.
#ifndef SERVER_CONNECTION_GOVERNOR_H_
#define SERVER_CONNECTION_GOVERNOR_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace server {

// Thread-safe.
class ConnectionGovernor {
 public:
  // A held slot; destroying it frees the slot and wakes one waiter.
  class Permit {
   public:
    Permit(Permit&& other) noexcept : governor_(other.governor_), key_(std::move(other.key_)) {
      other.governor_ = nullptr;
    }
    Permit& operator=(Permit&&) = delete;
    Permit(const Permit&) = delete;
    ~Permit();

   private:
    friend class ConnectionGovernor;
    Permit(ConnectionGovernor* governor, std::string key) : governor_(governor), key_(std::move(key)) {}
    ConnectionGovernor* governor_;
    std::string key_;
  };

  // The governor every call of this process shares.
  static ConnectionGovernor& Global();

  // Waits for one of `limit` slots of `key`, first come first served,
  // until `deadline`, or until `cancelled` (checked every 100 ms) returns
  // true. Errors: RESOURCE_EXHAUSTED (kLimit) when the deadline passes,
  // CANCELLED. REQUIRES: limit >= 1.
  absl::StatusOr<Permit> Acquire(const std::string& key, int limit, absl::Time deadline,
                                 const std::function<bool()>& cancelled = nullptr);
  // Takes a slot only if one is free now (no queue is jumped: waiters come
  // first); RESOURCE_EXHAUSTED (kLimit) otherwise.
  absl::StatusOr<Permit> TryAcquire(const std::string& key, int limit);

  // Slots of `key` held now.
  int InUse(const std::string& key) const;

 private:
  struct Mailbox {
    int in_use = 0;
    uint64_t next_ticket = 0;  // tickets give waiters their turn in order
    uint64_t serving = 0;
  };
  void Release(const std::string& key);

  mutable absl::Mutex mu_;
  std::map<std::string, Mailbox> mailboxes_ ABSL_GUARDED_BY(mu_);
  // Tickets of waiters that gave up before their turn: skipped when reached.
  std::set<std::pair<std::string, uint64_t>> abandoned_ ABSL_GUARDED_BY(mu_);
};

}  // namespace server

#endif  // SERVER_CONNECTION_GOVERNOR_H_
