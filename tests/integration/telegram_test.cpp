// The Telegram platform end to end: the real daemon, the Bot API emulator from npm
// (telegram-test-api) and the fake provider.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"
#include "telegram_emulator.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class TelegramChat : public ::testing::Test {
 protected:
  std::string config_text(const std::string& allowed_users, const std::string& agent,
                          const std::string& extra) const {
    return "model: {provider: primary, default: demo-model}\n"
           "providers: {primary: {base_url: '" +
           fake_.base_url() +
           "', api_keys: [sk-secret-k1]}}\n"
           "agent: {api_max_retries: 1" +
           agent +
           "}\n"
           "gateway:\n"
           "  api_server: {host: 127.0.0.1, port: " +
           std::to_string(home_.port) +
           "}\n"
           "  telegram: {enabled: true, api_base: '" +
           emulator_.api_base() + "', bot_token: '" + TelegramEmulator::kToken +
           "', allowed_users: " + allowed_users +
           (allowed_users == "[]" ? ", allow_all_users: true" : "") +
           (streaming_ ? "" : ", streaming: false") + "}\n" + extra;
  }
  // `agent`: more entries of the agent mapping (", k: v"); `extra`: more top-level YAML.
  void start(const std::string& allowed_users = "[]", const std::string& agent = "",
             const std::string& extra = "") {
    home_.dir.write("config.yaml", config_text(allowed_users, agent, extra));
    auto options = home_.env();
    for (const auto& [key, value] : hooks_) options.env[key] = value;
    daemon_ = home_.start(options);
    ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s)) << daemon_->stderr_text();
  }
  void stop() {
    daemon_->signal(SIGTERM);
    ASSERT_EQ(daemon_->wait(15s), 0) << daemon_->stderr_text();
  }

  // Waits until the bot has sent `count` messages to `chat` (collecting them as they come).
  json wait_for_replies(long long chat, std::size_t count,
                        std::chrono::milliseconds timeout = 10s) {
    json all = json::array();
    wait_until(
        [&] {
          for (auto& m : emulator_.bot_messages(chat)) all.push_back(m["message"]);
          return all.size() >= count;
        },
        timeout);
    return all;
  }

  void TearDown() override {
    if (daemon_ && daemon_->running()) {
      const auto log = daemon_->stderr_text();
      EXPECT_THAT(log, Not(HasSubstr("AAEmulatorToken"))) << "the bot token reached the log";
      EXPECT_THAT(log, Not(HasSubstr("sk-secret"))) << "a provider key reached the log";
      stop();
    }
  }

  FakeProvider fake_;
  TelegramEmulator emulator_;
  GatewayHome home_;
  std::unique_ptr<ChildProcess> daemon_;
  // Replies all at once, so a test reads each whole; the streaming tests turn it on.
  bool streaming_ = false;
  std::map<std::string, std::string> hooks_;  // more environment for the daemon
};

TEST_F(TelegramChat, AReplyArrivesAsAnAnswerToTheMessage) {
  start();
  emulator_.send(501, "hello bot");
  const auto replies = wait_for_replies(501, 1);
  ASSERT_EQ(replies.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(replies[0]["text"], "echo: hello bot");
  EXPECT_TRUE(replies[0].contains("reply_to_message_id"));
}

TEST_F(TelegramChat, Upstream402BecomesTheBillingHintInChat) {
  start();
  fake_.script(
      "*",
      json::array(
          {{{"status", 402},
            {"body", {{"error", {{"message", "Insufficient Balance for key sk-secret-k1"}}}}}}}));
  emulator_.send(502, "are you there?");
  const auto replies = wait_for_replies(502, 1);
  ASSERT_EQ(replies.size(), 1u);
  const std::string text = replies[0]["text"];
  EXPECT_THAT(text, StartsWith("Sorry, I couldn't get a reply from the model. "));
  EXPECT_THAT(text,
              HasSubstr("Your API balance or quota is exhausted. Check your provider dashboard."));
  EXPECT_THAT(text, HasSubstr("/new"));
  EXPECT_THAT(text, Not(HasSubstr("Insufficient")));
  EXPECT_THAT(text, Not(HasSubstr("sk-")));
}

TEST_F(TelegramChat, NewStartsAFreshSessionAndStatusAndHelpAnswer) {
  start();
  emulator_.send(503, "remember this");
  ASSERT_EQ(wait_for_replies(503, 1).size(), 1u);
  emulator_.send(503, "/status");
  auto replies = wait_for_replies(503, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(),
              HasSubstr("Model: demo-model (provider primary)"));
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("Session: 2 messages"));
  emulator_.send(503, "/new");
  replies = wait_for_replies(503, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("Started a fresh session"));
  emulator_.send(503, "second");
  ASSERT_EQ(wait_for_replies(503, 1).size(), 1u);
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  std::vector<std::string> sent;
  for (const auto& m : calls[1]["messages"]) sent.push_back(m["content"]);
  EXPECT_THAT(sent, ::testing::ElementsAre("You are a helpful assistant.", "second"));
  emulator_.send(503, "/help");
  replies = wait_for_replies(503, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("/reset"));
}

