// The Discord platform end to end: the real daemon, the strict fake Discord
// (tests/node/discord_fake.mjs, proven against @discordjs/ws) and the fake provider.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>
#include <set>

#include "chat_platform_fixture.hpp"
#include "daemon_fixture.hpp"
#include "discord_fake.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kDm = "1200000000000000001";
constexpr const char* kGuild = "1000000000000000001";
constexpr const char* kGeneral = "1200000000000000002";
constexpr const char* kThread = "1700000000000000001";

// The chat keys of Discord's sessions, read straight from state.db.
std::vector<std::string> discord_chat_keys(const std::filesystem::path& db_file) {
  std::vector<std::string> keys;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* query = nullptr;
    sqlite3_prepare_v2(db, "SELECT chat_key FROM sessions WHERE platform = 'discord'", -1, &query,
                       nullptr);
    while (sqlite3_step(query) == SQLITE_ROW) {
      keys.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(query, 0)));
    }
    sqlite3_finalize(query);
  }
  sqlite3_close(db);
  return keys;
}

class DiscordChat : public ChatPlatformTest {
 protected:
  // `extra`: more of the discord mapping (", k: v"); `top`: more top-level YAML.
  void start(const std::string& extra = "", const std::string& top = "") {
    write_config("  discord: {enabled: true, api_base: '" + discord_.api_base() +
                     "', bot_token: '" + FakeDiscord::kToken + "', allowed_users: ['" +
                     FakeDiscord::kUser + "']" + (streaming_ ? "" : ", streaming: false") + extra +
                     "}\n",
                 top);
    restart_daemon();
  }
  void connected() { ASSERT_TRUE(discord_.wait_connected(10s)) << daemon_->stderr_text(); }
  // The bot's messages in `channel` once there are `count` whose text passes `done`.
  std::vector<json> replies(const std::string& channel, std::size_t count,
                            std::chrono::milliseconds timeout = 10s) {
    std::vector<json> out;
    wait_until(
        [&] {
          out = discord_.bot_messages(channel);
          return out.size() >= count;
        },
        timeout);
    return out;
  }
  json platform_status() { return ChatPlatformTest::platform_status("discord"); }

  void TearDown() override {
    const auto state = discord_.state();
    EXPECT_EQ(state["refused"], json::array()) << "the fake Discord refused what the gateway sent";
    check_log_and_stop("discord-token-for-tests");
  }

  FakeDiscord discord_;
  bool streaming_ = false;
};

TEST_F(DiscordChat, ADmIsAnsweredWithStreamedEditsOfOneMessage) {
  streaming_ = true;
  start();
  connected();
  const std::string answer = words(40);  // 40 words over 4 s
  fake_.script("*", json::array({{{"stream", tokens_of(answer)}, {"delta_delay_ms", 100}}}));
  const auto sent = std::chrono::steady_clock::now();
  const auto asked = discord_.say(kDm, "tell me forty words");
  std::set<std::string> seen;
  std::optional<double> first_visible, final_at;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto messages = discord_.bot_messages(kDm);
        if (messages.empty()) return false;
        const double t =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
        if (!first_visible) first_visible = t;
        seen.insert(messages.back()["content"].get<std::string>());
        if (messages.size() == 1 && messages[0]["content"] == answer) {
          final_at = t;
          return true;
        }
        return false;
      },
      15s))
      << daemon_->stderr_text();
  const auto messages = discord_.bot_messages(kDm);
  ASSERT_EQ(messages.size(), 1u) << "one message, edited";
  EXPECT_EQ(messages[0]["message_reference"]["message_id"], asked) << "a reply to the message";
  const auto edits = messages[0]["edits"].size();
  EXPECT_GE(seen.size(), 3u) << "text appeared in steps";
  EXPECT_LT(*first_visible, 2.0);
  for (const auto& text : seen) EXPECT_TRUE(answer.starts_with(text)) << text;
  // At most one edit a second.
  const auto& list = messages[0]["edits"];
  for (std::size_t i = 1; i < list.size(); ++i) {
    EXPECT_GE(list[i]["at"].get<double>() - list[i - 1]["at"].get<double>(), 900) << i;
  }
  RecordProperty("first_visible_s", std::to_string(*first_visible));
  RecordProperty("final_s", std::to_string(*final_at));
  RecordProperty("edits", std::to_string(edits));
  EXPECT_EQ(discord_.state()["commands"].size(), 5u) << "slash commands registered";
}

