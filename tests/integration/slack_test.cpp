// The Slack platform end to end: the real daemon, the strict fake Slack
// (tests/node/slack_fake.mjs, proven against @slack/socket-mode and @slack/web-api) and the
// fake provider.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "chat_platform_fixture.hpp"
#include "daemon_fixture.hpp"
#include "discord_fake.hpp"
#include "fake_provider.hpp"
#include "slack_fake.hpp"
#include "telegram_emulator.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kDm = "D0000DM01";
constexpr const char* kGeneral = "C0000GEN1";

class SlackChat : public ChatPlatformTest {
 protected:
  // `extra`: more of the slack mapping (", k: v"); `top`: more top-level YAML.
  void start(const std::string& extra = "", const std::string& top = "") {
    write_config("  slack: {enabled: true, api_base: '" + slack_.api_base() + "', bot_token: '" +
                     FakeSlack::kBotToken + "', app_token: '" + FakeSlack::kAppToken +
                     "', allowed_users: ['" + FakeSlack::kUser + "']" +
                     (streaming_ ? "" : ", streaming: false") + extra + "}\n",
                 top);
    restart_daemon();
  }
  void connected() { ASSERT_TRUE(slack_.wait_connected(10s)) << daemon_->stderr_text(); }
  // The bot's messages in `channel` once there are `count`.
  std::vector<json> replies(const std::string& channel, std::size_t count,
                            std::chrono::milliseconds timeout = 10s) {
    std::vector<json> out;
    wait_until(
        [&] {
          out = slack_.bot_messages(channel);
          return out.size() >= count;
        },
        timeout);
    return out;
  }
  json platform_status() { return ChatPlatformTest::platform_status("slack"); }

  void TearDown() override {
    const auto state = slack_.state();
    EXPECT_EQ(state["refused"], json::array()) << "the fake Slack refused what the gateway sent";
    check_log_and_stop("faketokenfortestsonly");
  }

  FakeSlack slack_{1000};  // envelopes not acknowledged within 1 s are sent again
  bool streaming_ = false;
};

TEST_F(SlackChat, ADmIsAnsweredWithStreamedUpdatesOfOneMessage) {
  streaming_ = true;
  start();
  connected();
  const std::string answer = words(40);  // 40 words over 4 s
  fake_.script("*", json::array({{{"stream", tokens_of(answer)}, {"delta_delay_ms", 100}}}));
  const auto sent = std::chrono::steady_clock::now();
  slack_.say(kDm, "tell me forty words");
  std::set<std::string> seen;
  std::optional<double> first_visible, final_at;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto messages = slack_.bot_messages(kDm);
        if (messages.empty()) return false;
        const double t =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        if (!first_visible) first_visible = t;
        seen.insert(messages.back()["text"].get<std::string>());
        if (messages.size() == 1 && messages[0]["text"] == answer) {
          final_at = t;
          return true;
        }
        return false;
      },
      15s))
      << daemon_->stderr_text();
  const auto messages = slack_.bot_messages(kDm);
  ASSERT_EQ(messages.size(), 1u) << "one message, updated";
  EXPECT_TRUE(messages[0]["thread_ts"].is_null()) << "a DM is answered in the DM, not a thread";
  EXPECT_GE(seen.size(), 3u) << "text appeared in steps";
  EXPECT_LT(*first_visible, 2.0);
  for (const auto& text : seen) EXPECT_TRUE(answer.starts_with(text)) << text;
  // chat.update at most about once a second (the answer took 4 s).
  const auto updates = messages[0]["edits"].get<int>();
  EXPECT_GE(updates, 2);
  EXPECT_LE(updates, 6);
  // Every envelope (the DM, the bot's own post and updates coming back) is acknowledged.
  EXPECT_TRUE(wait_until([&] { return slack_.state()["pending"] == 0; }, 5s));
  EXPECT_EQ(slack_.state()["gaveUp"], json::array());
  RecordProperty("first_visible_s", std::to_string(*first_visible));
  RecordProperty("final_s", std::to_string(*final_at));
  RecordProperty("updates", std::to_string(updates));
}