TEST_F(TelegramChat, CompressSummarisesOnDemandAndStatusAndUsageTellWhereTheChatStands) {
  start("[]", "",
        "compression: {protect_last_n: 2}\n"
        "pricing: {demo-model: {input: 1000, output: 1000}}\n"
        "budgets: [{name: chat-day, scope: chat, limit_usd: 1000, period: day}]\n");
  fake_.limit_context(0, 40);  // the "summary" is shorter than what it read
  for (const char* text : {"my name is Ada", "I live in Oslo", "I like tea"}) {
    emulator_.send(504, text);
    ASSERT_EQ(wait_for_replies(504, 1).size(), 1u) << daemon_->stderr_text();
  }
  emulator_.send(504, "/status");
  auto replies = wait_for_replies(504, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("Context: 0% full (about "));
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("of 128,000 tokens)"));

  emulator_.send(504, "/compress");
  replies = wait_for_replies(504, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(),
              StartsWith("Summarised the 4 oldest messages"));
  const auto summary_call = fake_.calls().back();
  EXPECT_THAT(summary_call["messages"][1]["content"].get<std::string>(),
              HasSubstr("my name is Ada"));

  emulator_.send(504, "what do you know?");
  ASSERT_EQ(wait_for_replies(504, 1).size(), 1u);
  const auto sent = fake_.calls().back()["messages"];
  ASSERT_EQ(sent.size(), 5u) << sent.dump();  // prompt, summary, the last turn, the new message
  EXPECT_THAT(sent[1]["content"].get<std::string>(), StartsWith("[Summary of the earlier"));
  EXPECT_EQ(sent[2]["content"], "I like tea");

  emulator_.send(504, "/usage");
  replies = wait_for_replies(504, 1);
  ASSERT_EQ(replies.size(), 1u);
  const std::string usage = replies[0]["text"];
  EXPECT_THAT(usage, HasSubstr("This chat: "));
  EXPECT_THAT(usage, HasSubstr("in 5 calls")) << "four turns and the summary";
  EXPECT_THAT(usage, HasSubstr("The whole gateway: "));
}

TEST_F(TelegramChat, APhotoGetsOneNoteAndItsCaptionIsAnsweredAsText) {
  start();
  emulator_.send_message(
      505, 505, {{"photo", json::array({{{"file_id", "p1"}, {"width", 90}, {"height", 90}}})}});
  auto replies = wait_for_replies(505, 1);
  ASSERT_EQ(replies.size(), 1u) << daemon_->stderr_text();
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("I read text only for now"));
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("photos"));
  emulator_.send_message(
      505, 505, {{"photo", json::array({{{"file_id", "p2"}}})}, {"caption", "what is this?"}});
  replies = wait_for_replies(505, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "echo: what is this?");
  emulator_.send_message(505, 505, {{"voice", {{"file_id", "v1"}, {"duration", 2}}}});
  replies = wait_for_replies(505, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("voice messages"));
  EXPECT_EQ(fake_.calls().size(), 1u) << "only the caption reached the model";
}

TEST_F(TelegramChat, InAGroupOnlyMessagesForTheBotAreAnswered) {
  start();
  emulator_.send_message(506, -1006, {{"text", "lunch at noon, everyone?"}});
  emulator_.send_message(506, -1006, {{"text", "@TestNameBot what is the capital of Norway?"}});
  const auto replies = wait_for_replies(-1006, 1);
  ASSERT_EQ(replies.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(replies[0]["text"], "echo: @TestNameBot what is the capital of Norway?");
  // The chatter before it was seen (the offset moved past it) but never answered.
  emulator_.send_message(506, -1006, {{"text", "/status"}});
  ASSERT_EQ(wait_for_replies(-1006, 1).size(), 1u) << "a command is for the bot";
  EXPECT_EQ(fake_.calls().size(), 1u);
  EXPECT_TRUE(wait_for_replies(-1006, 1, 500ms).empty()) << "no answer to the chatter";
}

long long unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(TelegramChat, StopEndsARunningTurnWithinASecondAndKeepsTheChatToldOnce) {
  start();
  fake_.script("*", json::array({{{"delay_ms", 25000}, {"content", "far too late"}}}));
  emulator_.send(507, "write me a very long story");
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 10s));
  const auto sent_at = unix_ms();
  emulator_.send(507, "/stop");
  ASSERT_TRUE(wait_until([&] { return fake_.calls()[0].contains("abandoned_at"); }, 5s))
      << "the provider call was not dropped" << daemon_->stderr_text();
  const long long latency = fake_.calls()[0]["abandoned_at"].get<long long>() - sent_at;
  EXPECT_LT(latency, 1000) << "/stop took a second or more";
  RecordProperty("stop_latency_ms", std::to_string(latency));
  auto replies = wait_for_replies(507, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), StartsWith("Stopped."));
  emulator_.send(507, "/stop");
  replies = wait_for_replies(507, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), StartsWith("Nothing to stop"));
  emulator_.send(507, "and now?");
  replies = wait_for_replies(507, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "echo: and now?") << "the chat goes on";
  EXPECT_TRUE(wait_for_replies(507, 1, 300ms).empty()) << "the stopped turn sent nothing";
}

