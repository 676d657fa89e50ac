#include "daemon/agent/stored_turn.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon {
namespace {

using providers::ChatMessage;

TEST(StoredTurn, TheTableOfWhereAReHandledMessageStands) {
  const ChatMessage user{"user", "weather?"};
  const ChatMessage asked{"assistant", "", R"([{"id":"c1"}])", ""};
  const ChatMessage result{"tool", "rain", "", "c1"};
  const ChatMessage answer{"assistant", "It rains."};
  struct Case {
    const char* name;
    std::vector<ChatMessage> history;
    StoredTurn expected;
  };
  const Case cases[] = {
      {"an empty session", {}, StoredTurn::absent},
      {"stored, nothing after it", {user}, StoredTurn::unanswered},
      {"one complete round after it", {user, asked, result}, StoredTurn::mid_loop},
      {"two rounds", {user, asked, result, asked, result}, StoredTurn::mid_loop},
      {"answered already: the same text again is a new message",
       {user, answer},
       StoredTurn::absent},
      {"answered after a round", {user, asked, result, answer}, StoredTurn::absent},
      {"a call without its result is no complete round", {user, asked}, StoredTurn::absent},
      {"another text last", {ChatMessage{"user", "other"}}, StoredTurn::absent},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(stored_turn_state(c.history, "weather?"), c.expected) << c.name;
  }
}

}  // namespace
}  // namespace hermes::daemon
