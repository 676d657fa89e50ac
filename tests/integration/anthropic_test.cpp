// Anthropic's Messages API on both sides, end to end: the real daemon with the fake provider's
// strict Anthropic side as its primary (it refuses a request without anthropic-version,
// max_tokens or a known x-api-key, and a tool_result answering no tool_use), an
// OpenAI-compatible fallback, the real MCP server for a tool round, and the official
// @anthropic-ai/sdk against the served /v1/messages.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kAnthropicKey = "ak-anthropic-secret-1";
constexpr const char* kOpenAiKey = "sk-openai-secret-2";

class Anthropic : public ::testing::Test {
 protected:
  // `extra`: more top-level YAML; `fallback`: an OpenAI-compatible fallback provider.
  void start(bool fallback, const std::string& extra = "") {
    const json keys = {{"keys", json::array({kAnthropicKey})}};
    ASSERT_EQ(http_request(fake_.port(), "POST", "/__anthropic", keys.dump()).status, 200);
    std::string config =
        "model: {provider: claude, default: claude-test}\n"
        "providers:\n"
        "  claude: {base_url: '" +
        fake_.base_url() + "', api: anthropic, api_keys: [" + kAnthropicKey +
        "]}\n"
        "  openai: {base_url: '" +
        fake_.base_url() + "', api_keys: [" + kOpenAiKey +
        "]}\n"
        "agent: {api_max_retries: 1}\n"
        "pricing: {claude-test: {input: 3, output: 15, cache_write: 3.75, cache_read: 0.3}}\n"
        "tools: {builtin: []}\n"  // the token counts below are the MCP tools' alone
        "gateway: {api_server: {host: 127.0.0.1, port: " +
        std::to_string(home_.port) + ", key: gw-key}}\n" + extra;
    if (fallback) config += "fallback_providers: [{provider: openai, model: gpt-fallback}]\n";
    home_.dir.write("config.yaml", config);
    daemon_ = home_.start(home_.env());
    ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 60s)) << daemon_->stderr_text();
  }

  HttpExchange chat(const std::string& text, bool stream = false, const std::string& session = "") {
    const json body = {{"model", "claude-test"},
                       {"stream", stream},
                       {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
    std::map<std::string, std::string> headers{{"Authorization", "Bearer gw-key"}};
    if (!session.empty()) headers["X-Hermes-Session-Id"] = session;
    return http_request(home_.port, "POST", "/v1/chat/completions", body.dump(), headers, 60s);
  }

  void TearDown() override {
    if (!daemon_) return;
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait(20s), 0) << daemon_->stderr_text();
    const auto log = daemon_->stderr_text();
    EXPECT_EQ(log.find(kAnthropicKey), std::string::npos) << "a key reached the log";
    EXPECT_EQ(log.find(kOpenAiKey), std::string::npos) << "a key reached the log";
    for (const auto& call : fake_.calls()) {
      EXPECT_FALSE(call.contains("refused")) << "the fake refused a request: " << call.dump();
    }
  }

  FakeProvider fake_;
  GatewayHome home_;
  std::unique_ptr<ChildProcess> daemon_;
};