// The dashboard's Stop of a chat's turn: the turn ends at once, and the chat is told by whom.
TEST_F(TelegramChat, TheDashboardsStopEndsAChatsTurnAndTheChatIsTold) {
  start();
  fake_.script("*", json::array({{{"delay_ms", 25000}, {"content", "far too late"}}}));
  emulator_.send(509, "a very long story please");
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 10s));
  json runs;
  ASSERT_TRUE(wait_until(
      [&] {
        std::string body;
        if (http_get_status(home_.port, "/ui/api/overview", &body) != 200) return false;
        runs = json::parse(body)["runs"];
        return runs.size() == 1;
      },
      5s));
  EXPECT_EQ(runs[0]["platform"], "telegram");
  EXPECT_THAT(runs[0]["step"].get<std::string>(), StartsWith("calling "));
  const std::string id = runs[0]["id"];
  const auto stopped = http_request(home_.port, "POST", "/ui/api/runs/" + id + "/stop");
  EXPECT_EQ(stopped.status, 200) << stopped.body;
  auto replies = wait_for_replies(509, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "⏹ Stopped from the gateway's dashboard.");
  EXPECT_EQ(http_request(home_.port, "POST", "/ui/api/runs/" + id + "/stop").status, 404)
      << "a run that ended cannot be stopped again";
  emulator_.send(509, "and now?");
  replies = wait_for_replies(509, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "echo: and now?") << "the chat goes on";
}

TEST_F(TelegramChat, StatusDuringATurnIsAnsweredAtOnceNotAfterIt) {
  start();
  fake_.script("*", json::array({{{"delay_ms", 3000}, {"content", "the slow answer"}}}));
  emulator_.send(514, "a slow question");
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 10s));
  emulator_.send(514, "/status");
  auto replies = wait_for_replies(514, 1, 2s);
  ASSERT_EQ(replies.size(), 1u) << "no answer while the turn ran";
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("Model: demo-model"));
  replies = wait_for_replies(514, 1, 10s);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "the slow answer");
  EXPECT_TRUE(wait_for_replies(514, 1, 500ms).empty()) << "the status was answered once";
}

TEST_F(TelegramChat, InInterruptModeANewMessageStopsTheTurnAndIsAnsweredInstead) {
  start("[]", "", "display: {busy_input_mode: interrupt}\n");
  fake_.script("*", json::array({{{"delay_ms", 25000}, {"content", "far too late"}}}));
  emulator_.send(508, "a slow question");
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 10s));
  emulator_.send(508, "never mind, hi");
  const auto replies = wait_for_replies(508, 1);
  ASSERT_EQ(replies.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(replies[0]["text"], "echo: never mind, hi");
  EXPECT_TRUE(fake_.calls()[0].contains("abandoned_at"));
  EXPECT_TRUE(wait_for_replies(508, 1, 300ms).empty()) << "the interrupted turn sent nothing";
}

TEST_F(TelegramChat, AStreamedAnswerAppearsAsItIsWrittenInOneMessageEditedInPlace) {
  streaming_ = true;
  start();
  const std::string answer = words(40);  // 40 words over 4 s
  fake_.script("*", json::array({{{"stream", tokens_of(answer)}, {"delta_delay_ms", 100}}}));
  const auto sent = std::chrono::steady_clock::now();
  emulator_.send(509, "tell me forty words");
  std::set<std::string> seen;
  std::optional<double> first_visible, final_at;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto history = emulator_.bot_history(509);
        if (history.empty()) return false;
        const double t =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        if (!first_visible) first_visible = t;
        seen.insert(history.back().second);
        if (history.size() == 1 && history[0].second == answer) {
          final_at = t;
          return true;
        }
        return false;
      },
      15s))
      << daemon_->stderr_text();
  EXPECT_EQ(emulator_.bot_history(509).size(), 1u) << "one message, edited";
  EXPECT_GE(seen.size(), 3u) << "text appeared in steps";
  EXPECT_LT(*first_visible, 2.0) << "the first text shows within about a second";
  for (const auto& text : seen) EXPECT_TRUE(answer.starts_with(text)) << text;
  RecordProperty("first_visible_s", std::to_string(*first_visible));
  RecordProperty("final_s", std::to_string(*final_at));
  RecordProperty("texts_seen", std::to_string(seen.size()));
}

TEST_F(TelegramChat, ALongStreamContinuesInNewMessagesWithNoTextRepeated) {
  streaming_ = true;
  start();
  std::string answer;
  while (answer.size() < 9000) answer += "This sentence is part of a long answer. ";
  answer.pop_back();
  fake_.script("*", json::array({{{"stream", tokens_of(answer)}, {"delta_delay_ms", 0}}}));
  emulator_.send(510, "a long one please");
  std::vector<std::pair<long long, std::string>> history;
  auto squeezed = [](std::string text) {
    std::erase(text, ' ');
    return text;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        history = emulator_.bot_history(510);
        std::string all;
        for (const auto& [id, text] : history) all += text;
        return squeezed(all) == squeezed(answer);
      },
      20s))
      << history.size() << " messages\n"
      << daemon_->stderr_text();
  EXPECT_EQ(history.size(), 3u);
  for (const auto& [id, text] : history) EXPECT_LE(text.size(), 4096u);
}

