#include "daemon/agent/turn_end.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon {
namespace {

using M = TurnMark;
using T = TurnTell;

struct EndCase {
  const char* name;
  TurnFacts facts;
  bool retry;
  M mark;
  T tell;
  std::string_view partial;
};

void PrintTo(const EndCase& c, std::ostream* os) {
  *os << c.name;
}

TurnFacts facts(bool ok, bool interrupted = false, bool client_gone = false, bool stopped = false,
                bool rounds = false, bool overflow = false, bool compactable = true,
                bool retried = false, bool said = false) {
  return {ok, interrupted, client_gone, stopped, rounds, overflow, compactable, retried, said};
}

class TurnEndTable : public ::testing::TestWithParam<EndCase> {};

TEST_P(TurnEndTable, Decides) {
  const auto& c = GetParam();
  const auto end = decide_turn_end(c.facts);
  EXPECT_EQ(end.retry_after_compaction, c.retry);
  EXPECT_EQ(to_string(end.mark), to_string(c.mark));
  EXPECT_EQ(static_cast<int>(end.tell), static_cast<int>(c.tell));
  EXPECT_EQ(end.partial_status, c.partial);
}

INSTANTIATE_TEST_SUITE_P(
    Decisions, TurnEndTable,
    ::testing::Values(
        EndCase{"answered", facts(true), false, M::done, T::answer, ""},
        EndCase{"answered_after_tool_rounds", facts(true, false, false, false, true), false,
                M::done, T::answer, ""},
        EndCase{"failed_tells_the_hint", facts(false), false, M::done, T::failure, ""},
        EndCase{"overflow_on_a_stored_session_retries_once",
                facts(false, false, false, false, false, true), true, M::done, T::nothing, ""},
        EndCase{"overflow_after_the_retry_is_a_failure",
                facts(false, false, false, false, false, true, true, true), false, M::done,
                T::failure, ""},
        EndCase{"overflow_after_tool_rounds_is_not_retried_the_tools_would_run_again",
                facts(false, false, false, false, true, true), false, M::done, T::failure, ""},
        EndCase{"overflow_of_a_stateless_request_is_the_clients_to_shorten",
                facts(false, false, false, false, false, true, false), false, M::done, T::failure,
                ""},
        EndCase{"drain_before_any_round_tells_to_ask_again", facts(false, true), false,
                M::interrupted, T::interrupted, ""},
        EndCase{"drain_after_rounds_is_resumed_by_the_next_process",
                facts(false, true, false, false, true), false, M::resumable, T::nothing, ""},
        EndCase{"drain_during_an_overflow_is_no_retry",
                facts(false, true, false, false, false, true), false, M::interrupted,
                T::interrupted, ""},
        EndCase{"client_hung_up_keeps_what_was_said_as_interrupted",
                facts(false, false, true, false, false, false, true, false, true), false,
                M::interrupted, T::nothing, "interrupted"},
        EndCase{"client_hung_up_before_a_word", facts(false, false, true), false, M::interrupted,
                T::nothing, "interrupted"},
        EndCase{"stopped_by_the_user_keeps_its_words_as_stopped",
                facts(false, false, true, true, true, false, true, false, true), false, M::stopped,
                T::nothing, "stopped"},
        EndCase{"stopped_before_a_word_keeps_nothing_more", facts(false, false, true, true), false,
                M::stopped, T::nothing, ""}));

}  // namespace
}  // namespace hermes::daemon
