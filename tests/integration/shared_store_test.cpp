// Several gateways on one PostgreSQL: the real daemons, a real server (the ctest fixture's, or
// one of the test's own where it restarts it), the fake provider and the Telegram emulator.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "daemon_fixture.hpp"
#include "discord_fake.hpp"
#include "fake_provider.hpp"
#include "slack_fake.hpp"
#include "support/test_postgres.hpp"
#include "telegram_emulator.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPolls = "telegram: this gateway polls the bot now";

// One gateway of several: its home, its process, and a chat call on its port.
struct Gateway {
  GatewayHome home;
  std::unique_ptr<ChildProcess> process;
  std::map<std::string, std::string> extra_env;  // test hooks

  // `url_in_env`: the URL comes from HERMES_DATABASE_URL, not from config.yaml.
  // `telegram`: YAML under gateway:; `extra`: more top-level YAML.
  void start(const std::string& provider_url, const std::string& database_url,
             bool url_in_env = false, const std::string& telegram = "",
             const std::string& extra = "") {
    home.dir.write("config.yaml",
                   "model: {provider: primary, default: demo-model}\n"
                   "providers: {primary: {base_url: '" +
                       provider_url +
                       "', api_keys: [sk-secret-k1]}}\n"
                       "agent: {api_max_retries: 1}\n"
                       "database: {backend: postgres" +
                       (url_in_env ? std::string() : ", url: '" + database_url + "'") +
                       "}\n"
                       "gateway:\n"
                       "  api_server: {host: 127.0.0.1, port: " +
                       std::to_string(home.port) + "}\n" + telegram + extra);
    auto options = home.env();
    if (url_in_env) options.env["HERMES_DATABASE_URL"] = database_url;
    for (const auto& [key, value] : extra_env) options.env[key] = value;
    process = home.start(options);
  }
  bool ready() { return home.healthy(); }
  HttpExchange chat(const std::string& text, const std::string& session = "") const {
    const json body = {{"model", "demo-model"},
                       {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
    std::map<std::string, std::string> headers;
    if (!session.empty()) headers["X-Hermes-Session-Id"] = session;
    return http_request(home.port, "POST", "/v1/chat/completions", body.dump(), headers);
  }
  std::string log() const { return process ? process->stderr_text() : ""; }
  void stop() {
    if (!process || !process->running()) return;
    process->signal(SIGTERM);
    EXPECT_EQ(process->wait(15s), 0) << log();
  }
};

std::string content_of(const HttpExchange& r) {
  const auto body = json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("choices")) return "";
  return body["choices"][0]["message"]["content"];
}

std::vector<std::string> sent_contents(const json& call) {
  std::vector<std::string> sent;
  for (const auto& m : call["messages"]) sent.push_back(m["content"]);
  return sent;
}

class SharedStore : public ::testing::Test {
 protected:
  void start_both() {
    a_.start(fake_.base_url(), database_.url());
    b_.start(fake_.base_url(), database_.url(), /*url_in_env=*/true);
    ASSERT_TRUE(wait_until([&] { return a_.ready() && b_.ready(); }, 15s)) << a_.log() << "\n---\n"
                                                                           << b_.log();
  }
  void TearDown() override {
    for (auto* g : {&a_, &b_}) {
      EXPECT_THAT(g->log(), Not(HasSubstr(database_.password()))) << "the password was logged";
      EXPECT_THAT(g->log(), Not(HasSubstr("sk-secret"))) << "a provider key was logged";
      g->stop();
    }
  }

  TestDatabase database_;
  FakeProvider fake_;
  Gateway a_;
  Gateway b_;
};

TEST_F(SharedStore, ASessionContinuedOnTheOtherGatewaySeesTheWholeHistory) {
  start_both();
  const auto first = a_.chat("first");
  ASSERT_EQ(first.status, 200) << first.body << a_.log();
  const std::string session = first.headers.at("x-hermes-session-id");
  const auto second = b_.chat("second", session);
  ASSERT_EQ(second.status, 200) << second.body << b_.log();
  const auto third = a_.chat("third", session);  // A never cached what B added
  ASSERT_EQ(third.status, 200) << third.body;
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_THAT(sent_contents(calls[1]),
              ElementsAre("You are a helpful assistant.", "first", "echo: first", "second"));
  EXPECT_THAT(sent_contents(calls[2]),
              ElementsAre("You are a helpful assistant.", "first", "echo: first", "second",
                          "echo: second", "third"));
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM messages WHERE session_id = '" + session + "'"),
            "6");
  // Usage of both gateways is in the one table.
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM usage"), "3");
}