TEST_F(TelegramChat, AKillMidStreamIsCompletedByEditingTheSameMessageNotSentTwice) {
  streaming_ = true;
  start();
  fake_.script("*", json::array({{{"stream", tokens_of(words(60))}, {"delta_delay_ms", 100}}}));
  emulator_.send(511, "keep going");
  // Killed once the message has been edited: the edit follows the commit of its id (a crash
  // in the few ms between Telegram accepting the first send and that commit is the one window).
  std::string first;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto history = emulator_.bot_history(511);
        if (history.empty()) return false;
        if (first.empty()) first = history[0].second;
        return history[0].second != first;
      },
      10s));
  daemon_->signal(SIGKILL);
  daemon_->wait(10s);
  const auto before = emulator_.bot_history(511);
  ASSERT_EQ(before.size(), 1u);
  EXPECT_NE(before[0].second, words(60)) << "it was cut mid-stream";
  daemon_ = home_.start(home_.env());
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s));
  // The next process answers the message again (echo) into the message already shown.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto history = emulator_.bot_history(511);
        return !history.empty() && history.back().second == "echo: keep going";
      },
      15s))
      << daemon_->stderr_text();
  const auto after = emulator_.bot_history(511);
  ASSERT_EQ(after.size(), 1u) << "no second copy";
  EXPECT_EQ(after[0].first, before[0].first) << "the same message, edited";
}

TEST_F(TelegramChat, WhileToolsRunTheMessageShowsThemAndTheAnswerReplacesThem) {
  streaming_ = true;
  const std::string everything = std::string(HERMES_NODE_TESTS) +
                                 "/node_modules/@modelcontextprotocol/server-everything/dist/"
                                 "index.js";
  start("[]", "",
        "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
            everything + "']\n");
  json ask = json::object();
  ask["tool_calls"] = json::array({{{"id", "t1"},
                                    {"name", "mcp_everything_echo"},
                                    {"arguments", R"({"message":"notes.txt"})"}}});
  json slow_answer = json::object();
  slow_answer["delay_ms"] = 2000;
  slow_answer["content"] = "The notes say hello.";
  fake_.script("*", json::array({ask, slow_answer}));
  emulator_.send(512, "what do my notes say?");
  std::set<std::string> seen;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto history = emulator_.bot_history(512);
        if (history.empty()) return false;
        seen.insert(history.back().second);
        return history.back().second == "The notes say hello.";
      },
      20s))
      << daemon_->stderr_text();
  EXPECT_TRUE(seen.contains("🔧 echo notes.txt\n") || seen.contains("🔧 echo notes.txt"))
      << ::testing::PrintToString(seen);
  EXPECT_EQ(emulator_.bot_history(512).size(), 1u) << "the answer replaced the progress line";
}

TEST_F(TelegramChat, AToolThatNeedsApprovalAsksWithButtonsAndIsApprovedDeniedOrTimesOut) {
  const std::string everything = std::string(HERMES_NODE_TESTS) +
                                 "/node_modules/@modelcontextprotocol/server-everything/dist/"
                                 "index.js";
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}, {"HERMES_TEST_APPROVAL_TIMEOUT_MS", "1500"}};
  start("[]", "",
        "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
            everything + "']\n    tools: {require_approval: [echo]}\n");
  auto ask = [&](const std::string& then) {
    json call = json::object();
    call["tool_calls"] = json::array({{{"id", "a1"},
                                       {"name", "mcp_everything_echo"},
                                       {"arguments", R"({"message":"secret plan"})"}}});
    json answer = json::object();
    answer["content"] = then;
    fake_.script("*", json::array({call, answer}));
  };
  auto question = [&] {
    const auto asked = wait_for_replies(513, 1);
    EXPECT_EQ(asked.size(), 1u) << daemon_->stderr_text();
    if (asked.empty()) return json();
    EXPECT_THAT(asked[0]["text"].get<std::string>(), HasSubstr("May I run echo?"));
    EXPECT_THAT(asked[0]["text"].get<std::string>(), HasSubstr("secret plan"));
    return asked[0];
  };
  auto tool_result = [&] {
    return fake_.calls().back()["messages"].back()["content"].get<std::string>();
  };

  // Approved with the button: the tool runs.
  ask("ran it");
  emulator_.send(513, "use the echo tool");
  auto prompt = question();
  ASSERT_FALSE(prompt.is_null());
  const std::string approve = prompt["reply_markup"]["inline_keyboard"][0][0]["callback_data"];
  long long prompt_id = 0;
  for (const auto& [id, text] : emulator_.bot_history(513)) {
    if (text.find("May I run") != std::string::npos) prompt_id = id;
  }
  ASSERT_NE(prompt_id, 0);
  emulator_.press(513, 513, prompt_id, approve);
  auto replies = wait_for_replies(513, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "ran it");
  EXPECT_EQ(tool_result(), "Echo: secret plan");

  // Denied with /deny: the model is told, and so is the user.
  ask("did not run it");
  emulator_.send(513, "use it again");
  ASSERT_FALSE(question().is_null());
  emulator_.send(513, "/deny");
  replies = wait_for_replies(513, 2);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0]["text"], "did not run it");
  EXPECT_EQ(replies[1]["text"], "Denied.");
  EXPECT_THAT(tool_result(), HasSubstr("did not approve"));

  // No answer: denied after the timeout.
  ask("gave up waiting");
  emulator_.send(513, "and once more");
  ASSERT_FALSE(question().is_null());
  replies = wait_for_replies(513, 1, 10s);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "gave up waiting");
  EXPECT_THAT(tool_result(), HasSubstr("did not approve"));
}

