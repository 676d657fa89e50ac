// Context compaction, usage accounting and budgets, through the real daemon and the fake
// provider (which refuses requests over a size with OpenAI's context_length_exceeded and
// reports usage).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <thread>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

std::size_t message_chars(const json& messages) {
  std::size_t n = 0;
  for (const auto& m : messages) {
    if (m.contains("content") && m["content"].is_string())
      n += m["content"].get<std::string>().size();
    if (m.contains("tool_calls")) n += m["tool_calls"].dump().size();
  }
  return n;
}

class ContextAndUsage : public ::testing::Test {
 protected:
  std::string config_text(const std::string& extra) const {
    return "model: {provider: primary, default: demo-model, context_length: 400}\n"
           "providers:\n"
           "  primary: {base_url: '" +
           fake_.base_url() +
           "', api_keys: [k1, k2]}\n"
           "  backup: {base_url: '" +
           fake_.base_url() +
           "', api_keys: [b1]}\n"
           "fallback_providers: [{provider: backup, model: backup-model}]\n"
           "agent: {api_max_retries: 2}\n"
           "tools: {builtin: []}\n"  // the context arithmetic below counts no tool schemas
           "gateway:\n  api_server: {host: 127.0.0.1, port: " +
           std::to_string(home_.port) + "}\n" + extra;
  }
  void start(const std::string& extra) {
    home_.dir.write("config.yaml", config_text(extra));
    auto options = home_.env();
    for (const auto& [key, value] : hooks_) options.env[key] = value;
    daemon_ = home_.start(options);
    ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s)) << daemon_->stderr_text();
  }
  void TearDown() override {
    if (daemon_) {
      daemon_->signal(SIGTERM);
      EXPECT_EQ(daemon_->wait(10s), 0) << daemon_->stderr_text();
    }
  }
  HttpExchange turn(const std::string& text, const std::string& session = "") {
    std::map<std::string, std::string> headers;
    if (!session.empty()) headers["X-Hermes-Session-Id"] = session;
    return http_request(
        home_.port, "POST", "/v1/chat/completions",
        json{{"messages", json::array({{{"role", "user"}, {"content", text}}})}}.dump(), headers);
  }
  // POST /v1/responses with `input`, continuing the chain ending at `previous` ("" for none).
  HttpExchange respond(const std::string& input, const std::string& previous = "") {
    json body = {{"input", input}};
    if (!previous.empty()) body["previous_response_id"] = previous;
    return http_request(home_.port, "POST", "/v1/responses", body.dump());
  }
  json usage(const std::string& query = "") {
    const auto r = http_request(home_.port, "GET", "/v1/usage" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body, nullptr, false);
  }

  FakeProvider fake_;
  GatewayHome home_;
  std::unique_ptr<ChildProcess> daemon_;
  std::map<std::string, std::string> hooks_;  // more environment for the daemon
};

TEST_F(ContextAndUsage, AThirtyTurnConversationOverASmallContextNeverFailsAndAlwaysFits) {
  // 400 tokens ≈ 1,600 characters; the provider refuses past 1,500.
  fake_.limit_context(1500, 60);
  start("compression: {threshold: 0.6, protect_last_n: 4}\n");
  auto first = turn("turn 0: " + std::string(120, 'a'));
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string session = first.headers["x-hermes-session-id"];
  for (int i = 1; i < 30; ++i) {
    const auto r =
        turn("turn " + std::to_string(i) + ": " + std::string(120, static_cast<char>('a' + i % 26)),
             session);
    ASSERT_EQ(r.status, 200) << "turn " << i << ": " << r.body << daemon_->stderr_text();
    EXPECT_EQ(r.headers.count("x-hermes-context-note"), 0u) << "summaries worked: nothing dropped";
  }
  const auto calls = fake_.calls();
  int summaries = 0;
  for (const auto& call : calls) {
    EXPECT_FALSE(call.contains("refused")) << "a request was too big: " << call.dump();
    EXPECT_LE(message_chars(call["messages"]), 1500u);
    if (call["messages"][0]["content"].get<std::string>().find("condense conversations") !=
        std::string::npos) {
      ++summaries;
    }
  }
  EXPECT_GE(summaries, 3) << "the conversation was summarised as it grew";
  // The newest turn went up whole, after a summary of the older ones.
  const auto& last = calls.back()["messages"];
  EXPECT_THAT(last.back()["content"].get<std::string>(), HasSubstr("turn 29"));
  bool has_summary = false;
  for (const auto& m : last) {
    has_summary =
        has_summary || m["content"].get<std::string>().starts_with("[Summary of the earlier");
  }
  EXPECT_TRUE(has_summary) << last.dump();
}

