#include "daemon/tools/log_limiter.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::tools {
namespace {

using std::chrono::milliseconds;

TEST(LogLimiter, ABurstPassesThenTenASecondAndWhatWasHeldBackIsCounted) {
  LogLimiter limiter(10, 50);
  const auto t0 = LogLimiter::Clock::time_point{} + std::chrono::hours(1);
  int logged = 0;
  for (int i = 0; i < 1000; ++i) logged += limiter.admit(t0).log ? 1 : 0;  // one instant
  EXPECT_EQ(logged, 50) << "the burst";
  EXPECT_EQ(limiter.suppressed_total(), 950);
  // 100 ms later one more line may pass, and it carries the count held back.
  const auto next = limiter.admit(t0 + milliseconds(100));
  EXPECT_TRUE(next.log);
  EXPECT_EQ(next.suppressed, 950);
  EXPECT_FALSE(limiter.admit(t0 + milliseconds(100)).log);
  // A second of flood: about ten pass.
  logged = 0;
  for (int ms = 100; ms <= 1100; ++ms) logged += limiter.admit(t0 + milliseconds(ms)).log ? 1 : 0;
  EXPECT_GE(logged, 9);
  EXPECT_LE(logged, 11);
  // Quiet for long enough: a full burst again, never more.
  logged = 0;
  for (int i = 0; i < 100; ++i) logged += limiter.admit(t0 + std::chrono::hours(2)).log ? 1 : 0;
  EXPECT_EQ(logged, 50);
}

TEST(LogLimiter, AQuietServerIsNeverHeldBack) {
  LogLimiter limiter(10, 50);
  const auto t0 = LogLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 1000; ++i) {
    const auto verdict = limiter.admit(t0 + milliseconds(200 * i));  // five lines a second
    EXPECT_TRUE(verdict.log);
    EXPECT_EQ(verdict.suppressed, 0);
  }
}

}  // namespace
}  // namespace hermes::daemon::tools