TEST_F(SharedStore, TurnsOnOneSessionFromTwoGatewaysRunOneAfterTheOther) {
  start_both();
  const auto opened = a_.chat("open");
  ASSERT_EQ(opened.status, 200) << opened.body;
  const std::string session = opened.headers.at("x-hermes-session-id");
  // A's turn takes a while upstream; B's, on the same session, arrives meanwhile.
  fake_.script("*", json::array({{{"delay_ms", 1500}, {"content", "slow answer"}}}));
  HttpExchange on_a;
  std::thread slow([&] { on_a = a_.chat("from a", session); });
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 2; }, 10s));
  const auto on_b = b_.chat("from b", session);
  slow.join();
  ASSERT_EQ(on_a.status, 200) << on_a.body;
  ASSERT_EQ(on_b.status, 200) << on_b.body;
  EXPECT_EQ(content_of(on_a), "slow answer");
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 3u);
  // B waited for A's turn to be stored, then read it: one history, not two interleaved.
  EXPECT_THAT(sent_contents(calls[2]),
              ElementsAre("You are a helpful assistant.", "open", "echo: open", "from a",
                          "slow answer", "from b"));
  EXPECT_EQ(database_.scalar("SELECT string_agg(content, '|' ORDER BY id) FROM messages WHERE "
                             "session_id = '" +
                             session + "' AND role <> 'system'"),
            "open|echo: open|from a|slow answer|from b|echo: from b");
}

// Hardening (issue 24, item 12): a gateway whose lock connection drops mid-turn has lost the
// session's lock without knowing it; the other gateway takes it and answers on the session.
// Before, the first then stored its turn too, one history interleaved from two at once; now
// its commit checks the lock's fence (a generation counted at each taking) and stores nothing.
TEST_F(SharedStore, AGatewayThatLostTheSessionLockMidTurnStoresNothingOverTheOtherOnesTurn) {
  start_both();
  const auto opened = a_.chat("open");
  ASSERT_EQ(opened.status, 200) << opened.body;
  const std::string session = opened.headers.at("x-hermes-session-id");
  fake_.script("*", json::array({{{"delay_ms", 2500}, {"content", "slow answer"}}}));
  HttpExchange on_a;
  std::thread slow([&] { on_a = a_.chat("from a", session); });
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 2; }, 10s));
  // A's turn is upstream holding the session's lock: its lock connection is cut.
  EXPECT_EQ(database_.scalar("SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks "
                             "WHERE locktype = 'advisory' AND granted"),
            "1");
  const auto on_b = b_.chat("from b", session);
  slow.join();
  ASSERT_EQ(on_b.status, 200) << on_b.body << b_.log();
  EXPECT_EQ(on_a.status, 503) << on_a.body;
  EXPECT_THAT(on_a.body, HasSubstr("state_store_unavailable"));
  EXPECT_THAT(a_.log(), HasSubstr("lost its lock on the session"));
  EXPECT_EQ(database_.scalar("SELECT string_agg(content, '|' ORDER BY id) FROM messages WHERE "
                             "session_id = '" +
                             session + "' AND role <> 'system'"),
            "open|echo: open|from b|echo: from b");
  // A takes the lock again for the session's next turn, and sees B's.
  const auto next = a_.chat("again on a", session);
  ASSERT_EQ(next.status, 200) << next.body << a_.log();
  EXPECT_THAT(sent_contents(fake_.calls().back()),
              ElementsAre("You are a helpful assistant.", "open", "echo: open", "from b",
                          "echo: from b", "again on a"));
}

