#include "daemon/tools/loop_step.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::tools {
namespace {

TEST(LoopStep, TheTableOfWhatATurnDoesNext) {
  struct Case {
    const char* name;
    LoopState state;
    LoopStep expected;
  };
  const Case cases[] = {
      {"a text answer ends the turn", {false, true, 1, 25}, LoopStep::answer},
      {"tools asked for: run them", {true, true, 1, 25}, LoopStep::run_tools},
      {"still under the cap", {true, true, 24, 25}, LoopStep::run_tools},
      {"the 25th call asks again: stop", {true, true, 25, 25}, LoopStep::stop_at_cap},
      {"a cap of 1: the first call may not ask", {true, true, 1, 1}, LoopStep::stop_at_cap},
      {"a text answer at the cap is an answer", {false, true, 25, 25}, LoopStep::answer},
      {"tool calls when none were offered", {true, false, 1, 25}, LoopStep::answer},
  };
  for (const auto& c : cases) EXPECT_EQ(next_step(c.state), c.expected) << c.name;
}

}  // namespace
}  // namespace hermes::daemon::tools
