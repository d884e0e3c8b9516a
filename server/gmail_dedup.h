// Drops repeats of a Gmail message within one stream: Gmail shows the same
// message in every label it carries ("INBOX" and "Work" and "[Gmail]/All
// Mail"), each time with another UID but the same X-GM-MSGID, so a stream
// over several labels would otherwise deliver it once per label.
//
//   GmailDedup dedup;                       // one per stream
//   if (!dedup.Admit(m.facts.gmail_msgid)) skip(m);  // a repeat
#ifndef SERVER_GMAIL_DEDUP_H_
#define SERVER_GMAIL_DEDUP_H_

#include <cstddef>
#include <cstdint>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"

namespace server {

class GmailDedup {
 public:
  // Remembers at most `capacity` ids (about 24 bytes each): past that the
  // oldest are forgotten, so a repeat that far apart is delivered again.
  // A mailbox larger than the capacity is deduplicated only within that
  // window; the default covers a million messages (about 24 MB).
  // REQUIRES: capacity > 0.
  static constexpr size_t kDefaultCapacity = 1000000;
  explicit GmailDedup(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  GmailDedup(const GmailDedup&) = delete;
  GmailDedup& operator=(const GmailDedup&) = delete;

  // Returns true if the message with X-GM-MSGID `msgid` should be
  // delivered: the first time this id is seen (and then remembers it), or
  // always when there is no id (not fetched: nothing to compare). Returns
  // false for a repeat. Thread-safe.
  bool Admit(absl::optional<uint64_t> msgid);

  // How many ids are remembered now (at most the capacity). Thread-safe.
  size_t size() const;
  // How many repeats Admit() refused so far. Thread-safe.
  uint64_t dropped() const;

 private:
  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<uint64_t> seen_ ABSL_GUARDED_BY(mu_);
  std::deque<uint64_t> order_ ABSL_GUARDED_BY(mu_);  // oldest first, for forgetting
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace server

#endif  // SERVER_GMAIL_DEDUP_H_