// Hardening (issue 24, item 5): another allowed user pressing chat 111's Approve from their
// own chat (333) must not run chat 111's tool; the button's id cannot be guessed.
TEST_F(TelegramChat, AnApprovalCannotBeAnsweredFromAnotherChat) {
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}};
  start("[111, 333]", "",
        "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
            kEverythingServer + "']\n    tools: {require_approval: [echo]}\n");
  fake_.script("*", echo_call_then("ran it"));
  emulator_.send(111, "use the echo tool");
  const auto asked = wait_for_replies(111, 1);
  ASSERT_EQ(asked.size(), 1u) << daemon_->stderr_text();
  const std::string approve = asked[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"];
  EXPECT_THAT(approve, ::testing::MatchesRegex("approve:[0-9a-f]{16}"));
  long long prompt_id = 0;
  for (const auto& [id, text] : emulator_.bot_history(111)) {
    if (text.find("May I run") != std::string::npos) prompt_id = id;
  }
  ASSERT_NE(prompt_id, 0);
  emulator_.press(333, 333, prompt_id, approve);  // the forged press
  ASSERT_TRUE(wait_until(
      [&] {
        return daemon_->stderr_text().find("pressed chat 111's approval from chat 333") !=
               std::string::npos;
      },
      5s))
      << daemon_->stderr_text();
  EXPECT_EQ(fake_.calls().size(), 1u) << "the tool ran on another chat's press";
  emulator_.press(111, 111, prompt_id, approve);
  const auto replies = wait_for_replies(111, 1);
  ASSERT_EQ(replies.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(replies[0]["text"], "ran it");
}

// Hardening (issue 24, item 1): the tool list rebuilt while the user decides (here a SIGHUP
// that removes the tool's server) must not leave the approval reading freed memory (ASan:
// heap-use-after-free, the gateway died): the call is looked up again and fails cleanly.
TEST_F(TelegramChat, AToolRemovedWhileWaitingForApprovalIsNotRunAndNothingCrashes) {
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}};
  const std::string servers =
      "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
      kEverythingServer + "']\n    tools: {require_approval: [echo]}\n";
  start("[]", "", servers);
  fake_.script("*", echo_call_then("after the approval"));
  emulator_.send(514, "use the echo tool");
  const auto asked = wait_for_replies(514, 1);
  ASSERT_EQ(asked.size(), 1u) << daemon_->stderr_text();
  const std::string approve = asked[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"];
  long long prompt_id = 0;
  for (const auto& [id, text] : emulator_.bot_history(514)) {
    if (text.find("May I run") != std::string::npos) prompt_id = id;
  }
  home_.dir.write("config.yaml", config_text("[]", "", ""));  // the server is removed
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return daemon_->stderr_text().find("config reloaded") != std::string::npos; }, 10s));
  emulator_.press(514, 514, prompt_id, approve);
  const auto replies = wait_for_replies(514, 1);
  ASSERT_EQ(replies.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(replies[0]["text"], "after the approval");
  EXPECT_THAT(fake_.calls().back()["messages"].back()["content"].get<std::string>(),
              HasSubstr("went away while waiting for approval"));
  EXPECT_TRUE(daemon_->running());
}

TEST_F(TelegramChat, UnknownUserIsRefusedOnceAndNeverReachesTheModel) {
  start("[42, '@alice']");
  emulator_.send(777, "let me in", 0, "mallory");
  auto replies = wait_for_replies(777, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), HasSubstr("only answers its allowed users"));
  emulator_.send(777, "please?", 0, "mallory");
  emulator_.send(900, "hi", 0, "alice");  // allowed by username
  ASSERT_EQ(wait_for_replies(900, 1).size(), 1u);
  EXPECT_EQ(wait_for_replies(777, 1, 500ms).size(), 0u) << "refused twice";
  EXPECT_EQ(fake_.calls().size(), 1u);
  // The refusal is remembered in state.db: a restart does not repeat it.
  stop();
  daemon_ = home_.start(home_.env());
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s));
  emulator_.send(777, "and now?", 0, "mallory");
  emulator_.send(900, "still here", 0, "alice");
  ASSERT_EQ(wait_for_replies(900, 1).size(), 1u);
  EXPECT_EQ(wait_for_replies(777, 1, 500ms).size(), 0u) << "refused again after a restart";
}

TEST_F(TelegramChat, AMessageSentWhileStoppedIsAnsweredExactlyOnceAfterStart) {
  start();
  stop();
  emulator_.send(504, "are you back?");
  daemon_ = home_.start(home_.env());
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s));
  auto replies = wait_for_replies(504, 1);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0]["text"], "echo: are you back?");
  // A restart after answering must not answer it again.
  stop();
  daemon_ = home_.start(home_.env());
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s));
  EXPECT_EQ(wait_for_replies(504, 1, 1500ms).size(), 0u) << "answered twice";
  EXPECT_EQ(fake_.calls().size(), 1u);
}

TEST_F(TelegramChat, ALongAnswerArrivesInPartsInOrder) {
  start();
  std::string long_answer;
  for (int i = 0; i < 30; ++i) {
    long_answer += "Paragraph " + std::to_string(i) + ": " +
                   std::string(300, 'a' + static_cast<char>(i % 26)) + ".\n\n";
  }
  fake_.script("*", json::array({{{"content", long_answer}}}));
  emulator_.send(505, "tell me everything");
  const auto replies = wait_for_replies(505, 3);
  ASSERT_EQ(replies.size(), 3u);
  std::string joined;
  for (const auto& r : replies) {
    const std::string text = r["text"];
    EXPECT_LE(text.size(), 4096u);
    joined += text + "\n\n";
  }
  EXPECT_EQ(joined, long_answer);
  EXPECT_THAT(replies[0]["text"].get<std::string>(), StartsWith("Paragraph 0:"));
  EXPECT_TRUE(replies[0].contains("reply_to_message_id"));
}