TEST_F(SlackChat, InAChannelOnlyMentionsAreAnsweredInTheirThreadOnceAndEscaped) {
  start();
  connected();
  slack_.control("config", {{"channels", json::array({kGeneral})}});
  // Not for the bot: acknowledged, not answered.
  slack_.say(kGeneral, "just chatting");
  // A mention arrives as app_mention and as message (same ts): one reply, in its thread.
  const auto mention =
      slack_.control("mention", {{"channel", kGeneral},
                                 {"text", "<@UBOT0001> say <!channel> &amp; <@U0OTHER>"},
                                 {"user", FakeSlack::kUser},
                                 {"also_message", true}});
  const std::string ts = mention["ts"];
  auto answered = replies(kGeneral, 1);
  ASSERT_EQ(answered.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(answered[0]["thread_ts"], ts) << "answered in the mention's thread";
  // Model text cannot ping: <, > and & are escaped.
  EXPECT_EQ(answered[0]["text"], "echo: say &lt;!channel&gt; &amp; &lt;@U0OTHER&gt;");
  // A mention in that thread is answered there, in the same session.
  slack_.control("mention", {{"channel", kGeneral},
                             {"text", "<@UBOT0001> again"},
                             {"user", FakeSlack::kUser},
                             {"thread_ts", ts}});
  answered = replies(kGeneral, 2);
  ASSERT_EQ(answered.size(), 2u) << daemon_->stderr_text();
  EXPECT_EQ(answered[1]["thread_ts"], ts);
  EXPECT_EQ(answered[1]["text"], "echo: again");
  EXPECT_EQ(fake_.calls().size(), 2u) << "the plain message or a repeat reached the model";
  EXPECT_EQ(fake_.calls().back()["messages"].size(), 4u) << "the thread is one session";
  EXPECT_TRUE(wait_until([&] { return slack_.state()["pending"] == 0; }, 5s))
      << "every envelope acknowledged";
}

TEST_F(SlackChat, AnEventRecordedButNotAcknowledgedIsAnsweredOnceAfterTheCrash) {
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}, {"HERMES_TEST_SLACK_KILL_BEFORE_ACK", "1"}};
  start();
  connected();
  const auto asked = slack_.control("message", {{"channel", kDm}, {"text", "do not lose me"}});
  // Killed after recording the event and before acknowledging it.
  ASSERT_TRUE(wait_until([&] { return !daemon_->running(); }, 10s)) << daemon_->stderr_text();
  EXPECT_EQ(slack_.state()["acks"], json::array());
  hooks_.clear();
  restart_daemon();
  connected();
  // Slack sends the envelope again (retry_attempt 1); the inbox has it already: one answer.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto state = slack_.state();
        for (const auto& e : state["envelopes"]) {
          if (e["event_id"] == asked["event_id"] && e["retry_attempt"].get<int>() >= 1) {
            return state["pending"] == 0;
          }
        }
        return false;
      },
      15s))
      << daemon_->stderr_text();
  const auto answered = replies(kDm, 1);
  ASSERT_EQ(answered.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(answered[0]["text"], "echo: do not lose me");
  slack_.say(kDm, "and then");
  const auto later = replies(kDm, 2);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[1]["text"], "echo: and then") << "the repeat was answered twice";
  EXPECT_EQ(fake_.calls().size(), 2u);
}