TEST_F(ContextAndUsage, ALongResponsesChainIsCompactedLikeAStoredSession) {
  // The same window and provider limit as the stored session above, through
  // previous_response_id. Keeping only the newest turn whole leaves room for a turn between
  // compactions: it sends the summary the chain stored.
  fake_.limit_context(1500, 60);
  start("compression: {threshold: 0.6, protect_last_n: 2}\n");
  std::string previous;
  for (int i = 0; i < 30; ++i) {
    const std::string input =
        "turn " + std::to_string(i) + ": " + std::string(120, static_cast<char>('a' + i % 26));
    const auto r = respond(input, previous);
    ASSERT_EQ(r.status, 200) << "turn " << i << ": " << r.body << daemon_->stderr_text();
    const auto object = json::parse(r.body);
    ASSERT_EQ(object["status"], "completed") << r.body;
    // Each answer is to its own input (the fake echoes the last user message).
    EXPECT_THAT(object["output"][0]["content"][0]["text"].get<std::string>(),
                ::testing::StartsWith("echo: turn " + std::to_string(i) + ": "));
    previous = object["id"].get<std::string>();
  }
  const auto calls = fake_.calls();
  const auto is_summary_call = [](const json& call) {
    return call["messages"][0]["content"].get<std::string>().find("condense conversations") !=
           std::string::npos;
  };
  const auto starts_with_summary = [](const json& messages) {
    return messages.size() > 1 && messages[1]["content"].get<std::string>().starts_with(
                                      "[Summary of the earlier conversation]");
  };
  int summaries = 0;
  int kept_summaries = 0;  // turns that compacted nothing themselves but sent a stored summary
  bool summarised_before = false;
  for (std::size_t c = 0; c < calls.size(); ++c) {
    const auto& call = calls[c];
    EXPECT_FALSE(call.contains("refused")) << "a request was too big: " << call.dump();
    EXPECT_LE(message_chars(call["messages"]), 1500u);
    if (is_summary_call(call)) {
      ++summaries;
      summarised_before = true;
      continue;
    }
    if (!summarised_before) continue;
    // From the first compaction on, every turn sends the chain's summary first, after the
    // system prompt, never the old messages it stands for.
    EXPECT_EQ(call["messages"][0]["role"], "system");
    EXPECT_TRUE(starts_with_summary(call["messages"])) << "call " << c << ": " << call.dump();
    if (is_summary_call(calls[c - 1])) continue;
    // A turn that compacted nothing sends what the turn before it sent (its summary included),
    // then that turn's answer and its own input.
    ++kept_summaries;
    const auto& before = calls[c - 1]["messages"];
    ASSERT_EQ(call["messages"].size(), before.size() + 2) << call.dump();
    for (std::size_t m = 0; m < before.size(); ++m) EXPECT_EQ(call["messages"][m], before[m]);
  }
  EXPECT_GE(summaries, 3) << "the chain was summarised as it grew";
  EXPECT_GE(kept_summaries, 3) << "the summary is stored with the chain and sent again";
  // The newest turn went up whole, after the summary of the older ones.
  const auto& last = calls.back()["messages"];
  EXPECT_THAT(last.back()["content"].get<std::string>(), HasSubstr("turn 29"));
  for (std::size_t m = 2; m < last.size(); ++m) {
    EXPECT_THAT(last[m]["content"].get<std::string>(), ::testing::Not(HasSubstr("turn 0:")))
        << "the first turn is still sent: " << last.dump();
  }
}

TEST_F(ContextAndUsage, AStatelessRequestTooBigForTheModelIsTheClients400) {
  start("");
  const auto before = fake_.calls().size();
  const auto r = turn(std::string(4000, 'x'));  // ~1,000 tokens for a 400-token window
  EXPECT_EQ(r.status, 400) << r.body;
  const auto error = json::parse(r.body)["error"];
  EXPECT_EQ(error["type"], "context_overflow");
  EXPECT_EQ(error["code"], "context_length_exceeded");
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("context window of 400"));
  EXPECT_EQ(fake_.calls().size(), before) << "refused before any provider call";
}

