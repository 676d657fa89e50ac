#pragma once

#include <span>
#include <string_view>

#include "daemon/providers/openai_chat.hpp"

namespace hermes::daemon {

// Where a session's history stands for a user message being handled (again, after a crash or
// a restart cut its turn).
enum class StoredTurn {
  absent,      // the message is not the last thing said: store it and run the turn
  unanswered,  // it is stored and nothing follows it: run the turn without storing it again
  mid_loop,    // complete tool rounds follow it (the drain cut the turn): resume from there,
               // no tool run again, no finished round's provider call repeated
};

// Pure: decided by the messages after the last user message.
StoredTurn stored_turn_state(std::span<const providers::ChatMessage> history,
                             std::string_view user_text);

}  // namespace hermes::daemon