TEST_F(TelegramChat, MessagesDuringATurnAreAnsweredInOrderAfterIt) {
  start();
  fake_.script("*", json::array({{{"delay_ms", 500}, {"content", "first answer"}}}));
  emulator_.send(506, "one");
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 5s));
  emulator_.send(506, "two");
  emulator_.send(506, "three");
  const auto replies = wait_for_replies(506, 3);
  ASSERT_EQ(replies.size(), 3u);
  EXPECT_EQ(replies[0]["text"], "first answer");
  EXPECT_EQ(replies[1]["text"], "echo: two");
  EXPECT_EQ(replies[2]["text"], "echo: three");
}

// Not the emulator: the fake provider's minimal Bot API, which can answer 409 Conflict.
TEST(TelegramPolling, ConflictIsShownInStatusAndInstantAnswersDoNotMakeItSpin) {
  FakeProvider fake;
  for (const std::string token : {"111111:conflictconflictconflictconflictconflict",
                                  "222222:quietquietquietquietquietquietquietquiet"}) {
    fake.reset();
    GatewayHome home;
    home.dir.write(
        "config.yaml",
        "model: {provider: p, default: m}\nproviders: {p: {base_url: '" + fake.base_url() +
            "'}}\ngateway:\n  api_server: {host: 127.0.0.1, port: " + std::to_string(home.port) +
            "}\n  telegram: {enabled: true, api_base: 'http://127.0.0.1:" +
            std::to_string(fake.port()) + "', bot_token: '" + token +
            "', allow_all_users: true}\n");
    NotifySocket notify(home.dir.path() / "notify.sock");
    auto daemon = home.start(home.env(notify.path().string()));
    ASSERT_TRUE(notify.receive_containing("READY=1", 10s));
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(1500ms);
    std::size_t polls = 0;
    for (const auto& call : fake.calls()) polls += call["key"] == "telegram:getUpdates" ? 1u : 0u;
    if (token.find("conflict") != std::string::npos) {
      // One poll, then a 5 s back-off; said plainly in the log and in systemd's STATUS.
      EXPECT_EQ(polls, 1u);
      EXPECT_THAT(daemon->stderr_text(),
                  HasSubstr("another poller holds this bot token (HTTP 409)"));
      EXPECT_TRUE(notify.receive_containing("telegram: 409 Conflict", 3s))
          << "STATUS does not say so";
    } else {
      // The server answers at once: at most one poll per 100 ms, not a busy loop.
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      EXPECT_LE(static_cast<double>(polls), seconds * 10 + 3);
      EXPECT_GE(polls, 3u);
    }
    EXPECT_THAT(daemon->stderr_text(), Not(HasSubstr(token.substr(7))));
    daemon->signal(SIGTERM);
    EXPECT_EQ(daemon->wait(10s), 0);
  }
}