// Hardening (issue 24, item 9): a message larger than the window stayed among the protected
// newest messages, so that turn and the next three got 400. Now it is stored marked
// left_out, the user is told once, and the next turns work and never send it again: one over
// the window by the estimate (never sent), one under it that the provider still refuses after
// the compaction.
TEST_F(ContextAndUsage, AMessageThatCanNeverFitIsLeftOutAndTheNextTurnsWork) {
  fake_.limit_context(1500, 60);  // 400 tokens ≈ 1,600 characters; refused past 1,500
  start("compression: {threshold: 0.6, protect_last_n: 4}\n");
  auto first = turn("hello");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string session = first.headers["x-hermes-session-id"];
  for (const std::size_t size : {4000u, 1550u}) {
    const auto before = fake_.calls().size();
    const auto r = turn(std::string(size, 'x'), session);
    EXPECT_EQ(r.status, 400) << r.body;
    const auto error = json::parse(r.body)["error"];
    EXPECT_EQ(error["type"], "context_overflow");
    EXPECT_THAT(error["message"].get<std::string>(),
                HasSubstr("too long for the model's context window of 400 tokens. It is kept but "
                          "left out of this conversation"));
    if (size == 4000) {
      EXPECT_EQ(fake_.calls().size(), before) << "over the window: never sent";
    }
    for (int i = 0; i < 4; ++i) {
      const auto next = turn("after " + std::to_string(size) + " #" + std::to_string(i), session);
      EXPECT_EQ(next.status, 200) << "turn " << i << " after the " << size
                                  << "-byte message: " << next.body;
    }
  }
  for (const auto& call : fake_.calls()) {
    if (call.contains("refused")) continue;  // the one the provider refused
    EXPECT_LE(message_chars(call["messages"]), 1500u) << call.dump();
  }
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("left out of the conversation"));
}

// Hardening (issue 24, item 11, part): /v1/responses skipped the check chat completions
// makes (a 900 KB input went to the provider): an input that cannot fit, chain compacted or
// not, is a 400 before any call, plain and streamed.
TEST_F(ContextAndUsage, AResponsesInputTooBigForTheModelIsTheClients400) {
  start("");
  const auto before = fake_.calls().size();
  const auto r = respond(std::string(4000, 'x'));
  EXPECT_EQ(r.status, 400) << r.body;
  const auto error = json::parse(r.body)["error"];
  EXPECT_EQ(error["code"], "context_length_exceeded");
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("context window of 400"));
  const auto small = respond("hello");
  ASSERT_EQ(small.status, 200) << small.body;
  const std::string id = json::parse(small.body)["id"];
  EXPECT_EQ(respond(std::string(4000, 'y'), id).status, 400) << "a chain's input too";
  const auto streamed =
      http_request(home_.port, "POST", "/v1/responses",
                   json{{"input", std::string(4000, 'z')}, {"stream", true}}.dump());
  EXPECT_THAT(streamed.body, HasSubstr("response.failed"));
  EXPECT_THAT(streamed.body, HasSubstr("context_length_exceeded"));
  EXPECT_EQ(fake_.calls().size(), before + 1) << "only the small input reached the provider";
}

TEST_F(ContextAndUsage, AFailingSummaryDropsTheOldestTurnsOnceAndSaysSo) {
  // Summaries pause after a failure (the test below); here the model is back at once.
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}, {"HERMES_TEST_SUMMARY_PAUSE_MS", "1"}};
  start("compression: {threshold: 0.5, protect_last_n: 2}\n");
  auto r = turn("first " + std::string(400, 'x'));
  ASSERT_EQ(r.status, 200);
  const std::string session = r.headers["x-hermes-session-id"];
  r = turn("second " + std::string(400, 'y'), session);
  ASSERT_EQ(r.status, 200);
  // The next turn needs a summary: every attempt at it fails (both providers refuse it).
  const json refused = {
      {"status", 400},
      {"body", {{"error", {{"message", "content rejected"}, {"code", "content_filter"}}}}}};
  fake_.script("k1", json::array({refused}));
  fake_.script("b1", json::array({refused}));
  r = turn("third " + std::string(400, 'z'), session);
  // The summary failed; the oldest turns were dropped and the turn still answered.
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-hermes-context-note"], "oldest-dropped");
  fake_.reset();
  fake_.limit_context(0, 60);  // summaries work again from here
  r = turn("fourth", session);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.count("x-hermes-context-note"), 0u) << "told once";
  const auto sent = fake_.calls().back()["messages"];
  for (const auto& m : sent) {
    EXPECT_THAT(m["content"].get<std::string>(), ::testing::Not(HasSubstr("first ")))
        << "the dropped turn is no longer sent";
  }
}