// Hardening (issue 24, item 12): two gateways starting together both listed a turn the last
// restart cut after its tool rounds, and both resumed it, one after the other (two answers).
// The mark is claimed under the session's lock now: the second finds it gone.
TEST_F(SharedStore, TwoGatewaysStartingTogetherResumeACutTurnOnce) {
  start_both();
  const auto opened = a_.chat("open");
  ASSERT_EQ(opened.status, 200) << opened.body;
  const std::string session = opened.headers.at("x-hermes-session-id");
  a_.stop();
  b_.stop();
  // What a drain leaves of a turn cut after a tool round: the round stored, the turn marked.
  database_.scalar(
      "INSERT INTO messages(session_id, role, content, created_at, tool_calls, tool_call_id) "
      "VALUES ('" +
      session + "', 'user', 'cut question', 1, NULL, NULL), ('" + session +
      "', 'assistant', '', 2, "
      "'[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"mcp_x_y\","
      "\"arguments\":\"{}\"}}]', NULL), ('" +
      session + "', 'tool', 'tool says 42', 3, NULL, 'c1') RETURNING 1");
  database_.scalar("INSERT INTO resumable_turns(session_id, platform, created_at) VALUES ('" +
                   session + "', 'api_server', 4) RETURNING 1");
  // The resume's answer takes a while: both gateways list the mark before it is cleared.
  fake_.script("*", json::array({{{"delay_ms", 1500}, {"content", "resumed answer"}}}));
  const auto before = fake_.calls().size();
  start_both();
  const auto logs = [&] { return a_.log() + b_.log(); };
  ASSERT_TRUE(
      wait_until([&] { return logs().find("resumed turn answered") != std::string::npos; }, 15s))
      << logs();
  // The other gateway says it found the turn resumed (or, had it started late, never saw it).
  wait_until(
      [&] {
        return logs().find("its cut turn was resumed by another gateway") != std::string::npos;
      },
      5s);
  EXPECT_EQ(fake_.calls().size(), before + 1) << "the cut turn was resumed more than once";
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM messages WHERE session_id = '" + session +
                             "' AND role = 'assistant' AND content <> ''"),
            "2")  // echo: open, resumed answer
      << logs();
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM resumable_turns"), "0");
}

TEST_F(SharedStore, ABudgetSpentOnOneGatewayIsUsedUpOnTheOtherToo) {
  // One turn of the fake costs far more than the budget.
  const std::string budget =
      "pricing: {demo-model: {input: 100.0, output: 100.0}}\n"
      "budgets: [{name: tiny, scope: gateway, limit_usd: 0.000001, period: day}]\n";
  a_.start(fake_.base_url(), database_.url(), false, "", budget);
  b_.start(fake_.base_url(), database_.url(), false, "", budget);
  ASSERT_TRUE(wait_until([&] { return a_.ready() && b_.ready(); }, 15s)) << b_.log();
  ASSERT_EQ(a_.chat("spend it").status, 200);
  // B learns A's spend from the database (read again every second), not from its own calls.
  EXPECT_TRUE(wait_until(
      [&] {
        const auto spent = read_metric(b_.home.port, "hermes_budget_spent_usd{budget=\"tiny\"}");
        return spent && *spent > 0.000001;
      },
      5s));
  const auto calls = fake_.calls().size();
  const auto refused = b_.chat("one more");
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("budget_exceeded"));
  EXPECT_EQ(fake_.calls().size(), calls) << "the other gateway still called the provider";
}