TEST_F(Anthropic, TheOfficialSdkCreatesStreamsRunsToolsCountsAndGetsTypedErrors) {
  ASSERT_TRUE(
      std::filesystem::exists(std::string(HERMES_NODE_TESTS) + "/node_modules/@anthropic-ai/sdk"))
      << "run scripts/setup.sh (it installs the npm test peers)";
  start(false);
  const auto r =
      run_process(HERMES_NODE,
                  {"--test", "--test-reporter=spec",
                   std::string(HERMES_NODE_TESTS) + "/anthropic_client.test.mjs"},
                  {{"GATEWAY_URL", "http://127.0.0.1:" + std::to_string(home_.port)},
                   {"GATEWAY_KEY", "gw-key"},
                   {"FAKE_PROVIDER_URL", "http://127.0.0.1:" + std::to_string(fake_.port())}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << "\ndaemon:\n" << daemon_->stderr_text();
  EXPECT_THAT(r.out, HasSubstr("pass 7"));
}

TEST_F(Anthropic, AToolRoundThroughAnAnthropicPrimaryRunsTheGatewaysTool) {
  ASSERT_TRUE(std::filesystem::exists(kEverythingServer)) << "run scripts/setup.sh (npm ci)";
  start(true, "mcp_servers:\n  everything:\n    command: " + std::string(HERMES_NODE) +
                  "\n    args: ['" + kEverythingServer + "']\n");
  // The primary asks for the tool, then is overloaded: the OpenAI-compatible fallback finishes
  // the same turn from the same history, its tool round in OpenAI's shape.
  const json overloaded = {{"type", "error"},
                           {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}};
  fake_.script(kAnthropicKey, {{{"tool_calls", json::array({{{"id", "toolu_1"},
                                                             {"name", "mcp_everything_get_sum"},
                                                             {"arguments", R"({"a":2,"b":3})"}}})}},
                               {{"status", 529}, {"body", overloaded}}});
  fake_.script(kOpenAiKey, {{{"content", "2 and 3 make 5."}}});
  const auto r = chat("what is 2+3?");
  ASSERT_EQ(r.status, 200) << r.body << daemon_->stderr_text();
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "2 and 3 make 5.");

  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 3u) << calls.dump();
  EXPECT_EQ(calls[0]["api"], "anthropic");
  bool offered = false;
  for (const auto& tool : calls[0]["tools"]) {
    if (tool["name"] == "mcp_everything_get_sum") {
      offered = tool["input_schema"]["type"] == "object";
    }
  }
  EXPECT_TRUE(offered) << "the MCP tool, as {name, description, input_schema}";
  // To Anthropic: the round as a tool_use block and a tool_result block.
  const auto& sent = calls[1]["messages"];
  ASSERT_EQ(sent.size(), 3u) << sent.dump();
  EXPECT_EQ(sent[1]["role"], "assistant");
  EXPECT_EQ(sent[1]["content"][0]["type"], "tool_use");
  EXPECT_EQ(sent[1]["content"][0]["input"], (json{{"a", 2}, {"b", 3}}));
  EXPECT_EQ(sent[2]["role"], "user");
  EXPECT_EQ(sent[2]["content"][0]["type"], "tool_result");
  EXPECT_EQ(sent[2]["content"][0]["tool_use_id"], "toolu_1");
  EXPECT_EQ(sent[2]["content"][0]["content"], "The sum of 2 and 3 is 5.");
  // To the fallback: the same round as tool_calls and a tool message.
  EXPECT_EQ(calls[2]["key"], kOpenAiKey);
  const auto& converted = calls[2]["messages"];
  ASSERT_EQ(converted.size(), 4u) << converted.dump();
  EXPECT_EQ(converted[0]["role"], "system");
  EXPECT_EQ(converted[2]["tool_calls"][0]["id"], "toolu_1");
  EXPECT_EQ(converted[2]["tool_calls"][0]["function"]["arguments"], R"({"a":2,"b":3})");
  EXPECT_EQ(converted[3]["role"], "tool");
  EXPECT_EQ(converted[3]["tool_call_id"], "toolu_1");
}

TEST_F(Anthropic, OverloadedBeforeAnyTextFallsBackToOpenAiButNeverSplicesIntoSentText) {
  start(true);
  const json overloaded = {{"type", "error"},
                           {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}};
  // A 529: the OpenAI-compatible fallback answers, with the history converted back.
  fake_.script(kAnthropicKey, {{{"status", 529}, {"body", overloaded}}});
  auto r = chat("first question");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "echo: first question");
  auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["api"], "anthropic");
  EXPECT_EQ(calls[1]["key"], kOpenAiKey);
  EXPECT_EQ(calls[1]["model"], "gpt-fallback");

  // An overloaded_error event before any text: the fallback answers the stream.
  fake_.reset();
  fake_.script(kAnthropicKey, {{{"stream_error_after", 0}}});
  r = chat("second question", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("content":"question")")) << "the fallback's echo, streamed";
  EXPECT_THAT(r.body, HasSubstr("data: [DONE]"));
  calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1]["key"], kOpenAiKey);

  // The same event after text went out: no other provider's answer is spliced in; the stream
  // ends with the overloaded hint.
  fake_.reset();
  fake_.script(kAnthropicKey, {{{"stream", json::array({"Partial ", "answer ", "never finished"})},
                                {"stream_error_after", 2}}});
  r = chat("third question", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("Partial "));
  EXPECT_THAT(r.body, HasSubstr(R"("type":"overloaded")"));
  EXPECT_THAT(r.body, HasSubstr("temporarily overloaded"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("never finished")));
  calls = fake_.calls();
  ASSERT_EQ(calls.size(), 1u) << "no fallback after text was sent: " << calls.dump();
}