// Hardening (issue 24, item 11, part): a summary model that keeps failing was called again at
// every compaction; after a failure summaries pause (30 s, doubling), the oldest turns are
// dropped meanwhile, and the turns still answer.
TEST_F(ContextAndUsage, AFailingSummaryModelIsNotCalledAgainAtEveryCompaction) {
  start("compression: {threshold: 0.5, protect_last_n: 2, summary_model: summary-model}\n");
  const json refused = {
      {"status", 400},
      {"body", {{"error", {{"message", "content rejected"}, {"code", "content_filter"}}}}}};
  fake_.script("model:summary-model", json::array({refused, refused, refused, refused, refused}));
  fake_.script("model:backup-model", json::array({refused, refused, refused, refused, refused}));
  auto r = turn("turn 0 " + std::string(400, 'x'));
  ASSERT_EQ(r.status, 200);
  const std::string session = r.headers["x-hermes-session-id"];
  for (int i = 1; i <= 6; ++i) {
    r = turn("turn " + std::to_string(i) + " " + std::string(400, 'x'), session);
    ASSERT_EQ(r.status, 200) << i << ": " << r.body;
  }
  int summary_calls = 0;
  for (const auto& call : fake_.calls()) {
    if (call["model"] == "summary-model") ++summary_calls;
  }
  EXPECT_EQ(summary_calls, 1) << "the failing summary model was asked again";
  // …though the turns needed compacting again and again.
  const auto log = daemon_->stderr_text();
  std::size_t compactions = 0;
  for (auto at = log.find("context dropped"); at != std::string::npos;
       at = log.find("context dropped", at + 1)) {
    ++compactions;
  }
  EXPECT_GE(compactions, 3u) << log;
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("summaries pause for 30 s"));
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("summaries are paused after failures"));
}

TEST_F(ContextAndUsage, UsageTotalsEqualWhatTheProviderReportedAcrossRetriesAndFallbacks) {
  start("pricing: {demo-model: {input: 1.0, output: 2.0}}\n");
  ASSERT_EQ(turn("plain").status, 200);
  // A retry on the same key, then k1 rate-limited → k2.
  fake_.script("k1", json::array({{{"status", 500}}, {{"status", 429}}}));
  ASSERT_EQ(turn("after a retry and a rotation").status, 200);
  // Both primary keys refuse for billing: the fallback provider answers.
  const json broke = {{"status", 402},
                      {"body", {{"error", {{"message", "Insufficient Balance"}}}}}};
  fake_.script("k1", json::array({broke}));
  fake_.script("k2", json::array({broke}));
  ASSERT_EQ(turn("via the fallback").status, 200);

  long long reported = 0, prompt = 0;
  double cost = 0;
  for (const auto& call : fake_.calls()) {
    if (!call.contains("usage")) continue;
    reported += call["usage"]["total_tokens"].get<long long>();
    if (call["model"] == "demo-model") {
      prompt += call["usage"]["prompt_tokens"].get<long long>();
      cost += (call["usage"]["prompt_tokens"].get<double>() * 1.0 +
               call["usage"]["completion_tokens"].get<double>() * 2.0) /
              1e6;
    }
  }
  ASSERT_GT(reported, 0);
  // Rows are written behind the turn: poll until the last is stored.
  json totals;
  ASSERT_TRUE(wait_until(
      [&] {
        totals = usage();
        return totals["total"]["total_tokens"] == reported;
      },
      5s))
      << totals.dump() << " vs " << reported;
  std::size_t answered = 0;
  for (const auto& call : fake_.calls()) answered += call.contains("usage") ? 1u : 0u;
  EXPECT_EQ(totals["total"]["calls"], answered) << "each answered call, once: " << totals.dump();
  EXPECT_EQ(answered, 3u) << "plain, k2 after the retry and rotation, the fallback";
  EXPECT_NEAR(totals["total"]["cost_usd"].get<double>(), cost, 1e-9);
  EXPECT_EQ(totals["total"]["unpriced_calls"], 1) << "backup-model has no price";
  bool saw_backup = false;
  for (const auto& row : totals["by_provider"])
    saw_backup = saw_backup || row["provider"] == "backup";
  EXPECT_TRUE(saw_backup) << totals.dump();
  EXPECT_EQ(usage("?by=model")["by_model"].size(), 2u);
  EXPECT_EQ(http_request(home_.port, "GET", "/v1/usage?since=yesterday").status, 400);

  // The CLI reads the same totals from state.db.
  const auto cli = run_process(kCliBin, {"gateway", "usage", "--json", "--by", "provider"},
                               {{"HERMES_HOME", home_.home()}});
  ASSERT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_EQ(json::parse(cli.out)["total"]["total_tokens"], reported);
  const auto text =
      run_process(kCliBin, {"gateway", "usage", "--by", "day"}, {{"HERMES_HOME", home_.home()}});
  EXPECT_THAT(text.out, HasSubstr("tokens"));
  EXPECT_EQ(
      run_process(kCliBin, {"gateway", "usage", "--by", "key"}, {{"HERMES_HOME", home_.home()}})
          .exit_code,
      2)
      << "keys are never a grouping: their index only";

  // /metrics, read by a real Prometheus text parser from npm.
  const auto metrics = run_process(
      HERMES_NODE,
      {"--test", "--test-reporter=spec", std::string(HERMES_NODE_TESTS) + "/metrics.test.mjs"},
      {{"GATEWAY_URL", "http://127.0.0.1:" + std::to_string(home_.port)}});
  EXPECT_EQ(metrics.exit_code, 0) << metrics.out << metrics.err;
  EXPECT_THAT(metrics.out, HasSubstr("pass 4"));
}

