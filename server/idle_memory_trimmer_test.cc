#include "server/idle_memory_trimmer.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace server {
namespace {

// Polls `trimmer` until it has trimmed `n` times or `limit` passes.
bool WaitForTrims(const IdleMemoryTrimmer& trimmer, int64_t n, absl::Duration limit) {
  const absl::Time end = absl::Now() + limit;
  while (trimmer.trims() < n && absl::Now() < end) absl::SleepFor(absl::Milliseconds(5));
  return trimmer.trims() >= n;
}

TEST(IdleMemoryTrimmerTest, TrimsOnceAfterGoingIdle) {
  IdleMemoryTrimmer trimmer(absl::Milliseconds(20));
  EXPECT_EQ(trimmer.trims(), 0);
  trimmer.Busy();
  trimmer.Idle();
  EXPECT_TRUE(WaitForTrims(trimmer, 1, absl::Seconds(10)));
  // Each idle period trims once more.
  trimmer.Busy();
  trimmer.Idle();
  EXPECT_TRUE(WaitForTrims(trimmer, 2, absl::Seconds(10)));
}

TEST(IdleMemoryTrimmerTest, WorkStartingBeforeTheDelayCancelsTheTrim) {
  IdleMemoryTrimmer trimmer(absl::Milliseconds(100));
  trimmer.Idle();
  trimmer.Busy();
  // A second trimmer, idle for three times as long, serves as the clock:
  // once it has trimmed, the first would have trimmed too had Busy() not
  // cancelled it.
  IdleMemoryTrimmer clock(absl::Milliseconds(300));
  clock.Idle();
  ASSERT_TRUE(WaitForTrims(clock, 1, absl::Seconds(10)));
  EXPECT_EQ(trimmer.trims(), 0);
}

TEST(IdleMemoryTrimmerTest, StopsPromptlyWithATrimPending) {
  const absl::Time start = absl::Now();
  {
    IdleMemoryTrimmer trimmer(absl::Hours(1));
    trimmer.Idle();
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace server
