// The context window: the token estimate, its correction from reported usage, and where a
// conversation is cut for a summary.
#include "daemon/agent/context_window.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::context {
namespace {

using providers::ChatMessage;

ChatMessage calls(const char* id) {
  return {"assistant", "",
          std::string(R"([{"id":")") + id +
              R"(","type":"function","function":{"name":"f","arguments":"{}"}}])"};
}

TEST(TokenEstimate, IsCharactersOverFourPlusAnOverheadPerMessage) {
  const std::vector<ChatMessage> messages = {{"user", std::string(400, 'x')},
                                             {"assistant", std::string(100, 'y')}};
  EXPECT_EQ(estimate_tokens(messages), 125 + 2 * kTokensPerMessage);
  EXPECT_EQ(estimate_tokens(messages, 2.0), 250 + 2 * kTokensPerMessage);
  const std::vector<ChatMessage> tool = {calls("c1"), {"tool", "result", "", "c1"}};
  EXPECT_GT(estimate_tokens(tool), 2 * kTokensPerMessage) << "tool calls and results count";
}

TEST(TokenEstimate, LearnsFromReportedPromptTokensWithinBounds) {
  TokenCorrection correction;
  EXPECT_DOUBLE_EQ(correction.factor(), 1.0);
  correction.observe(100, 150);
  EXPECT_DOUBLE_EQ(correction.factor(), 1.5);
  correction.observe(100, 150);
  EXPECT_NEAR(correction.factor(), 1.5, 1e-9);
  correction.observe(100, 100000);  // one absurd report moves it, boundedly
  EXPECT_LT(correction.factor(), 2.5);
  correction.observe(0, 10);
  correction.observe(10, 0);
  EXPECT_LT(correction.factor(), 2.5) << "reports without numbers are ignored";
}

TEST(Threshold, PassesAboveTheShareOfTheWindow) {
  EXPECT_FALSE(over_threshold(850, 1000, 0.85));
  EXPECT_TRUE(over_threshold(851, 1000, 0.85));
}

TEST(SummariseCount, KeepsTheNewestWholeTurnsAndNeverSplitsAToolRound) {
  const std::vector<ChatMessage> history = {
      {"user", "u1"},           {"assistant", "a1"}, {"user", "u2"}, calls("c1"),
      {"tool", "r1", "", "c1"}, {"assistant", "a2"}, {"user", "u3"}, calls("c2"),
      {"tool", "r2", "", "c2"}, {"assistant", "a3"}, {"user", "u4"}};
  struct Case {
    std::size_t protect, expected;
  };
  const Case cases[] = {
      {0, 11},           // nothing protected: all of it
      {1, 10},           // u4 kept
      {2, 6},            // a3 would start the kept part: back to u3
      {3, 6},            // r2 would: back to u3 (the round stays whole)
      {4, 6},            // c2's call would: back to u3
      {5, 6},            // u3
      {6, 2},            // a2 → r1 → c1 → u2
      {9, 2},  {10, 0},  // only u1 left to cut before: nothing
      {11, 0}, {50, 0},
  };
  for (const auto& c : cases) {
    const auto n = summarise_count(history, c.protect);
    EXPECT_EQ(n, c.expected) << "protect " << c.protect;
    if (n > 0 && n < history.size()) {
      EXPECT_EQ(history[n].role, "user");
    }
  }
}

TEST(ContextWindow, AMessageIsLeftOutWhenItCanNeverFit) {
  struct Row {
    long tokens;
    long window;
    bool overflowed_after_compaction;
    bool left_out;
  };
  const Row rows[] = {
      {401, 400, false, true},   // alone over the window: can never fit
      {400, 400, false, false},  // exactly the window fits
      {390, 400, false, false},  // under it by the estimate: tried
      {390, 400, true, true},    // ...and still over after compaction: it is what overflowed
      {201, 400, true, true},
      {200, 400, true, false},  // half the window or less is not what overflowed
      {10, 400, true, false},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(leave_out(row.tokens, row.window, row.overflowed_after_compaction), row.left_out)
        << row.tokens << "/" << row.window << " " << row.overflowed_after_compaction;
  }
  EXPECT_EQ(left_out_sentence(1004, 400),
            "Your message is about 1004 tokens, too long for the model's context window of 400 "
            "tokens. It is kept but left out of this conversation, so your next message works as "
            "before; send it shorter or in parts.");
}

TEST(Summary, TheTranscriptNamesRolesAndTheSummaryStandsAsAUserMessage) {
  const std::vector<ChatMessage> old = {{"user", "hi"}, calls("c1"), {"tool", "42", "", "c1"}};
  const auto text = transcript_text(old);
  EXPECT_NE(text.find("user: hi"), std::string::npos);
  EXPECT_NE(text.find("asked to run tools"), std::string::npos);
  EXPECT_NE(text.find("tool result (c1): 42"), std::string::npos);
  const auto summary = summary_message("they said hi");
  EXPECT_EQ(summary.role, "user");
  EXPECT_TRUE(summary.content.starts_with(kSummaryPrefix));
}

}  // namespace
}  // namespace hermes::daemon::context