TEST_F(SlackChat, RefreshDisconnectsAndRestartsLoseNothingAndAnswerNothingTwice) {
  streaming_ = true;
  start();
  connected();
  int refreshes = 3;
  int restarts = 1;
  if (const char* n = std::getenv("HERMES_SLACK_REFRESHES")) refreshes = std::atoi(n);
  if (const char* n = std::getenv("HERMES_SLACK_RESTARTS")) restarts = std::atoi(n);
  // The first refresh comes while an answer streams.
  fake_.script("*", json::array({{{"stream", tokens_of(words(20))}, {"delta_delay_ms", 100}}}));
  std::vector<std::string> asked;
  asked.push_back("streamed");
  slack_.say(kDm, "streamed");
  ASSERT_TRUE(wait_until([&] { return slack_.bot_messages(kDm).size() == 1; }, 10s));
  for (int i = 0; i < refreshes; ++i) {
    const int connections = slack_.state()["connections"];
    const auto sent = slack_.control("disconnect", {{"reason", "refresh_requested"}});
    ASSERT_EQ(sent["sent"], true) << "no live connection to refresh";
    const std::string text = "after refresh " + std::to_string(i);
    slack_.say(kDm, text);
    asked.push_back(text);
    // The next connection is open (and has said hello) before the next refresh.
    ASSERT_TRUE(wait_until(
        [&] {
          const auto state = slack_.state();
          return state["connections"].get<int>() == connections + 1 && state["live"].get<int>() > 0;
        },
        10s))
        << daemon_->stderr_text();
  }
  for (int i = 0; i < restarts; ++i) {
    stop();
    const std::string text = "while restarting " + std::to_string(i);
    slack_.say(kDm, text);
    asked.push_back(text);
    restart_daemon();
    connected();
  }
  const auto answered = replies(kDm, asked.size(), 30s);
  std::multiset<std::string> texts;
  for (const auto& m : answered) texts.insert(m["text"].get<std::string>());
  for (std::size_t i = 1; i < asked.size(); ++i) {
    EXPECT_EQ(texts.count("echo: " + asked[i]), 1u) << asked[i];
  }
  EXPECT_EQ(texts.count(words(20)), 1u) << "the streamed answer was cut by the refresh";
  EXPECT_EQ(answered.size(), asked.size()) << "answered twice";
  const auto state = slack_.state();
  EXPECT_EQ(state["gaveUp"], json::array()) << "an envelope was never acknowledged";
  EXPECT_THAT(daemon_->stderr_text(), Not(HasSubstr("no hello")));
  RecordProperty("refreshes", std::to_string(refreshes));
  RecordProperty("restarts", std::to_string(restarts));
  RecordProperty("answered", std::to_string(answered.size()));
}

TEST_F(SlackChat, ARevokedAppTokenIsReportedWithoutAReconnectLoop) {
  start();
  connected();
  slack_.control("config", {{"revokeAppToken", true}});
  slack_.control("drop");
  ASSERT_TRUE(wait_until([&] { return platform_status()["state"] == "error"; }, 10s))
      << daemon_->stderr_text();
  const auto detail = platform_status()["detail"].get<std::string>();
  EXPECT_THAT(detail, HasSubstr("Slack refused the app-level token (invalid_auth)"));
  EXPECT_THAT(detail, HasSubstr("gateway.slack.app_token"));
  const int opens = slack_.state()["opens"];
  // A loop would ask again within its 1 s backoff.
  EXPECT_FALSE(wait_until([&] { return slack_.state()["opens"].get<int>() > opens; }, 2500ms));
  const auto health = http_request(home_.port, "GET", "/health");
  EXPECT_THAT(health.body, HasSubstr("slack"));
  EXPECT_THAT(health.body, HasSubstr("degraded"));
}

TEST_F(SlackChat, OnlyAnAllowedUsersPressApprovesATool) {
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}};
  start("", "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) +
                "\n    args: ['" + kEverythingServer +
                "']\n    tools: {require_approval: [echo]}\n");
  connected();
  fake_.script("*", echo_call_then("ran it"));
  slack_.say(kDm, "use the echo tool");
  const auto asked = replies(kDm, 1);
  ASSERT_EQ(asked.size(), 1u) << daemon_->stderr_text();
  const auto& blocks = asked[0]["blocks"];
  ASSERT_EQ(blocks.size(), 2u) << asked[0];
  EXPECT_THAT(blocks[0]["text"]["text"].get<std::string>(), HasSubstr("May I run echo?"));
  const auto& buttons = blocks[1]["elements"];
  ASSERT_EQ(buttons.size(), 2u);
  const json press = {{"channel", kDm},
                      {"message_ts", asked[0]["ts"]},
                      {"action_id", buttons[0]["action_id"]},
                      {"value", buttons[0]["value"]}};
  // A stranger's press is answered, only to them, and counts for nothing.
  json stranger = press;
  stranger["user"] = FakeSlack::kStranger;
  slack_.control("press", stranger);
  ASSERT_TRUE(wait_until([&] { return slack_.state()["responses"].size() == 1; }, 5s))
      << daemon_->stderr_text();
  const auto refusal = slack_.state()["responses"][0];
  EXPECT_THAT(refusal["text"].get<std::string>(), HasSubstr("Only an allowed user"));
  EXPECT_EQ(refusal["response_type"], "ephemeral");
  EXPECT_EQ(fake_.calls().size(), 1u) << "the tool ran on a stranger's press";
  json allowed = press;
  allowed["user"] = FakeSlack::kUser;
  slack_.control("press", allowed);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = slack_.bot_messages(kDm);
        return m.size() == 2 && m[1]["text"] == "ran it";
      },
      10s))
      << daemon_->stderr_text();
  const auto question = slack_.bot_messages(kDm)[0];
  EXPECT_THAT(question["text"].get<std::string>(), HasSubstr("Approved"));
  EXPECT_EQ(question["blocks"], json::array()) << "the answered question keeps no buttons";
  EXPECT_EQ(fake_.calls().back()["messages"].back()["content"], "Echo: plan");
}