// Two gateways with Telegram on one bot token: one polls, the other stands by and takes over
// when the poller is killed; every message gets exactly one answer.
class SharedTelegram : public SharedStore {
 protected:
  std::string telegram_config() const {
    return "  telegram: {enabled: true, streaming: false, allow_all_users: true, api_base: '" +
           emulator_.api_base() + "', bot_token: '" + TelegramEmulator::kToken + "'}\n";
  }
  void start(Gateway& g) {
    g.start(fake_.base_url(), database_.url(), false, telegram_config());
    ASSERT_TRUE(wait_until([&] { return g.ready(); }, 15s)) << g.log();
  }
  static bool polls(const Gateway& g) { return g.log().find(kPolls) != std::string::npos; }
  // What the status socket says the Telegram platform is doing: running, standby, …
  static std::string telegram_state(const Gateway& g) {
    const auto view = json::parse(g.home.runtime_status(), nullptr, false);
    if (!view.is_object()) return "";
    for (const auto& p : view.value("platforms", json::array())) {
      if (p.value("name", "") == "telegram") return p.value("state", "");
    }
    return "";
  }
  // The one of `a` and `b` that polls, once one does.
  Gateway* poller(std::chrono::milliseconds timeout = 10s) {
    Gateway* found = nullptr;
    wait_until(
        [&] {
          if (polls(a_) && a_.process->running()) found = &a_;
          if (polls(b_) && b_.process->running()) found = &b_;
          return found != nullptr;
        },
        timeout);
    return found;
  }
  // Sends `texts` from one user, waits for as many replies and returns them in order.
  // `earlier`: replies still owed to messages sent before.
  std::vector<std::string> exchange(long long user, const std::vector<std::string>& texts,
                                    std::vector<std::string>& all, std::size_t earlier = 0) {
    for (const auto& t : texts) emulator_.send(user, t);
    wait_until(
        [&] {
          for (auto& m : emulator_.bot_messages(user)) all.push_back(m["message"]["text"]);
          return all.size() >= answered_ + earlier + texts.size();
        },
        20s);
    answered_ = all.size();
    return all;
  }

  TelegramEmulator emulator_;
  std::size_t answered_ = 0;
};

TEST_F(SharedTelegram, OnePollsAndEachMessageIsAnsweredOnceAcrossKillingEitherPoller) {
  start(a_);
  start(b_);
  Gateway* first = poller();
  ASSERT_NE(first, nullptr) << a_.log() << "\n---\n" << b_.log();
  Gateway* second = first == &a_ ? &b_ : &a_;
  EXPECT_FALSE(polls(*second)) << "both gateways poll";
  EXPECT_TRUE(wait_until([&] { return telegram_state(*first) == "running"; }, 5s));
  EXPECT_EQ(telegram_state(*second), "standby");
  std::vector<std::string> replies;
  exchange(701, {"one", "two"}, replies);

  // The poller dies in the middle of a turn: the other takes over and answers it, once.
  fake_.script("*", json::array({{{"delay_ms", 1000}}}));
  const auto calls_before = fake_.calls().size();
  emulator_.send(701, "three");
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() > calls_before; }, 10s));
  first->process->signal(SIGKILL);
  first->process->wait(5s);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return polls(*second); }, 5s)) << second->log();
  const auto took = std::chrono::steady_clock::now() - killed_at;
  EXPECT_LT(took, 5s);
  exchange(701, {"four"}, replies, /*earlier=*/1);
  EXPECT_EQ(replies.size(), 4u);

  // And the other way round: the first comes back (standing by), the second is killed.
  first->process.reset();
  start(*first);
  EXPECT_FALSE(polls(*first)) << "a restarted gateway polls beside the holder";
  EXPECT_EQ(telegram_state(*first), "standby");
  second->process->signal(SIGKILL);
  second->process->wait(5s);
  ASSERT_TRUE(wait_until([&] { return polls(*first); }, 5s)) << first->log();
  exchange(701, {"five"}, replies);
  ASSERT_EQ(replies.size(), 5u) << first->log();
  EXPECT_THAT(replies,
              ElementsAre("echo: one", "echo: two", "echo: three", "echo: four", "echo: five"));
  // Nothing more comes: a sixth message is the next one answered.
  exchange(701, {"six"}, replies);
  EXPECT_EQ(replies.back(), "echo: six");
  EXPECT_EQ(replies.size(), 6u);
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM inbound_messages WHERE done = 0"), "0");
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM pending_deliveries"), "0");
}