TEST_F(DiscordChat, InAGuildOnlyMentionsAreAnsweredAndAThreadKeepsItsReplies) {
  start();
  connected();
  discord_.say(kGeneral, "just chatting", {{"guild_id", kGuild}});
  discord_.say(kGeneral, "<@1400000000000000001> lunch?",
               {{"guild_id", kGuild}, {"mentions", json::array({"1400000000000000001"})}});
  discord_.control("thread", {{"id", kThread}, {"parent_id", kGeneral}, {"guild_id", kGuild}});
  discord_.say(kThread, std::string("<@") + FakeDiscord::kBotId + "> in the thread",
               {{"guild_id", kGuild}, {"mentions", json::array({FakeDiscord::kBotId})}});
  const auto in_thread = replies(kThread, 1);
  ASSERT_EQ(in_thread.size(), 1u) << daemon_->stderr_text() << discord_.state().dump();
  EXPECT_EQ(in_thread[0]["content"], "echo: in the thread");  // the mention taken out
  EXPECT_EQ(discord_.bot_messages(kGeneral).size(), 0u) << "unaddressed messages were answered";
  ASSERT_EQ(fake_.calls().size(), 1u);
  // A reply to the bot needs no mention; the thread is its own session.
  discord_.say(kThread, "and more?", {{"guild_id", kGuild}, {"reply_to", in_thread[0]["id"]}});
  ASSERT_EQ(replies(kThread, 2).size(), 2u);
  EXPECT_THAT(discord_chat_keys(home_.dir.path() / "state.db"),
              ::testing::ElementsAre(std::string("discord:thread:") + kGeneral + ":" + kThread +
                                     ":" + FakeDiscord::kUser));
}

TEST_F(DiscordChat, DroppedConnectionsAreResumedAndMissedMessagesAnsweredOnce) {
  start();
  connected();
  int drops = 3;
  if (const char* n = std::getenv("HERMES_DISCORD_DROPS")) drops = std::atoi(n);
  std::vector<std::string> asked;
  for (int i = 0; i < drops; ++i) {
    discord_.control("drop");
    asked.push_back(discord_.say(kDm, "while away " + std::to_string(i)));
    ASSERT_TRUE(discord_.wait_connected(15s)) << daemon_->stderr_text();
  }
  const auto answered = replies(kDm, asked.size(), 20s);
  std::multiset<std::string> texts;
  for (const auto& m : answered) texts.insert(m["content"].get<std::string>());
  for (int i = 0; i < drops; ++i) {
    EXPECT_EQ(texts.count("echo: while away " + std::to_string(i)), 1u) << i;
  }
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(drops)) << "answered twice";
  const auto state = discord_.state();
  EXPECT_EQ(state["identifies"], 1) << "every drop was resumed, not identified afresh";
  EXPECT_EQ(state["resumes"], drops);
  RecordProperty("drops", std::to_string(drops));
  RecordProperty("answered", std::to_string(answered.size()));
  // A connection whose heartbeats go unanswered is dropped and resumed by the gateway.
  discord_.control("config", {{"ackHeartbeats", false}});
  ASSERT_TRUE(wait_until([&] { return discord_.state()["resumes"] == drops + 1; }, 10s))
      << daemon_->stderr_text();
  discord_.control("config", {{"ackHeartbeats", true}});
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("no heartbeat ACK"));
}

TEST_F(DiscordChat, MessagesSentWhileTheGatewayRestartsAreAnsweredOnce) {
  start();
  connected();
  int restarts = 1;
  if (const char* n = std::getenv("HERMES_DISCORD_RESTARTS")) restarts = std::atoi(n);
  for (int i = 0; i < restarts; ++i) {
    stop();
    discord_.say(kDm, "are you back " + std::to_string(i) + "?");
    restart_daemon();
    connected();
    ASSERT_EQ(replies(kDm, static_cast<std::size_t>(i + 1)).size(), static_cast<std::size_t>(i + 1))
        << daemon_->stderr_text();
  }
  // One more restart after answering: nothing is answered again.
  stop();
  restart_daemon();
  connected();
  discord_.say(kDm, "last");
  const auto answered = replies(kDm, static_cast<std::size_t>(restarts + 1));
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(restarts + 1)) << "answered twice";
  EXPECT_EQ(answered.back()["content"], "echo: last");
  const auto state = discord_.state();
  EXPECT_EQ(state["identifies"], 1) << "each new process resumed the stored session";
  EXPECT_EQ(state["resumes"], restarts + 1);
  for (const auto& close : state["closes"]) {
    EXPECT_NE(close["code"], 1000) << "a stop ended the Discord session";
    EXPECT_NE(close["code"], 1001) << "a stop ended the Discord session";
  }
  RecordProperty("restarts", std::to_string(restarts));
}