// Telegram keeps an update until an offset past it is sent, so one whose getUpdates answer is
// over the 8 MiB cap failed every poll for good (7 failures in 40 s, later messages never
// answered). The poller narrows to one update, skips the one too large alone, and answers
// what follows. tests/node/telegram_offset_fake.mjs keeps updates as Telegram does.
TEST(TelegramPolling, AnUpdateTooLargeToReadIsSkippedAndTheNextMessageAnswered) {
  FakeProvider fake;
  GatewayHome home;
  const int fake_port = free_port();
  ChildProcess telegram(HERMES_NODE,
                        {std::string(HERMES_NODE_TESTS) + "/telegram_offset_fake.mjs", "--port",
                         std::to_string(fake_port)},
                        ChildProcess::Options{});
  ASSERT_TRUE(wait_until(
      [&] { return telegram.stderr_text().find("listening") != std::string::npos; }, 15s))
      << telegram.stderr_text();
  home.write_provider_config(
      fake.base_url(), "[k1]",
      "  telegram: {enabled: true, api_base: 'http://127.0.0.1:" + std::to_string(fake_port) +
          "', bot_token: '333333:offsetoffsetoffsetoffsetoffsetoff', "
          "allow_all_users: true, streaming: false}\n");
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  const auto control = [&](const std::string& method, const std::string& path,
                           const json& body = json::object()) {
    return json::parse(http_request(fake_port, method, path, body.dump()).body);
  };
  json sent;
  const auto wait_for_replies = [&](std::size_t count) {
    return wait_until(
        [&] {
          sent = control("GET", "/control/sent");
          return sent.size() >= count;
        },
        15s);
  };
  // A first message gives the poller an offset (a bot never polled has none to skip from).
  control("POST", "/control/send", {{"chat_id", 111}, {"user_id", 111}, {"text", "before it"}});
  ASSERT_TRUE(wait_for_replies(1)) << daemon->stderr_text();
  control("POST", "/control/send", {{"chat_id", 111}, {"user_id", 111}, {"bytes", 9 << 20}});
  control("POST", "/control/send", {{"chat_id", 111}, {"user_id", 111}, {"text", "after it"}});
  EXPECT_TRUE(wait_for_replies(2)) << daemon->stderr_text();
  ASSERT_EQ(sent.size(), 2u) << sent.dump();
  EXPECT_EQ(sent[0]["text"], "echo: before it");
  EXPECT_EQ(sent[1]["text"], "echo: after it");
  const auto log = daemon->stderr_text();
  EXPECT_THAT(log, HasSubstr("update 501 skipped: too large to read (9437"));
  // The skip was narrowed to that update: one ask for it alone, then past it.
  const auto asks = control("GET", "/control/asks");
  int alone = 0;
  for (const auto& ask : asks) alone += ask["limit"] == 1 && ask["offset"] == 501 ? 1 : 0;
  EXPECT_EQ(alone, 1) << asks.dump();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

// A poll that hangs without an error (the silence limit shortened to 1.5 s by a test hook):
// /health and /metrics say the platform is silent, the gateway cuts the poll and polls again
// by itself, and once Telegram answers again a message is answered.
TEST(TelegramPolling, AStalledPollIsRestartedByTheGatewayAndHealthSaysSoMeanwhile) {
  FakeProvider fake;
  GatewayHome home;
  home.dir.write(
      "config.yaml",
      "model: {provider: p, default: m}\nproviders: {p: {base_url: '" + fake.base_url() +
          "'}}\ngateway:\n  api_server: {host: 127.0.0.1, port: " + std::to_string(home.port) +
          "}\n  telegram: {enabled: true, streaming: false, api_base: "
          "'http://127.0.0.1:" +
          std::to_string(fake.port()) +
          "', bot_token: '333333:stallstallstallstallstallstall', "
          "allow_all_users: true}\n");
  auto options = home.env();
  options.env["HERMES_TEST_HOOKS"] = "1";
  options.env["HERMES_TEST_POLL_SILENCE_MS"] = "1500";
  auto daemon = home.start(options);
  const auto polls = [&fake] {
    std::size_t n = 0;
    for (const auto& call : fake.calls()) n += call["key"] == "telegram:getUpdates" ? 1u : 0u;
    return n;
  };
  const auto health = [&home] {
    std::string body;
    http_get_status(home.port, "/health", &body);
    return body;
  };
  ASSERT_TRUE(
      wait_until([&] { return polls() >= 2 && health().find("\"ok\"") != std::string::npos; }, 10s))
      << daemon->stderr_text();

  json hang = json::object();
  hang["hanging"] = json::array({"getUpdates"});
  ASSERT_EQ(http_request(fake.port(), "POST", "/__bot", hang.dump()).status, 200);
  ASSERT_TRUE(wait_until(
      [&] {
        return daemon->stderr_text().find("the poll loop made no progress") != std::string::npos;
      },
      10s))
      << daemon->stderr_text();
  EXPECT_THAT(health(), HasSubstr("degraded"));
  EXPECT_THAT(health(), HasSubstr("telegram"));
  std::string metrics;
  ASSERT_EQ(http_get_status(home.port, "/metrics", &metrics), 200);
  EXPECT_THAT(metrics, HasSubstr("hermes_platform_up{platform=\"telegram\"} 0"));

  json answer_again = json::object();
  answer_again["hanging"] = json::array();
  answer_again["updates"] = json::array({{{"update_id", 70},
                                          {"message",
                                           {{"message_id", 5},
                                            {"text", "still there?"},
                                            {"chat", {{"id", 71}, {"type", "private"}}},
                                            {"from", {{"id", 71}, {"username", "ann"}}}}}}});
  ASSERT_EQ(http_request(fake.port(), "POST", "/__bot", answer_again.dump()).status, 200);
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& call : fake.calls()) {
          if (call["key"] == "telegram:sendMessage" && call["body"]["chat_id"] == 71) return true;
        }
        return false;
      },
      15s))
      << daemon->stderr_text();
  EXPECT_TRUE(wait_until([&] { return health().find("\"ok\"") != std::string::npos; }, 10s))
      << health();
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(10s), 0);
}

TEST_F(TelegramChat, ATurnARestartCutAfterAToolRoundIsAnsweredByTheNextProcess) {
  const std::string everything = std::string(HERMES_NODE_TESTS) +
                                 "/node_modules/@modelcontextprotocol/server-everything/dist/"
                                 "index.js";
  const std::string servers =
      "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
      everything + "']\n";
  streaming_ = true;
  start("[]", ", restart_drain_timeout: 1", servers);
  json ask = json::object();
  ask["tool_calls"] = json::array(
      {{{"id", "t1"}, {"name", "mcp_everything_echo"}, {"arguments", R"({"message":"kept"})"}}});
  json hang = json::object();
  hang["hang"] = true;
  fake_.script("*", json::array({ask, hang}));
  emulator_.send(507, "answer me across a restart");
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 2; }, 20s)) << daemon_->stderr_text();
  daemon_->signal(SIGUSR1);
  ASSERT_EQ(daemon_->wait(15s), 75) << daemon_->stderr_text();
  // Only the progress line was shown: no "send it again".
  const auto early = emulator_.bot_history(507);
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].second, "🔧 echo kept\n") << "told to resend instead of resumed";

  fake_.reset();
  json answer = json::object();
  answer["content"] = "here it is, after the restart";
  fake_.script("*", json::array({answer}));
  daemon_ = home_.start(home_.env());
  // The next process finishes the turn into the message already shown.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto history = emulator_.bot_history(507);
        return history.size() == 1 && history[0].second == "here it is, after the restart";
      },
      30s))
      << daemon_->stderr_text();
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u) << "a finished round's provider call was repeated";
  const auto& sent = calls[0]["messages"];
  ASSERT_GE(sent.size(), 3u) << sent.dump();
  EXPECT_EQ(sent[sent.size() - 1]["role"], "tool");
  EXPECT_EQ(sent[sent.size() - 1]["content"], "Echo: kept");
  EXPECT_EQ(sent[sent.size() - 3]["content"], "answer me across a restart");
}

