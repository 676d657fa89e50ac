#pragma once

namespace hermes::daemon::tools {

// What a turn does after a provider answered.
enum class LoopStep {
  answer,       // a text answer: the turn is done
  run_tools,    // the model asked for tools: run them, send the results, call again
  stop_at_cap,  // it asked again, but agent.max_tool_iterations calls have asked already
};

struct LoopState {
  bool asked_for_tools = false;  // the answer carries tool_calls
  bool tools_offered = false;    // this turn offered tools at all
  int provider_calls = 0;        // calls made in this turn, the one just answered included
  int max_tool_iterations = 25;
};

// Pure: the table in loop_step_test.cpp is the specification.
LoopStep next_step(const LoopState& state);

}  // namespace hermes::daemon::tools
