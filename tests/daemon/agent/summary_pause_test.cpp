#include "daemon/agent/summary_pause.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon {
namespace {

using seconds = std::chrono::milliseconds;
constexpr seconds operator""_s(unsigned long long n) {
  return seconds(n * 1000);
}

TEST(SummaryPause, AFailingSummaryModelIsAskedAgainLessAndLessOftenUntilItWorks) {
  SummaryPause pause;
  const auto t0 = SummaryPause::Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(pause.paused(t0));
  EXPECT_EQ(pause.failed(t0), 30_s);
  EXPECT_TRUE(pause.paused(t0 + 29_s));
  EXPECT_FALSE(pause.paused(t0 + 30_s));
  EXPECT_EQ(pause.failed(t0 + 30_s), 60_s);
  EXPECT_EQ(pause.failed(t0 + 90_s), 120_s);
  const seconds expected[] = {240_s, 480_s, 600_s, 600_s};
  for (const auto want : expected) EXPECT_EQ(pause.failed(t0), want);  // at most 10 minutes
  pause.succeeded();
  SummaryPause quick(seconds(5));  // under test hooks
  EXPECT_EQ(quick.failed(t0), seconds(5));
  EXPECT_FALSE(pause.paused(t0));
  EXPECT_EQ(pause.failed(t0), 30_s) << "a success starts the pauses over";
}

}  // namespace
}  // namespace hermes::daemon