// A gateway whose Telegram is the fake provider's minimal Bot API (it can fail on demand,
// which the emulator cannot).
void write_fake_bot_config(const GatewayHome& home, const FakeProvider& fake,
                           const std::string& token) {
  home.dir.write("config.yaml",
                 "model: {provider: p, default: m}\nproviders: {p: {base_url: '" + fake.base_url() +
                     "'}}\ngateway:\n  api_server: {host: 127.0.0.1, port: " +
                     std::to_string(home.port) + "}\n  telegram: {enabled: true, api_base: '" +
                     "http://127.0.0.1:" + std::to_string(fake.port()) + "', bot_token: '" + token +
                     "', allow_all_users: true}\n");
}

TEST(TelegramDelivery, AReplyThatFailsEveryAttemptIsKeptAndSentWhenTelegramAnswersAgain) {
  FakeProvider fake;
  GatewayHome home;
  write_fake_bot_config(home, fake, "333333:keptkeptkeptkeptkeptkeptkeptkeptkept");
  const json update = {{"update_id", 1},
                       {"message",
                        {{"message_id", 5},
                         {"text", "are you there?"},
                         {"chat", {{"id", 600}, {"type", "private"}}},
                         {"from", {{"id", 600}}}}}};
  auto bot = [&](const json& control) {
    ASSERT_EQ(http_request(fake.port(), "POST", "/__bot", control.dump()).status, 200);
  };
  bot({{"updates", json::array({update})}, {"failing", json::array({"sendMessage"})}});
  auto options = home.env();
  options.env["HERMES_TEST_HOOKS"] = "1";
  options.env["HERMES_TEST_DELIVERY_BACKOFF_MS"] = "5";
  auto daemon = home.start(options);
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  ASSERT_TRUE(wait_until(
      [&] { return read_metric(home.port, "hermes_telegram_replies_abandoned") == 1.0; }, 10s))
      << daemon->stderr_text();
  auto sends = [&](bool ok) {
    int n = 0;
    for (const auto& call : fake.calls()) {
      if (call["key"] == "telegram:sendMessage" && call.contains("failed") != ok) ++n;
    }
    return n;
  };
  EXPECT_EQ(sends(false), 8) << "every attempt was made";
  EXPECT_THAT(daemon->stderr_text(), HasSubstr("kept as abandoned"));
  // Telegram goes away, then comes back: the kept reply goes out then, once.
  bot({{"failing", json::array({"getUpdates", "sendMessage"})}});
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& call : fake.calls()) {
          if (call["key"] == "telegram:getUpdates" && call.contains("failed")) return true;
        }
        return false;
      },
      10s));
  bot({{"failing", json::array()}});
  ASSERT_TRUE(wait_until([&] { return sends(true) == 1; }, 15s)) << daemon->stderr_text();
  for (const auto& call : fake.calls()) {
    if (call["key"] == "telegram:sendMessage" && !call.contains("failed")) {
      EXPECT_EQ(call["body"]["text"], "echo: are you there?");
    }
  }
  EXPECT_TRUE(wait_until(
      [&] { return read_metric(home.port, "hermes_telegram_replies_abandoned") == 0.0; }, 5s));
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(15s), 0);
}

TEST(TelegramDelivery, A429OnAnEditIsWaitedOutAndTheFinalTextStillArrives) {
  FakeProvider fake;
  GatewayHome home;
  write_fake_bot_config(home, fake, "444444:slowslowslowslowslowslowslowslowslow");
  json tokens = json::array();
  std::string answer;
  for (int i = 0; i < 30; ++i) {
    const std::string word = (i ? " w" : "w") + std::to_string(i);
    tokens.push_back(word);
    answer += word;
  }
  fake.script("*", json::array({{{"stream", tokens}, {"delta_delay_ms", 100}}}));
  const json update = {{"update_id", 1},
                       {"message",
                        {{"message_id", 5},
                         {"text", "stream to me"},
                         {"chat", {{"id", 601}, {"type", "private"}}},
                         {"from", {{"id", 601}}}}}};
  const json control = {
      {"updates", json::array({update})},
      {"limit", {{"method", "editMessageText"}, {"retry_after", 2}, {"times", 1}}}};
  ASSERT_EQ(http_request(fake.port(), "POST", "/__bot", control.dump()).status, 200);
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  auto edits = [&] {
    std::vector<json> out;
    for (const auto& call : fake.calls()) {
      if (call["key"] == "telegram:editMessageText") out.push_back(call);
    }
    return out;
  };
  ASSERT_TRUE(wait_until(
      [&] {
        const auto all = edits();
        return !all.empty() && !all.back().contains("limited") &&
               all.back()["body"]["text"] == answer;
      },
      20s))
      << daemon->stderr_text();
  const auto all = edits();
  long long limited_at = 0;
  for (const auto& e : all) {
    if (e.contains("limited")) limited_at = e["at"].get<long long>();
  }
  ASSERT_NE(limited_at, 0) << "the 429 came";
  for (const auto& e : all) {
    const long long at = e["at"].get<long long>();
    if (at > limited_at) {
      EXPECT_GE(at - limited_at, 1900) << "an edit inside the retry_after";
    }
  }
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(15s), 0);
}

}  // namespace
}  // namespace hermes::testing
