#include "daemon/agent/turn_deadline.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

TEST(TurnDeadline, ProgressMovesTheDeadlineOnUpToTheHardCap) {
  const Clock::time_point start{};
  const auto hard = start + seconds(3600);
  struct Row {
    seconds last_progress;  // after the start
    seconds expected;       // the deadline, after the start
  };
  const Row rows[] = {
      {seconds(0), seconds(300)},      // silent from the start: the inactivity limit
      {seconds(250), seconds(550)},    // a tool round at 250 s: 300 s more
      {seconds(3000), seconds(3300)},  // still making progress after 50 minutes
      {seconds(3400), seconds(3600)},  // the hard cap, progress or not
      {seconds(4000), seconds(3600)},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(turn_deadline(start + row.last_progress, seconds(300), hard), start + row.expected)
        << "last progress at " << row.last_progress.count() << " s";
  }
}

}  // namespace
}  // namespace hermes::daemon