// Two gateways with Discord on one bot token: one holds the Gateway connection, the other
// stands by; when the holder is killed the other resumes the same Discord session from the
// shared store, so what was sent meanwhile is answered, once.
TEST_F(SharedStore, OneGatewayHoldsTheDiscordConnectionAndTheOtherResumesItsSession) {
  FakeDiscord discord;
  const std::string config =
      "  discord: {enabled: true, streaming: false, allow_all_users: true, "
      "api_base: '" +
      discord.api_base() + "', bot_token: '" + FakeDiscord::kToken + "'}\n";
  a_.start(fake_.base_url(), database_.url(), false, config);
  ASSERT_TRUE(wait_until([&] { return a_.ready(); }, 15s)) << a_.log();
  ASSERT_TRUE(discord.wait_connected(10s)) << a_.log();
  b_.start(fake_.base_url(), database_.url(), false, config);
  ASSERT_TRUE(wait_until([&] { return b_.ready(); }, 15s)) << b_.log();
  const auto holds = [](const Gateway& g) {
    return g.log().find("discord: this gateway holds the bot's connection") != std::string::npos;
  };
  EXPECT_TRUE(holds(a_));
  EXPECT_FALSE(wait_until([&] { return holds(b_); }, 1500ms)) << "both gateways connect";
  const std::string dm = "1200000000000000001";
  discord.say(dm, "one");
  ASSERT_TRUE(wait_until([&] { return discord.bot_messages(dm).size() == 1; }, 10s)) << a_.log();

  a_.process->signal(SIGKILL);
  a_.process->wait(5s);
  discord.say(dm, "two, while nobody holds it");
  ASSERT_TRUE(wait_until([&] { return holds(b_); }, 10s)) << b_.log();
  ASSERT_TRUE(wait_until([&] { return discord.bot_messages(dm).size() == 2; }, 15s)) << b_.log();
  discord.say(dm, "three");
  ASSERT_TRUE(wait_until([&] { return discord.bot_messages(dm).size() == 3; }, 10s)) << b_.log();
  std::vector<std::string> texts;
  for (const auto& m : discord.bot_messages(dm)) texts.push_back(m["content"]);
  EXPECT_THAT(texts, ElementsAre("echo: one", "echo: two, while nobody holds it", "echo: three"));
  const auto state = discord.state();
  EXPECT_EQ(state["identifies"], 1) << "the second gateway resumed the first one's session";
  EXPECT_EQ(state["resumes"], 1);
  EXPECT_EQ(state["refused"], json::array());
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM inbound_messages WHERE done = 0"), "0");
}

TEST_F(SharedStore, OneGatewayHoldsTheSlackConnectionAndTheOtherTakesOverWithNothingLost) {
  FakeSlack slack{1000};
  const std::string config =
      "  slack: {enabled: true, streaming: false, allow_all_users: true, api_base: '" +
      slack.api_base() + "', bot_token: '" + FakeSlack::kBotToken + "', app_token: '" +
      FakeSlack::kAppToken + "'}\n";
  a_.start(fake_.base_url(), database_.url(), false, config);
  ASSERT_TRUE(wait_until([&] { return a_.ready(); }, 15s)) << a_.log();
  ASSERT_TRUE(slack.wait_connected(10s)) << a_.log();
  b_.start(fake_.base_url(), database_.url(), false, config);
  ASSERT_TRUE(wait_until([&] { return b_.ready(); }, 15s)) << b_.log();
  const auto holds = [](const Gateway& g) {
    return g.log().find("slack: this gateway holds the app's Socket Mode connection") !=
           std::string::npos;
  };
  EXPECT_TRUE(holds(a_));
  EXPECT_FALSE(wait_until([&] { return holds(b_); }, 1500ms)) << "both gateways connect";
  EXPECT_EQ(slack.state()["opens"], 1);
  const std::string dm = "D0000DM01";
  slack.say(dm, "one");
  ASSERT_TRUE(wait_until([&] { return slack.bot_messages(dm).size() == 1; }, 10s)) << a_.log();
  // Killed once the reply is recorded as delivered: a kill between Slack taking a post and that
  // record is the one window where a reply can be sent twice (Slack has no idempotency key).
  ASSERT_TRUE(wait_until(
      [&] {
        return database_.scalar("SELECT COUNT(*) FROM pending_deliveries") == "0" &&
               database_.scalar("SELECT COUNT(*) FROM inbound_messages WHERE done = 0") == "0";
      },
      10s));

  a_.process->signal(SIGKILL);
  a_.process->wait(5s);
  slack.say(dm, "two, while nobody holds it");
  ASSERT_TRUE(wait_until([&] { return holds(b_); }, 10s)) << b_.log();
  ASSERT_TRUE(wait_until([&] { return slack.bot_messages(dm).size() == 2; }, 15s)) << b_.log();
  slack.say(dm, "three");
  ASSERT_TRUE(wait_until([&] { return slack.bot_messages(dm).size() == 3; }, 10s)) << b_.log();
  std::vector<std::string> texts;
  for (const auto& m : slack.bot_messages(dm)) texts.push_back(m["text"]);
  EXPECT_THAT(texts, ElementsAre("echo: one", "echo: two, while nobody holds it", "echo: three"));
  const auto state = slack.state();
  EXPECT_EQ(state["refused"], json::array());
  EXPECT_EQ(state["gaveUp"], json::array());
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM inbound_messages WHERE done = 0"), "0");
}