// An answer the provider cut at max_tokens is reported as cut on every API, never as complete.
TEST_F(Anthropic, AnAnswerCutAtMaxTokensIsReportedAsCutOnBothApis) {
  start(false);
  const json cut = {{"content", "The answer was cut"}, {"stop_reason", "max_tokens"}};
  fake_.script(kAnthropicKey, {cut, cut, cut, cut});
  auto r = chat("long question");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["choices"][0]["finish_reason"], "length");
  r = chat("long question", true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("finish_reason":"length")"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr(R"("finish_reason":"stop")")));

  const json request = {{"model", "claude-test"},
                        {"max_tokens", 5},
                        {"messages", json::array({{{"role", "user"}, {"content", "long"}}})}};
  r = http_request(home_.port, "POST", "/v1/messages", request.dump(), {{"x-api-key", "gw-key"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["stop_reason"], "max_tokens");
  json streamed = request;
  streamed["stream"] = true;
  r = http_request(home_.port, "POST", "/v1/messages", streamed.dump(), {{"x-api-key", "gw-key"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr(R"("stop_reason":"max_tokens")"));
}

TEST_F(Anthropic, ALowCreditBalanceIsA402WithTheBillingHint) {
  start(false);
  fake_.script(kAnthropicKey,
               {{{"status", 400},
                 {"body",
                  {{"type", "error"},
                   {"error",
                    {{"type", "invalid_request_error"},
                     {"message",
                      "Your credit balance is too low to access the Anthropic API. Please go to "
                      "Plans & Billing to upgrade or purchase credits."}}}}}}});
  const auto r = chat("hello");
  EXPECT_EQ(r.status, 402) << r.body;
  const auto error = json::parse(r.body)["error"];
  EXPECT_EQ(error["type"], "billing");
  EXPECT_THAT(error["message"].get<std::string>(),
              HasSubstr("Your API balance or quota is exhausted."));
}

TEST_F(Anthropic, PromptCacheTokensAreRecordedAndPriced) {
  start(false);
  std::string session;
  for (const char* text : {"one", "two", "three"}) {
    const auto r = chat(text, false, session);
    ASSERT_EQ(r.status, 200) << r.body;
    session = r.headers.at("x-hermes-session-id");
  }
  // What the fake billed, call by call, priced as config.yaml says.
  double write = 0, read = 0, input = 0, output = 0;
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& call : calls) {
    write += call["usage"]["cache_creation_input_tokens"].get<double>();
    read += call["usage"]["cache_read_input_tokens"].get<double>();
    input += call["usage"]["input_tokens"].get<double>();
    output += call["usage"]["output_tokens"].get<double>();
  }
  EXPECT_GT(calls[1]["usage"]["cache_read_input_tokens"].get<long>(), 0)
      << "the second turn reads what the first wrote";
  EXPECT_GT(calls[2]["usage"]["cache_read_input_tokens"].get<long>(),
            calls[1]["usage"]["cache_read_input_tokens"].get<long>());
  const double cost = (input * 3.0 + write * 3.75 + read * 0.3 + output * 15.0) / 1e6;
  const double saved = ((write + read) * 3.0 - write * 3.75 - read * 0.3) / 1e6;

  const auto usage = http_request(home_.port, "GET", "/v1/usage?by=model", "",
                                  {{"Authorization", "Bearer gw-key"}});
  ASSERT_EQ(usage.status, 200) << usage.body;
  const auto total = json::parse(usage.body)["total"];
  EXPECT_EQ(total["cache_write_tokens"].get<double>(), write);
  EXPECT_EQ(total["cache_read_tokens"].get<double>(), read);
  EXPECT_EQ(total["prompt_tokens"].get<double>(), input + write + read);
  EXPECT_NEAR(total["cost_usd"].get<double>(), cost, 1e-12);
  EXPECT_NEAR(total["cache_saved_usd"].get<double>(), saved, 1e-12);

  const auto metrics =
      http_request(home_.port, "GET", "/metrics", "", {{"Authorization", "Bearer gw-key"}});
  EXPECT_EQ(metric_value(
                metrics.body,
                R"(hermes_tokens_total{provider="claude",model="claude-test",kind="cache_read"})"),
            read);

  const auto cli = run_process(kCliBin, {"gateway", "usage"}, {{"HERMES_HOME", home_.home()}});
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_THAT(cli.out,
              HasSubstr("prompt cache: " + std::to_string(static_cast<long>(read)) + " read"));
}

}  // namespace
}  // namespace hermes::testing
