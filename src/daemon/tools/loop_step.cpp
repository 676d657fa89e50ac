#include "daemon/tools/loop_step.hpp"

namespace hermes::daemon::tools {

LoopStep next_step(const LoopState& state) {
  // Tool calls nobody offered (a confused model) cannot be run: its text is the answer.
  if (!state.asked_for_tools || !state.tools_offered) return LoopStep::answer;
  if (state.provider_calls >= state.max_tool_iterations) return LoopStep::stop_at_cap;
  return LoopStep::run_tools;
}

}  // namespace hermes::daemon::tools