// HERMES_CRON_FIRINGS_SHARED firings (20 by default) and HERMES_CRON_RESTARTS restarts (4).
int env_count(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value ? std::max(1, std::atoi(value)) : fallback;
}

TEST_F(SharedStore, TwoGatewaysRunEachFiringOfAJobOnceWhileTheyRestart) {
  const std::map<std::string, std::string> hooks = {{"HERMES_TEST_HOOKS", "1"},
                                                    {"HERMES_TEST_CRON_MINUTE_SECONDS", "1"}};
  a_.extra_env = hooks;
  b_.extra_env = hooks;
  start_both();
  auto env = hooks;
  env["HERMES_HOME"] = a_.home.home();
  env["XDG_RUNTIME_DIR"] = a_.home.runtime();
  const auto added =
      run_process(kCliBin, {"cron", "add", "every 1m", "tick", "--deliver", "local"}, env);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string id = added.out.substr(0, added.out.find('\n'));
  const auto runs = [&] {
    const auto shown =
        run_process(kCliBin, {"cron", "history", id, "--json", "--limit", "10000"}, env);
    const auto parsed = json::parse(shown.out, nullptr, false);
    return parsed.is_object() ? parsed["runs"] : json::array();
  };
  // One gateway at a time restarts (SIGTERM, then a new process) while the job fires.
  const int restarts = env_count("HERMES_CRON_RESTARTS", 4);
  for (int i = 0; i < restarts; ++i) {
    Gateway& g = i % 2 == 0 ? a_ : b_;
    g.stop();
    g.start(fake_.base_url(), database_.url(), /*url_in_env=*/&g == &b_);
    ASSERT_TRUE(wait_until([&] { return g.ready(); }, 15s)) << g.log();
  }
  const int firings = env_count("HERMES_CRON_FIRINGS_SHARED", 20);
  ASSERT_TRUE(wait_until([&] { return runs().size() >= static_cast<std::size_t>(firings); },
                         std::chrono::seconds(firings + 20)));
  ASSERT_EQ(run_process(kCliBin, {"cron", "pause", id}, env).exit_code, 0);
  json all;
  ASSERT_TRUE(wait_until(
      [&] {
        all = runs();
        return std::none_of(all.begin(), all.end(), [](const json& r) {
          return r["status"] == "running" || r["status"] == "queued";
        });
      },
      10s));
  std::set<double> scheduled;
  long ok = 0;
  for (const auto& run : all) {
    EXPECT_TRUE(scheduled.insert(run["scheduled_for"].get<double>()).second)
        << "a firing recorded twice: " << run.dump();
    ok += run["status"] == "ok";
  }
  ASSERT_FALSE(scheduled.empty());
  const auto expected = static_cast<long>(*scheduled.rbegin() - *scheduled.begin()) + 1;
  EXPECT_EQ(static_cast<long>(scheduled.size()), expected) << "no firing missed";
  EXPECT_EQ(ok, expected) << "each ran (one gateway was always up): " << all.dump(1);
  long turns = 0;
  for (const auto& call : fake_.calls()) {
    const auto& messages = call["messages"];
    turns += !messages.empty() && messages.back()["content"] == "tick";
  }
  EXPECT_EQ(turns, ok) << "no firing ran twice";
  RecordProperty("firings", static_cast<int>(expected));
  RecordProperty("restarts", restarts);
  RecordProperty("duplicates", static_cast<int>(all.size() - scheduled.size()));
  RecordProperty("missed", static_cast<int>(expected - ok));
}

