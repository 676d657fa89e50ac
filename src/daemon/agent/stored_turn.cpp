#include "daemon/agent/stored_turn.hpp"

namespace hermes::daemon {

StoredTurn stored_turn_state(std::span<const providers::ChatMessage> history,
                             std::string_view user_text) {
  std::size_t last_user = history.size();
  for (std::size_t i = history.size(); i > 0; --i) {
    if (history[i - 1].role == "user") {
      last_user = i - 1;
      break;
    }
  }
  if (last_user == history.size() || history[last_user].content != user_text) {
    return StoredTurn::absent;
  }
  if (last_user + 1 == history.size()) return StoredTurn::unanswered;
  // Only tool rounds after it: assistant messages that call tools, and tool results.
  for (std::size_t i = last_user + 1; i < history.size(); ++i) {
    const auto& m = history[i];
    const bool round = m.role == "tool" || (m.role == "assistant" && !m.tool_calls.empty());
    if (!round) return StoredTurn::absent;  // answered: this is a new message with the same text
  }
  return history.back().role == "tool" ? StoredTurn::mid_loop : StoredTurn::absent;
}

}  // namespace hermes::daemon
