#include "server/connection_governor.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "imap/util/error_kind.h"

namespace server {
namespace {

TEST(ConnectionGovernorTest, NeverMoreThanTheLimitAtOnce) {
  ConnectionGovernor governor;
  std::atomic<int> now{0};
  std::atomic<int> peak{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        absl::StatusOr<ConnectionGovernor::Permit> p =
            governor.Acquire("host:993/alice", 3, absl::InfiniteFuture());
        ASSERT_TRUE(p.ok()) << p.status();
        const int held = ++now;
        int seen = peak.load();
        while (held > seen && !peak.compare_exchange_weak(seen, held)) {
        }
        std::this_thread::yield();
        --now;
      }
      ++done;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(done.load(), 16);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 1);
  EXPECT_EQ(governor.InUse("host:993/alice"), 0);
}

TEST(ConnectionGovernorTest, MailboxesAreCountedApart) {
  ConnectionGovernor governor;
  absl::StatusOr<ConnectionGovernor::Permit> a = governor.TryAcquire("h:993/alice", 1);
  ASSERT_TRUE(a.ok());
  absl::StatusOr<ConnectionGovernor::Permit> b = governor.TryAcquire("h:993/bob", 1);
  EXPECT_TRUE(b.ok());
  absl::StatusOr<ConnectionGovernor::Permit> again = governor.TryAcquire("h:993/alice", 1);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(imap::GetErrorKind(again.status()), imap::ErrorKind::kLimit);
  EXPECT_EQ(governor.InUse("h:993/alice"), 1);
}

TEST(ConnectionGovernorTest, WaitersEndAtTheirDeadlineOrWhenCancelled) {
  ConnectionGovernor governor;
  absl::StatusOr<ConnectionGovernor::Permit> held = governor.TryAcquire("k", 1);
  ASSERT_TRUE(held.ok());
  absl::StatusOr<ConnectionGovernor::Permit> late =
      governor.Acquire("k", 1, absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(late.status().message().find("max_connections"), absl::string_view::npos);
  absl::StatusOr<ConnectionGovernor::Permit> cancelled =
      governor.Acquire("k", 1, absl::InfiniteFuture(), [] { return true; });
  EXPECT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled);
  // Those who gave up do not hold the queue: the next waiter gets the slot
  // as soon as it frees.
  absl::Notification got;
  std::thread waiter([&] {
    absl::StatusOr<ConnectionGovernor::Permit> p = governor.Acquire("k", 1, absl::InfiniteFuture());
    EXPECT_TRUE(p.ok());
    got.Notify();
  });
  { ConnectionGovernor::Permit release = *std::move(held); }
  EXPECT_TRUE(got.WaitForNotificationWithTimeout(absl::Seconds(30)));
  waiter.join();
  EXPECT_EQ(governor.InUse("k"), 0);
}

TEST(ConnectionGovernorTest, SlotsGoInTheOrderAskedFor) {
  ConnectionGovernor governor;
  absl::StatusOr<ConnectionGovernor::Permit> held = governor.TryAcquire("k", 1);
  ASSERT_TRUE(held.ok());
  std::vector<int> order;
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<ConnectionGovernor::Permit> p = governor.Acquire("k", 1, absl::InfiniteFuture());
      ASSERT_TRUE(p.ok());
      absl::MutexLock lock(&mu);
      order.push_back(i);
    });
    // Each waiter takes its ticket before the next starts.
    while (true) {
      absl::SleepFor(absl::Milliseconds(1));
      absl::StatusOr<ConnectionGovernor::Permit> probe = governor.TryAcquire("k", 2);
      // A waiter is queued once TryAcquire refuses even with room.
      if (!probe.ok()) break;
    }
  }
  { ConnectionGovernor::Permit release = *std::move(held); }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace server