TEST_F(SlackChat, SlashCommandsAreCheckedAgainstAllowedUsersAndA429IsWaitedOut) {
  start();
  connected();
  // A stranger: refused in the acknowledgement, shown only to them.
  slack_.control("slash",
                 {{"channel", kGeneral}, {"text", "status"}, {"user", FakeSlack::kStranger}});
  ASSERT_TRUE(wait_until([&] { return slack_.state()["responses"].size() == 1; }, 5s))
      << daemon_->stderr_text();
  const auto refusal = slack_.state()["responses"][0];
  EXPECT_THAT(refusal["id"].get<std::string>(), HasSubstr("ack:"));
  EXPECT_THAT(refusal["text"].get<std::string>(), HasSubstr("not allowed"));
  // An allowed user: the answer goes to the command's response_url.
  slack_.control("slash", {{"channel", kGeneral}, {"text", "help"}, {"user", FakeSlack::kUser}});
  ASSERT_TRUE(wait_until([&] { return slack_.state()["responses"].size() == 2; }, 5s))
      << daemon_->stderr_text();
  const auto help = slack_.state()["responses"][1];
  EXPECT_THAT(help["id"].get<std::string>(), Not(HasSubstr("ack:")));
  EXPECT_THAT(help["text"].get<std::string>(), HasSubstr("/new"));
  EXPECT_EQ(fake_.calls().size(), 0u) << "a command never reaches the model";
  // chat.postMessage answers 429: the reply waits its Retry-After and is posted.
  slack_.control("config", {{"forced429",
                             json::array({{{"method", "chat.postMessage"}, {"retry_after", 1}}})}});
  slack_.say(kDm, "after the limit");
  const auto answered = replies(kDm, 1);
  ASSERT_EQ(answered.size(), 1u) << daemon_->stderr_text();
  EXPECT_EQ(answered[0]["text"], "echo: after the limit");
  const auto state = slack_.state();
  EXPECT_EQ(state["limited"], 1);
  std::vector<double> posts;
  for (const auto& r : state["requests"]) {
    if (r["method"] == "chat.postMessage") posts.push_back(r["at"]);
  }
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_GE(posts[1] - posts[0], 990) << "the retry did not wait Retry-After";
}