TEST_F(DiscordChat, DisallowedIntentsAreReportedWithoutAReconnectLoop) {
  discord_.control("config", {{"rejectIntents", true}});
  start();
  ASSERT_TRUE(wait_until([&] { return platform_status()["state"] == "error"; }, 10s))
      << daemon_->stderr_text();
  EXPECT_THAT(platform_status()["detail"].get<std::string>(),
              HasSubstr("enable \"Message Content Intent\""));
  // No second try: one connection, however long we look.
  EXPECT_FALSE(wait_until([&] { return discord_.state()["connections"] > 1; }, 3s));
  const auto health = http_request(home_.port, "GET", "/health");
  EXPECT_THAT(health.body, HasSubstr("discord"));
}

TEST_F(DiscordChat, A429OnAnEditIsWaitedOut) {
  streaming_ = true;
  start();
  connected();
  const std::string answer = words(30);
  fake_.script("*", json::array({{{"stream", tokens_of(answer)}, {"delta_delay_ms", 100}}}));
  discord_.control(
      "config",
      {{"forced429",
        json::array({{{"method", "PATCH"}, {"pathPrefix", "/channels/"}, {"retry_after", 0.8}}})}});
  discord_.say(kDm, "thirty words please");
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = discord_.bot_messages(kDm);
        return m.size() == 1 && m[0]["content"] == answer;
      },
      15s))
      << daemon_->stderr_text();
  const auto state = discord_.state();
  EXPECT_EQ(state["limited"], 1);
  // The edit after the 429 waited its retry_after.
  double limited_at = 0;
  for (const auto& r : state["requests"]) {
    if (r["method"] == "PATCH") {
      if (limited_at == 0) {
        limited_at = r["at"];
      } else {
        EXPECT_GE(r["at"].get<double>() - limited_at, 790);
        break;
      }
    }
  }
  EXPECT_GT(limited_at, 0);
}

TEST_F(DiscordChat, SlashCommandsAreCheckedAgainstAllowedUsersAndAnswered) {
  start();
  connected();
  // A stranger: refused at once, only to them.
  const auto refused = discord_.control("interaction", {{"type", 2},
                                                        {"name", "status"},
                                                        {"channel_id", kGeneral},
                                                        {"guild_id", kGuild},
                                                        {"user_id", FakeDiscord::kStranger}});
  ASSERT_TRUE(wait_until([&] { return discord_.state()["callbacks"].size() == 1; }, 5s));
  auto callback = discord_.state()["callbacks"][0];
  EXPECT_EQ(callback["id"], refused["id"]);
  EXPECT_EQ(callback["type"], 4);
  EXPECT_EQ(callback["data"]["flags"], 64);
  EXPECT_THAT(callback["data"]["content"].get<std::string>(), HasSubstr("not allowed"));
  // An allowed user: "thinking…" at once, then the answer fills it in.
  const auto asked = discord_.control("interaction", {{"type", 2},
                                                      {"name", "help"},
                                                      {"channel_id", kGeneral},
                                                      {"guild_id", kGuild},
                                                      {"user_id", FakeDiscord::kUser}});
  ASSERT_TRUE(wait_until([&] { return discord_.state()["originals"].size() == 1; }, 5s))
      << daemon_->stderr_text();
  const auto state = discord_.state();
  EXPECT_EQ(state["callbacks"][1]["type"], 5);
  EXPECT_EQ(state["originals"][0]["id"], asked["id"]);
  EXPECT_THAT(state["originals"][0]["content"].get<std::string>(), HasSubstr("/new"));
  EXPECT_EQ(fake_.calls().size(), 0u) << "a command never reaches the model";
}

