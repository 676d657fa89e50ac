#include "daemon/platforms/chat/chat_text.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::chat {
namespace {

TEST(SplitMessage, ShortTextIsOnePart) {
  EXPECT_EQ(split_message("hello"), std::vector<std::string>{"hello"});
  EXPECT_TRUE(split_message("").empty());
}

TEST(SplitMessage, PrefersParagraphThenSentenceThenSpace) {
  const std::string a(60, 'a'), b(30, 'b');
  EXPECT_EQ(split_message(a + "\n\n" + b, 80), (std::vector<std::string>{a, b}));
  const std::string s1 = std::string(50, 'x') + ".", s2 = std::string(40, 'y') + ".";
  EXPECT_EQ(split_message(s1 + " " + s2, 80), (std::vector<std::string>{s1, s2}));
  const std::string w1(50, 'w'), w2(40, 'z');
  EXPECT_EQ(split_message(w1 + " " + w2, 80), (std::vector<std::string>{w1, w2}));
}

TEST(SplitMessage, HardCutKeepsEveryByteAndNeverSplitsACharacter) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "é";  // 2 bytes, 1 UTF-16 unit each
  const auto parts = split_message(text, 30);
  std::string joined;
  for (const auto& p : parts) {
    EXPECT_LE(utf16_units(p), 30u);
    EXPECT_EQ(p.size() % 2, 0u);
    joined += p;
  }
  EXPECT_EQ(joined, text);
}

TEST(SplitMessage, CountsAstralCharactersAsTwoUnits) {
  EXPECT_EQ(utf16_units("😀"), 2u);
  EXPECT_EQ(utf16_units("a€😀"), 4u);
  std::string emoji;
  for (int i = 0; i < 10; ++i) emoji += "😀";
  for (const auto& p : split_message(emoji, 5)) EXPECT_LE(utf16_units(p), 5u);
}

TEST(Commands, Parse) {
  EXPECT_EQ(parse_command("/new"), Command::new_session);
  EXPECT_EQ(parse_command("/reset please"), Command::new_session);
  EXPECT_EQ(parse_command("/status@hermes_bot"), Command::status);
  EXPECT_EQ(parse_command("/help"), Command::help);
  EXPECT_EQ(parse_command("/start"), Command::help);
  EXPECT_EQ(parse_command("/newer"), Command::none);
  EXPECT_EQ(parse_command("new"), Command::none);
  EXPECT_EQ(parse_command(""), Command::none);
}

TEST(Replies, FailedTurnCarriesTheHintAndAWayOn) {
  providers::Classification c;
  c.reason = providers::FailoverReason::billing;
  EXPECT_EQ(failed_turn_reply(c),
            "Sorry, I couldn't get a reply from the model. Your API balance or quota is exhausted. "
            "Check your provider dashboard. Your message is saved: send it again to retry, or /new "
            "to start a fresh session.");
}

TEST(Replies, AMessageLeftOutIsNotToBeSentAgain) {
  providers::Classification c;
  c.reason = providers::FailoverReason::context_overflow;
  c.gateway_detail = "Your message is about 1004 tokens, too long.";
  EXPECT_EQ(failed_turn_reply(c),
            "Sorry, I can't send that message to the model. Your message is about 1004 tokens, "
            "too long.");
  c.gateway_detail.clear();  // the provider's overflow of a whole conversation: /new
  EXPECT_NE(failed_turn_reply(c).find("Send /new"), std::string::npos);
}

TEST(TelegramText, ABudgetRefusalSaysWhichBudgetAndWhenItResetsNotToRetry) {
  providers::Classification c;
  c.reason = providers::FailoverReason::budget_exceeded;
  c.gateway_detail =
      "The daily-chat budget ($2.00 a day) is used up: $2.05 spent. It resets at "
      "2026-12-03 00:00 UTC.";
  const auto reply = failed_turn_reply(c);
  EXPECT_EQ(reply, "Sorry, I can't answer now. " + c.gateway_detail);
}

}  // namespace
}  // namespace hermes::daemon::chat
