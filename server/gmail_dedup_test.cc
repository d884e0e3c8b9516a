#include "server/gmail_dedup.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace server {
namespace {

TEST(GmailDedupTest, FirstSightingPassesRepeatsDoNot) {
  GmailDedup dedup;
  EXPECT_TRUE(dedup.Admit(1278455344230334865u));
  EXPECT_TRUE(dedup.Admit(1278455344230334866u));
  EXPECT_FALSE(dedup.Admit(1278455344230334865u));
  EXPECT_FALSE(dedup.Admit(1278455344230334866u));
  EXPECT_TRUE(dedup.Admit(uint64_t{0}));  // any value is an id, 0 too
  EXPECT_FALSE(dedup.Admit(uint64_t{0}));
  EXPECT_EQ(dedup.size(), 3u);
  EXPECT_EQ(dedup.dropped(), 3u);
}

TEST(GmailDedupTest, MessagesWithoutAnIdAlwaysPass) {
  GmailDedup dedup;
  EXPECT_TRUE(dedup.Admit(absl::nullopt));
  EXPECT_TRUE(dedup.Admit(absl::nullopt));
  EXPECT_EQ(dedup.size(), 0u);
  EXPECT_EQ(dedup.dropped(), 0u);
}

TEST(GmailDedupTest, MemoryIsBoundedOldestForgottenFirst) {
  GmailDedup dedup(3);
  for (uint64_t id : {10, 11, 12, 13}) EXPECT_TRUE(dedup.Admit(id)) << id;
  EXPECT_EQ(dedup.size(), 3u);
  // 10 was forgotten when 13 came: it passes again (and pushes out 11).
  EXPECT_TRUE(dedup.Admit(uint64_t{10}));
  EXPECT_TRUE(dedup.Admit(uint64_t{11}));
  // 12 went when 11 came back; 13 and 10 are remembered.
  EXPECT_FALSE(dedup.Admit(uint64_t{13}));
  EXPECT_FALSE(dedup.Admit(uint64_t{10}));
  EXPECT_EQ(dedup.size(), 3u);
}

TEST(GmailDedupTest, ConcurrentStreamsAdmitEachIdOnce) {
  GmailDedup dedup;
  constexpr int kThreads = 4;
  constexpr uint64_t kIds = 5000;
  std::vector<int> admitted(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&dedup, &admitted, t] {
      for (uint64_t id = 0; id < kIds; ++id) admitted[t] += dedup.Admit(id) ? 1 : 0;
    });
  }
  for (std::thread& th : threads) th.join();
  int total = 0;
  for (int a : admitted) total += a;
  EXPECT_EQ(total, static_cast<int>(kIds));
  EXPECT_EQ(dedup.dropped(), (kThreads - 1) * kIds);
}

}  // namespace
}  // namespace server