TEST(SharedStoreStart, AnUnreachableDatabaseIsAFailedStartSystemdRetriesNotARefusedOne) {
  GatewayHome home;
  home.dir.write("config.yaml",
                 "model: {provider: local, default: demo-model}\n"
                 "providers: {local: {base_url: 'http://127.0.0.1:9/v1'}}\n"
                 "database: {backend: postgres, url: 'postgresql://hermes:pw-never-shown@"
                 "127.0.0.1:1/hermes'}\n"
                 "gateway: {api_server: {host: 127.0.0.1, port: " +
                     std::to_string(home.port) + "}}\n");
  auto options = home.env();
  options.env["HERMES_TEST_HOOKS"] = "1";
  options.env["HERMES_TEST_DB_CONNECT_WAIT_MS"] = "300";
  auto daemon = home.start(options);
  EXPECT_EQ(daemon->wait(10s), 1) << daemon->stderr_text();  // exit 1: tried again, not 78
  const auto log = daemon->stderr_text();
  EXPECT_THAT(log, HasSubstr("not starting: PostgreSQL 127.0.0.1:1/hermes is unreachable"));
  EXPECT_THAT(log, HasSubstr("HERMES_DATABASE_URL"));
  EXPECT_THAT(log, Not(HasSubstr("pw-never-shown")));
}

// The database restarts under load: requests in flight wait or fail with a clear 503, nothing
// answered is lost, and the gateway reports degraded until it is back, then recovers alone.
TEST(SharedStoreRestart, TheDatabaseRestartedUnderLoadLosesNothingAndTheGatewayRecovers) {
  PrivatePostgres server;  // its own: restarting the shared one would fail the other tests
  TestDatabase database(server.url());
  FakeProvider fake;
  Gateway gateway;
  gateway.start(fake.base_url(), database.url());
  ASSERT_TRUE(wait_until([&] { return gateway.ready(); }, 15s)) << gateway.log();

  std::atomic<bool> running = true;
  std::mutex mutex;
  std::vector<std::pair<int, std::string>> answers;  // status, session
  std::vector<std::string> refusals;                 // status and body of what was not answered
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; running; ++i) {
        const auto r = gateway.chat("client " + std::to_string(c) + " turn " + std::to_string(i));
        std::lock_guard lock(mutex);
        if (r.status == 200) {
          answers.emplace_back(r.status, r.headers.at("x-hermes-session-id"));
        } else {
          refusals.push_back(std::to_string(r.status) + " " + r.body);
        }
      }
    });
  }
  const auto answered = [&] {
    std::lock_guard lock(mutex);
    return answers.size();
  };
  ASSERT_TRUE(wait_until([&] { return answered() >= 20; }, 20s));
  server.restart();
  const auto after_restart = answered();
  ASSERT_TRUE(wait_until([&] { return answered() >= after_restart + 20; }, 30s)) << gateway.log();
  running = false;
  for (auto& t : clients) t.join();

  for (const auto& refusal : refusals) {
    // Clear, and retryable: never a hang, a 500 or a dropped connection.
    EXPECT_THAT(refusal, HasSubstr("503 ")) << gateway.log();
    EXPECT_THAT(refusal, HasSubstr("state_store_unavailable"));
  }
  // Every answered turn is stored whole: its question and its answer.
  for (const auto& [status, session] : answers) {
    EXPECT_EQ(database.scalar("SELECT COUNT(*) FROM messages WHERE session_id = '" + session +
                              "' AND role <> 'system'"),
              "2")
        << session;
  }
  std::string health;
  EXPECT_TRUE(wait_until(
      [&] { return http_get_status(gateway.home.port, "/health", &health) == 200; }, 10s))
      << health;
  EXPECT_THAT(gateway.log(), HasSubstr("connected to PostgreSQL"));
  EXPECT_THAT(gateway.log(), Not(HasSubstr(database.password())));
  gateway.stop();
}

}  // namespace
}  // namespace hermes::testing