TEST_F(DiscordChat, OnlyAnAllowedUsersPressApprovesATool) {
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}};
  start("", "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) +
                "\n    args: ['" + kEverythingServer +
                "']\n    tools: {require_approval: [echo]}\n");
  connected();
  fake_.script("*", echo_call_then("ran it"));
  discord_.say(kDm, "use the echo tool");
  const auto asked = replies(kDm, 1);
  ASSERT_EQ(asked.size(), 1u) << daemon_->stderr_text();
  EXPECT_THAT(asked[0]["content"].get<std::string>(), HasSubstr("May I run echo?"));
  const auto& buttons = asked[0]["components"][0]["components"];
  ASSERT_EQ(buttons.size(), 2u);
  const std::string approve = buttons[0]["custom_id"];
  // A stranger's press is answered, only to them, and counts for nothing.
  discord_.control("interaction", {{"type", 3},
                                   {"custom_id", approve},
                                   {"channel_id", kDm},
                                   {"user_id", FakeDiscord::kStranger},
                                   {"message_id", asked[0]["id"]}});
  ASSERT_TRUE(wait_until([&] { return discord_.state()["callbacks"].size() == 1; }, 5s));
  EXPECT_THAT(discord_.state()["callbacks"][0]["data"]["content"].get<std::string>(),
              HasSubstr("Only an allowed user"));
  EXPECT_EQ(fake_.calls().size(), 1u) << "the tool ran on a stranger's press";
  discord_.control("interaction", {{"type", 3},
                                   {"custom_id", approve},
                                   {"channel_id", kDm},
                                   {"user_id", FakeDiscord::kUser},
                                   {"message_id", asked[0]["id"]}});
  ASSERT_TRUE(wait_until(
      [&] {
        const auto m = discord_.bot_messages(kDm);
        return m.size() == 2 && m[1]["content"] == "ran it";
      },
      10s))
      << daemon_->stderr_text();
  const auto question = discord_.bot_messages(kDm)[0];
  EXPECT_THAT(question["content"].get<std::string>(), HasSubstr("Approved"));
  EXPECT_EQ(question["components"], json::array()) << "the answered question keeps no buttons";
  EXPECT_EQ(fake_.calls().back()["messages"].back()["content"], "Echo: plan");
}

TEST_F(DiscordChat, ASessionDiscordWillNotResumeIsIdentifiedAfreshAndOp7IsResumed) {
  start();
  connected();
  // op 7 RECONNECT: a resume, at once.
  discord_.control("reconnect");
  ASSERT_TRUE(wait_until([&] { return discord_.state()["resumes"] == 1; }, 10s))
      << daemon_->stderr_text();
  // Discord forgets the session: the RESUME gets op 9 (not resumable), and after 1-5 s the
  // gateway identifies afresh, saying how long it was away.
  discord_.control("invalidate");
  ASSERT_TRUE(wait_until([&] { return discord_.state()["identifies"] == 2; }, 15s))
      << daemon_->stderr_text();
  ASSERT_TRUE(discord_.wait_connected(5s));
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("the session cannot be resumed"));
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("identifying afresh (away"));
  discord_.say(kDm, "still there?");
  const auto answered = replies(kDm, 1);
  ASSERT_EQ(answered.size(), 1u);
  EXPECT_EQ(answered[0]["content"], "echo: still there?");
}

TEST_F(DiscordChat, ALongAnswerIsSplitAtAWordBeforeTwoThousandCharactersAndFilesGetTheNote) {
  start();
  connected();
  const std::string answer = words(600);  // about 2,900 characters
  json reply = json::object();
  reply["content"] = answer;
  fake_.script("*", json::array({reply}));
  discord_.say(kDm, "a long one please");
  const auto parts = replies(kDm, 2);
  ASSERT_EQ(parts.size(), 2u) << daemon_->stderr_text();
  std::string joined;
  for (const auto& part : parts) {
    const std::string text = part["content"];
    EXPECT_LE(text.size(), 2000u);
    EXPECT_FALSE(text.ends_with(" w")) << "cut inside a word";
    joined += (joined.empty() ? "" : " ") + text;
  }
  EXPECT_EQ(joined, answer);
  discord_.say(kDm, "", {{"attachments", json::array({{{"id", "1"}, {"filename", "cat.png"}}})}});
  const auto noted = replies(kDm, 3);
  ASSERT_EQ(noted.size(), 3u);
  EXPECT_THAT(noted[2]["content"].get<std::string>(), HasSubstr("I read text only"));
  EXPECT_EQ(fake_.calls().size(), 1u) << "a file reached the model";
}

// Discord and Telegram from one daemon: each answers its own, and the RSS of both running.
// The fake is only as good as this: the official client (@discordjs/ws 2.0.4 and
// @discordjs/rest) identifies, heartbeats, receives and resumes against it, and raw
// connections and requests get Discord's refusals (tests/node/discord_fake.test.mjs).
TEST(FakeDiscordProof, TheOfficialClientSpeaksToTheFake) {
  ASSERT_TRUE(
      std::filesystem::exists(std::string(HERMES_NODE_TESTS) + "/node_modules/@discordjs/ws"))
      << "run scripts/setup.sh (it installs the npm test peers)";
  const auto r = run_process(
      HERMES_NODE,
      {"--test", "--test-reporter=spec", std::string(HERMES_NODE_TESTS) + "/discord_fake.test.mjs"},
      {});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out + r.err, HasSubstr("pass 4"));
}

}  // namespace
}  // namespace hermes::testing