TEST_F(SlackChat, OverTlsTheWebApiAndTheSocketAreVerifiedAndAnswer) {
  // Slack is https and wss: the fake serves both with a certificate for localhost, trusted
  // through SSL_CERT_FILE (standing in for the system CA store).
  TempDir certs;
  const auto cert = (certs.path() / "cert.pem").string();
  const auto key = (certs.path() / "key.pem").string();
  const auto made = run_process(
      "/usr/bin/openssl",
      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
       "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  FakeSlack secure(1000, cert, key);
  ASSERT_THAT(secure.api_base(), ::testing::StartsWith("https://localhost:"));
  write_config("  slack: {enabled: true, streaming: false, api_base: '" + secure.api_base() +
                   "', bot_token: '" + FakeSlack::kBotToken + "', app_token: '" +
                   FakeSlack::kAppToken + "', allowed_users: ['" + FakeSlack::kUser + "']}\n",
               "");
  hooks_ = {{"SSL_CERT_FILE", cert}};
  restart_daemon();
  ASSERT_TRUE(secure.wait_connected(10s)) << daemon_->stderr_text();
  secure.say(kDm, "over tls");
  ASSERT_TRUE(wait_until([&] { return secure.bot_messages(kDm).size() == 1; }, 10s))
      << daemon_->stderr_text();
  EXPECT_EQ(secure.bot_messages(kDm)[0]["text"], "echo: over tls");
  // A refresh over wss: the next connection opens before the old one closes.
  secure.control("disconnect", {{"reason", "refresh_requested"}});
  ASSERT_TRUE(wait_until([&] { return secure.state()["opens"] == 2; }, 10s));
  secure.say(kDm, "still tls");
  ASSERT_TRUE(wait_until([&] { return secure.bot_messages(kDm).size() == 2; }, 10s))
      << daemon_->stderr_text();
  EXPECT_TRUE(wait_until([&] { return secure.state()["pending"] == 0; }, 5s));
  EXPECT_EQ(secure.state()["refused"], json::array());
}

TEST(SlackWithDiscordAndTelegram, OneDaemonAnswersAllThree) {
  FakeProvider fake;
  FakeSlack slack;
  FakeDiscord discord;
  TelegramEmulator telegram;
  GatewayHome home;
  home.dir.write("config.yaml",
                 "model: {provider: primary, default: demo-model}\n"
                 "providers: {primary: {base_url: '" +
                     fake.base_url() +
                     "'}}\n"
                     "gateway:\n"
                     "  api_server: {host: 127.0.0.1, port: " +
                     std::to_string(home.port) +
                     "}\n"
                     "  slack: {enabled: true, streaming: false, allow_all_users: true, "
                     "api_base: '" +
                     slack.api_base() + "', bot_token: '" + FakeSlack::kBotToken +
                     "', app_token: '" + FakeSlack::kAppToken +
                     "'}\n"
                     "  discord: {enabled: true, streaming: false, allow_all_users: true, "
                     "api_base: '" +
                     discord.api_base() + "', bot_token: '" + FakeDiscord::kToken +
                     "'}\n"
                     "  telegram: {enabled: true, streaming: false, allow_all_users: true, "
                     "api_base: '" +
                     telegram.api_base() + "', bot_token: '" + TelegramEmulator::kToken + "'}\n");
  auto daemon = home.start(home.env());
  ASSERT_TRUE(wait_until([&] { return home.healthy(); }, 10s)) << daemon->stderr_text();
  ASSERT_TRUE(slack.wait_connected(10s)) << daemon->stderr_text();
  ASSERT_TRUE(discord.wait_connected(10s)) << daemon->stderr_text();
  slack.say(kDm, "hello from slack");
  discord.say("1200000000000000001", "hello from discord");
  telegram.send(601, "hello from telegram");
  ASSERT_TRUE(wait_until([&] { return slack.bot_messages(kDm).size() == 1; }, 10s));
  ASSERT_TRUE(
      wait_until([&] { return discord.bot_messages("1200000000000000001").size() == 1; }, 10s));
  ASSERT_TRUE(wait_until([&] { return telegram.bot_messages(601).size() == 1; }, 10s));
  EXPECT_EQ(slack.bot_messages(kDm)[0]["text"], "echo: hello from slack");
  const auto status = json::parse(home.runtime_status());
  std::map<std::string, std::string> states;
  for (const auto& p : status["platforms"]) states[p["name"]] = p["state"];
  EXPECT_EQ(states["slack"], "running");
  EXPECT_EQ(states["discord"], "running");
  EXPECT_EQ(states["telegram"], "running");
  const auto metrics = http_request(home.port, "GET", "/metrics").body;
  EXPECT_EQ(metric_value(metrics, "hermes_platform_up{platform=\"slack\"}"), 1.0);
  std::ifstream proc("/proc/" + std::to_string(daemon->pid()) + "/status");
  std::string line;
  while (std::getline(proc, line)) {
    if (line.starts_with("VmRSS:")) RecordProperty("rss", line.substr(6));
  }
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait(15s), 0) << daemon->stderr_text();
  EXPECT_EQ(slack.state()["refused"], json::array());
}

// The fake is only as good as this: the official clients (@slack/socket-mode 3.1.0 and
// @slack/web-api 8.2.0) connect, acknowledge, reconnect on a disconnect and call the Web API
// against it, and raw connections and requests get Slack's refusals
// (tests/node/slack_fake.test.mjs).
TEST(FakeSlackProof, TheOfficialClientsSpeakToTheFake) {
  ASSERT_TRUE(
      std::filesystem::exists(std::string(HERMES_NODE_TESTS) + "/node_modules/@slack/socket-mode"))
      << "run scripts/setup.sh (it installs the npm test peers)";
  const auto r = run_process(
      HERMES_NODE,
      {"--test", "--test-reporter=spec", std::string(HERMES_NODE_TESTS) + "/slack_fake.test.mjs"},
      {});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out + r.err, HasSubstr("pass 3"));
}

}  // namespace
}  // namespace hermes::testing