TEST_F(ContextAndUsage,
       ABudgetRefusesBeforeAnyProviderCallWithTheHintAndRetryAfterAndSurvivesARestart) {
  // One turn of the fake costs far more than $0.000001.
  start(
      "pricing: {demo-model: {input: 100.0, output: 100.0}}\n"
      "budgets: [{name: tiny, scope: gateway, limit_usd: 0.000001, period: day}]\n");
  ASSERT_EQ(turn("spend it").status, 200);
  ASSERT_TRUE(wait_until([&] { return usage()["total"]["calls"] == 1; }, 5s));
  const auto before = fake_.calls().size();
  auto refused = turn("one more");
  EXPECT_EQ(refused.status, 429) << refused.body;
  const auto error = json::parse(refused.body)["error"];
  EXPECT_EQ(error["type"], "budget_exceeded");
  EXPECT_THAT(error["message"].get<std::string>(),
              HasSubstr("The tiny budget ($0.00 a day) is used up"));
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("resets at"));
  const long retry_after = std::stol(refused.headers["retry-after"]);
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 86400) << "until the end of the UTC day";
  EXPECT_EQ(fake_.calls().size(), before) << "no provider call was made";

  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait(10s), 0);
  daemon_ = home_.start(home_.env());
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s));
  EXPECT_EQ(turn("after the restart").status, 429) << "the spend is read back from state.db";
  EXPECT_EQ(fake_.calls().size(), before);
}

TEST_F(ContextAndUsage, ConcurrentTurnsHoldTheirCostSoABudgetIsOverrunByAtMostOneTurn) {
  // Every turn costs the same: one user message, one scripted answer, priced.
  const std::string pricing = "pricing: {demo-model: {input: 1000.0, output: 1000.0}}\n";
  start(pricing + "budgets: [{name: daily, scope: gateway, limit_usd: 1000, period: day}]\n");
  const json answer = {{"content", "ok"}};
  fake_.script("*", json::array({answer, answer}));
  ASSERT_EQ(turn("what does this cost").status, 200);
  ASSERT_EQ(turn("what does this cost").status, 200);
  ASSERT_TRUE(wait_until([&] { return usage()["total"]["calls"] == 2; }, 5s));
  const double two = usage()["total"]["cost_usd"].get<double>();
  const double one = two / 2;
  ASSERT_GT(one, 0);
  // The limit leaves room for one more turn ($2 of $3, in the issue's words).
  const double limit = 3 * one - one / 10;
  home_.dir.write("config.yaml",
                  config_text(pricing + "budgets: [{name: daily, scope: gateway, limit_usd: " +
                              std::to_string(limit) + ", period: day}]\n"));
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] { return daemon_->stderr_text().find("config reloaded") != std::string::npos; }, 5s));
  // 32 turns at once, each answered slowly enough that all are in flight together.
  json slow = {{"content", "ok"}, {"delay_ms", 400}};
  json steps = json::array();
  for (int i = 0; i < 32; ++i) steps.push_back(slow);
  fake_.script("*", steps);
  std::vector<int> statuses(32);
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    clients.emplace_back([&, i] { statuses[i] = turn("what does this cost").status; });
  }
  for (auto& c : clients) c.join();
  const auto admitted = std::count(statuses.begin(), statuses.end(), 200);
  const auto refused = std::count(statuses.begin(), statuses.end(), 429);
  EXPECT_EQ(admitted + refused, 32);
  EXPECT_GE(admitted, 1) << "the room for one turn was used";
  ASSERT_TRUE(wait_until([&] { return usage()["total"]["calls"] == 2 + admitted; }, 5s));
  const double spent = usage()["total"]["cost_usd"].get<double>();
  // Without holds all 32 passed the check and $34 of $3 was spent.
  EXPECT_LE(spent, limit + one + 1e-9) << admitted << " turns admitted";
  RecordProperty("admitted", std::to_string(admitted));
  RecordProperty("spent_over_limit_usd", std::to_string(spent - limit));
}

}  // namespace
}  // namespace hermes::testing
