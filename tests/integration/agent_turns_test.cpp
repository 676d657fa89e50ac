// Agent turns end to end: the real daemon against the scriptable fake provider. Each fault
// case checks the HTTP status, error type and hint, how many upstream calls were made and
// with which key, and that the daemon still answers /health afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kBillingHint =
    "Your API balance or quota is exhausted. Check your provider dashboard.";

struct GatewayOptions {
  int retries = 3;
  double request_timeout = 10;
  double restart_drain = 60;
  bool fallback = false;
  std::string key{};
  std::string primary_keys = "[k1, k2]";
  std::string primary_url{};  // default: the fake provider
  double turn_timeout = 0;    // 0: the default
};

class AgentTurns : public ::testing::Test {
 protected:
  void start(const GatewayOptions& o = {}, const std::map<std::string, std::string>& env = {}) {
    write_config(o);
    auto options = home_.env();
    for (const auto& [k, v] : env) options.env[k] = v;
    daemon_ = home_.start(options);
    ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s)) << daemon_->stderr_text();
  }

  void write_config(const GatewayOptions& o) {
    std::string config =
        "model: {provider: primary, default: demo-model}\nproviders:\n"
        "  primary: {base_url: '" +
        (o.primary_url.empty() ? fake_.base_url() : o.primary_url) +
        "', api_keys: " + o.primary_keys +
        "}\n"
        "  backup: {base_url: '" +
        fake_.base_url() + "', api_keys: [b1]}\n";
    if (o.fallback) config += "fallback_providers: [{provider: backup, model: backup-model}]\n";
    config += "agent:\n  api_max_retries: " + std::to_string(o.retries) +
              "\n  request_timeout: " + std::to_string(o.request_timeout) +
              "\n  restart_drain_timeout: " + std::to_string(o.restart_drain) +
              "\n  stop_drain_timeout: 10\n" +
              (o.turn_timeout > 0 ? "  turn_timeout: " + std::to_string(o.turn_timeout) + "\n"
                                  : std::string());
    config += "gateway: {api_server: {host: 127.0.0.1, port: " + std::to_string(home_.port) +
              (o.key.empty() ? "" : ", key: " + o.key) + "}}\n";
    home_.dir.write("config.yaml", config);
  }

  // `timeout` bounds the whole exchange on the client's side.
  HttpExchange chat(const std::string& text, const std::map<std::string, std::string>& headers = {},
                    bool stream = false, std::chrono::milliseconds timeout = 30s) {
    const json body = {{"model", "demo-model"},
                       {"stream", stream},
                       {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
    return http_request(home_.port, "POST", "/v1/chat/completions", body.dump(), headers, timeout);
  }

  static json error_of(const HttpExchange& r) {
    auto body = json::parse(r.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"] : json();
  }

  void TearDown() override {
    if (daemon_) {
      EXPECT_TRUE(home_.healthy()) << "the daemon stopped answering /health";
      daemon_->signal(SIGTERM);
      EXPECT_EQ(daemon_->wait(15s), 0) << daemon_->stderr_text();
      EXPECT_EQ(daemon_->stderr_text().find("sk-secret"), std::string::npos)
          << "a key reached the log";
    }
  }

  FakeProvider fake_;
  GatewayHome home_;
  std::unique_ptr<ChildProcess> daemon_;
};

TEST_F(AgentTurns, AnswerAndContinuedSessionSendsTheHistory) {
  start();
  auto first = chat("first");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(json::parse(first.body)["choices"][0]["message"]["content"], "echo: first");
  const std::string session = first.headers["x-hermes-session-id"];
  ASSERT_THAT(session, StartsWith("hs_"));
  auto second = chat("second", {{"X-Hermes-Session-Id", session}});
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.headers["x-hermes-session-id"], session);
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  std::vector<std::string> sent;
  for (const auto& m : calls[1]["messages"]) sent.push_back(m["content"]);
  EXPECT_THAT(sent, ElementsAre("You are a helpful assistant.", "first", "echo: first", "second"));
  EXPECT_EQ(calls[1]["key"], "k1");
  EXPECT_EQ(calls[0]["conn"], calls[1]["conn"]) << "the provider connection was not reused";
}

TEST_F(AgentTurns, BillingRotatesOnceThroughTheKeysNeverRetriesAKeyAndBenches) {
  start();
  fake_.script(
      "k1", json::array(
                {{{"status", 402},
                  {"body",
                   {{"error", {{"message", "Insufficient Balance, key sk-secret123456789"}}}}}}}));
  fake_.script("k2", json::array({{{"status", 402},
                                   {"body", {{"error", {{"message", "Insufficient Balance"}}}}}}}));
  auto r = chat("pay me");
  EXPECT_EQ(r.status, 402);
  EXPECT_EQ(error_of(r)["type"], "billing");
  // The contract's sentence, then when the gateway tries the provider again.
  EXPECT_EQ(error_of(r)["message"], std::string(kBillingHint) +
                                        " The gateway tries the provider again in about 5 "
                                        "minutes.");
  EXPECT_EQ(r.headers["retry-after"], "300");
  EXPECT_EQ(error_of(r)["code"], 402);
  EXPECT_THAT(fake_.call_keys(), ElementsAre("k1", "k2"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("Insufficient")));  // no raw provider body
  // The next turn does not hammer a provider that just said the money is gone.
  r = chat("again");
  EXPECT_EQ(r.status, 402);
  EXPECT_EQ(error_of(r)["type"], "billing") << "a billing wall must never be called a rate limit";
  EXPECT_THAT(error_of(r)["message"].get<std::string>(),
              HasSubstr("tries the provider again in about 5 minutes"));
  EXPECT_EQ(fake_.calls().size(), 2u);
}

TEST_F(AgentTurns, CooldownsVerbShowsTheBillingWallAndClearingItCallsTheProviderAgain) {
  start({.primary_keys = "[k1]"});
  fake_.script("k1", json::array({{{"status", 402},
                                   {"body", {{"error", {{"message", "Insufficient Balance"}}}}}}}));
  ASSERT_EQ(chat("pay me").status, 402);
  const std::map<std::string, std::string> env{{"XDG_RUNTIME_DIR", home_.runtime()},
                                               {"HERMES_HOME", home_.home()}};
  auto shown = run_process(kCliBin, {"gateway", "cooldowns"}, env);
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("primary key 1: billing"));
  EXPECT_THAT(shown.out, HasSubstr("hermes gateway cooldowns --clear"));
  ASSERT_EQ(chat("still benched").status, 402);
  EXPECT_EQ(fake_.calls().size(), 1u);

  // Topped up: the operator clears, and the next turn reaches the provider (which now answers).
  auto cleared = run_process(kCliBin, {"gateway", "cooldowns", "--clear"}, env);
  EXPECT_EQ(cleared.exit_code, 0) << cleared.err;
  EXPECT_THAT(cleared.out, StartsWith("Cleared "));
  auto r = chat("thanks");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(fake_.calls().size(), 2u);
  shown = run_process(kCliBin, {"gateway", "cooldowns", "--json"}, env);
  EXPECT_EQ(json::parse(shown.out)["provider_cooldowns"], json::array());

  // Nobody there: a clear error and exit 3.
  const auto nobody = run_process(
      kCliBin, {"gateway", "cooldowns"},
      {{"XDG_RUNTIME_DIR", home_.runtime() + "/nowhere"}, {"HERMES_HOME", home_.home()}});
  EXPECT_EQ(nobody.exit_code, 3);
  EXPECT_THAT(nobody.err, HasSubstr("not reachable"));
}

TEST_F(AgentTurns, ANewKeyBySighupEndsTheBillingRestAtOnce) {
  start({.primary_keys = "[k1]"});
  fake_.script("k1", json::array({{{"status", 402},
                                   {"body", {{"error", {{"message", "Insufficient Balance"}}}}}}}));
  ASSERT_EQ(chat("pay me").status, 402);
  ASSERT_EQ(chat("benched").status, 402);
  EXPECT_EQ(fake_.calls().size(), 1u);
  write_config({.primary_keys = "[k2]"});
  daemon_->signal(SIGHUP);
  // Until the reload is applied the bench answers (no provider call); then k2 is used at once.
  HttpExchange r;
  EXPECT_TRUE(wait_until(
      [&] {
        r = chat("with the new key");
        return r.status == 200;
      },
      5s))
      << r.status << r.body;
  EXPECT_EQ(fake_.calls().back()["key"], "k2");
}

TEST_F(AgentTurns, AProviderCannotForgeLogLines) {
  start({.retries = 1, .primary_keys = "[k1]"});
  fake_.script(
      "k1",
      json::array(
          {{{"status", 500},
            {"body", {{"error", {{"message", "boom\n<0>FORGED emergency\r\n<3>FORGED"}}}}}}}));
  EXPECT_EQ(chat("x").status, 502);
  const auto log = daemon_->stderr_text();
  EXPECT_NE(log.find("boom\\n<0>FORGED"), std::string::npos) << log;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    EXPECT_FALSE(line.starts_with("<0>")) << "a forged line: " << line;
    EXPECT_FALSE(line.starts_with("<3>FORGED")) << "a forged line: " << line;
  }
}

TEST_F(AgentTurns, AKeyWithoutAKnownPrefixEchoedByTheProviderNeverReachesTheLog) {
  start({.retries = 1, .primary_keys = "[plainsecretvalue123]"});
  fake_.script("*", json::array({{{"status", 401},
                                  {"body",
                                   {{"error",
                                     {{"message",
                                       "Incorrect API key provided: plainsecretvalue123. You can "
                                       "find your API key at the dashboard."}}}}}}}));
  const auto r = chat("x");
  EXPECT_EQ(error_of(r)["type"], "auth") << r.body;
  EXPECT_EQ(r.body.find("plainsecretvalue123"), std::string::npos) << r.body;
  const auto log = daemon_->stderr_text();
  EXPECT_NE(log.find("Incorrect API key provided: [REDACTED]"), std::string::npos) << log;
  EXPECT_EQ(log.find("plainsecretvalue123"), std::string::npos) << log;
}

TEST_F(AgentTurns, AuthFailureRotatesToTheNextKey) {
  start();
  fake_.script("k1", json::array({{{"status", 401},
                                   {"body",
                                    {{"error",
                                      {{"message", "Incorrect API key provided"},
                                       {"code", "invalid_api_key"}}}}}}}));
  auto r = chat("hello");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(fake_.call_keys(), ElementsAre("k1", "k2"));
}

TEST_F(AgentTurns, RateLimitHonoursRetryAfterAfterRotating) {
  start();
  const json limited = {
      {"status", 429},
      {"headers", {{"retry-after", "1"}}},
      {"body", {{"error", {{"message", "Rate limit reached"}, {"code", "rate_limit_exceeded"}}}}}};
  fake_.script("k1", json::array({limited}));
  fake_.script("k2", json::array({limited}));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = chat("hello");
  const auto took = std::chrono::steady_clock::now() - t0;
  // k1 limited → k2 limited → no key left: wait what they asked (1 s), never less, then
  // use the first key whose cooldown is over.
  EXPECT_EQ(r.status, 200) << r.body;
  const auto keys = fake_.call_keys();
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0], "k1");
  EXPECT_EQ(keys[1], "k2");
  EXPECT_GE(took, 1000ms);
  EXPECT_LT(took, 5000ms);
}

TEST_F(AgentTurns, LongRetryAfterIsNotWaitedOutAndReachesTheClient) {
  start({.primary_keys = "[k1]"});
  fake_.script("k1", json::array({{{"status", 429},
                                   {"headers", {{"retry-after", "600"}}},
                                   {"body", {{"error", {{"message", "Rate limit reached"}}}}}}}));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = chat("hello");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers["retry-after"], "600");
  EXPECT_EQ(error_of(r)["type"], "rate_limit");
  EXPECT_THAT(error_of(r)["message"].get<std::string>(), HasSubstr("resets in about 10 minutes"));
  EXPECT_EQ(fake_.calls().size(), 1u);
}

TEST_F(AgentTurns, TransientServerErrorThenSuccess) {
  start();
  fake_.script("k1",
               json::array({{{"status", 500},
                             {"body", {{"error", {{"message", "The server had an error"}}}}}}}));
  auto r = chat("hello");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(fake_.call_keys(), ElementsAre("k1", "k1"));
}

TEST_F(AgentTurns, OverloadedGivesUpAfterTheRetriesWith503) {
  start({.retries = 2});
  const json overloaded = {
      {"status", 529},
      {"body",
       {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}}};
  fake_.script("k1", json::array({overloaded, overloaded}));
  auto r = chat("hello");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_of(r)["type"], "overloaded");
  EXPECT_EQ(error_of(r)["message"],
            "The provider is temporarily overloaded. Please try again shortly.");
  EXPECT_THAT(fake_.call_keys(), ElementsAre("k1", "k1"));
}

TEST_F(AgentTurns, FallbackAfterBillingAndThePrimaryStaysBenched) {
  start({.fallback = true});
  const json broke = {{"status", 402},
                      {"body", {{"error", {{"message", "Insufficient credits"}}}}}};
  fake_.script("k1", json::array({broke}));
  fake_.script("k2", json::array({broke}));
  auto r = chat("hello");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["model"], "backup-model");
  EXPECT_THAT(fake_.call_keys(), ElementsAre("k1", "k2", "b1"));
  EXPECT_EQ(fake_.calls()[2]["model"], "backup-model");
  r = chat("next turn");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(fake_.call_keys(), ElementsAre("k1", "k2", "b1", "b1"));
}

// Hardening (issue 24, item 10): agent.request_timeout bounded the whole call, so a stream
// still sending was cut ("a 4 s stream with a 4 s timeout ends in Sorry"). It is now the
// limit on silence: to the first byte, then between chunks.
TEST_F(AgentTurns, AStreamThatKeepsSendingOutlivesTheRequestTimeoutAndASilentOneDoesNot) {
  start({.retries = 1, .request_timeout = 1});
  json slow = json::object();  // 3.2 s of answer, a chunk every 400 ms
  slow["stream"] = {"one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight"};
  slow["delta_delay_ms"] = 400;
  json silent = json::object();  // 1.5 s of silence after the first chunk
  silent["stream"] = {"one ", "two"};
  silent["delta_delay_ms"] = 1500;
  fake_.script("k1", json::array({slow, silent}));
  const auto t0 = std::chrono::steady_clock::now();
  const auto whole = chat("slow", {}, true);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(whole.status, 200) << whole.body;
  EXPECT_THAT(whole.body, HasSubstr("eight"));
  EXPECT_THAT(whole.body, HasSubstr("[DONE]"));
  EXPECT_THAT(whole.body, Not(HasSubstr("error"))) << whole.body;
  const auto cut = chat("silent", {}, true);
  EXPECT_THAT(cut.body, HasSubstr("one "));
  EXPECT_THAT(cut.body, Not(HasSubstr("two"))) << "the silence was not cut at 1 s";
  EXPECT_THAT(cut.body, HasSubstr("timeout")) << cut.body;
}

TEST_F(AgentTurns, HangEndsAsTimeoutWithinTheDeadline) {
  start({.retries = 1, .request_timeout = 1});
  fake_.script("k1", json::array({{{"hang", true}}}));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = chat("hello");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(error_of(r)["type"], "timeout");
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 3s);
}

TEST_F(AgentTurns, TurnTimeoutEndsATurnWhateverItsRetriesAndFallbacks) {
  start({.retries = 5, .request_timeout = 30, .fallback = true, .turn_timeout = 1});
  fake_.script("*", json::array({{{"hang", true}}, {{"hang", true}}, {{"hang", true}}}));
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = chat("x");
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(error_of(r)["type"], "timeout") << r.body;
  EXPECT_LT(took, 10s) << "request_timeout (30 s) ran instead of turn_timeout (1 s)";
}

TEST_F(AgentTurns, ResetTruncatedAndMalformedRepliesAreCleanErrors) {
  start({.retries = 1, .primary_keys = "[k1]"});
  fake_.script("k1", json::array({{{"reset", true}}, {{"truncate", true}}, {{"malformed", true}}}));
  auto reset = chat("a");
  EXPECT_EQ(reset.status, 504) << reset.body;
  EXPECT_EQ(error_of(reset)["type"], "timeout");
  auto truncated = chat("b");
  EXPECT_EQ(truncated.status, 504) << truncated.body;
  auto malformed = chat("c");
  EXPECT_EQ(malformed.status, 502) << malformed.body;
  EXPECT_EQ(error_of(malformed)["type"], "server_error");
}

TEST_F(AgentTurns, ContextOverflowTellsTheUserToStartFresh) {
  start();
  fake_.script("k1",
               json::array({{{"status", 400},
                             {"body",
                              {{"error",
                                {{"message", "This model's maximum context length is 8192 tokens."},
                                 {"code", "context_length_exceeded"}}}}}}}));
  auto r = chat("hello");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["type"], "context_overflow");
  EXPECT_THAT(error_of(r)["message"].get<std::string>(), HasSubstr("/new"));
  EXPECT_EQ(fake_.calls().size(), 1u);
}

TEST_F(AgentTurns, WrongBaseUrlAndMissingModel) {
  start({.retries = 1});
  fake_.script("k1", json::array({{{"status", 404},
                                   {"body",
                                    {{"error",
                                      {{"message", "The model `demo-model` does not exist"},
                                       {"code", "model_not_found"}}}}}}}));
  auto r = chat("hello");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(error_of(r)["type"], "model_not_found");
}

TEST_F(AgentTurns, UnreachableProviderSaysSo) {
  start({.retries = 1, .primary_url = "http://127.0.0.1:" + std::to_string(free_port()) + "/v1"});
  auto r = chat("hello");
  EXPECT_EQ(r.status, 504);
  EXPECT_THAT(error_of(r)["message"].get<std::string>(), HasSubstr("could not reach the provider"));
}

TEST_F(AgentTurns, HttpsProviderIsVerifiedAgainstTheCaStoreAndTheHostName) {
  TempDir certs;
  const auto cert = (certs.path() / "cert.pem").string();
  const auto key = (certs.path() / "key.pem").string();
  const auto made = run_process(
      "/usr/bin/openssl",
      {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
       "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  FakeProvider tls(cert, key);
  auto stop = [&] {
    daemon_->signal(SIGTERM);
    ASSERT_EQ(daemon_->wait(10s), 0);
  };

  // Trusted (SSL_CERT_FILE stands in for the system store) and the name matches: answered.
  start({.retries = 1, .primary_url = tls.base_url("localhost")}, {{"SSL_CERT_FILE", cert}});
  auto r = chat("secure");
  ASSERT_EQ(r.status, 200) << r.body << daemon_->stderr_text();
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "echo: secure");
  stop();

  // Trusted certificate, wrong host name: refused, fail fast with guidance.
  start({.retries = 3, .primary_url = tls.base_url("127.0.0.1")}, {{"SSL_CERT_FILE", cert}});
  r = chat("secure");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(error_of(r)["type"], "ssl_cert_verification");
  EXPECT_THAT(error_of(r)["message"].get<std::string>(),
              HasSubstr("TLS certificate could not be verified"));
  stop();

  // Self-signed and not in the CA store: refused too.
  start({.retries = 3, .primary_url = tls.base_url("localhost")});
  r = chat("secure");
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(error_of(r)["type"], "ssl_cert_verification");
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("certificate verify failed"));
}

TEST_F(AgentTurns, StreamedAnswerAndAnInterruptedStreamEndsWithAnErrorEvent) {
  start();
  auto r = chat("stream this please", {}, true);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/event-stream");
  EXPECT_THAT(r.headers["x-hermes-session-id"], StartsWith("hs_"));
  std::string text;
  std::size_t at = 0;
  while ((at = r.body.find("data: {", at)) != std::string::npos) {
    const auto end = r.body.find("\n\n", at);
    auto chunk = json::parse(r.body.substr(at + 6, end - at - 6));
    text += chunk["choices"][0]["delta"].value("content", "");
    at = end;
  }
  EXPECT_EQ(text, "echo: stream this please");
  EXPECT_THAT(r.body, HasSubstr("\"finish_reason\":\"stop\""));
  EXPECT_THAT(r.body, HasSubstr("data: [DONE]\n\n"));

  fake_.script(
      "k1",
      json::array({{{"stream", {"one ", "two ", "three ", "four"}}, {"stream_break_after", 2}}}));
  const auto t0 = std::chrono::steady_clock::now();
  auto broken = chat("x", {}, true);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "the stream hung";
  EXPECT_THAT(broken.body, HasSubstr("\"content\":\"one \""));
  EXPECT_THAT(broken.body, HasSubstr("data: {\"error\""));
  EXPECT_THAT(broken.body, ::testing::Not(HasSubstr("[DONE]")));
  EXPECT_EQ(fake_.calls().size(), 2u) << "switched provider or retried mid-stream";
}

// Reads from `fd` until `done(received)` holds or 10 s pass.
std::string read_until(int fd, const std::function<bool(const std::string&)>& done) {
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  char buffer[4096];
  while (!done(received) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const auto n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  return received;
}

TEST_F(AgentTurns, AStreamedAnswerIsChunkedAndTheConnectionServesTheNextRequest) {
  start();
  const int fd = connect_loopback(home_.port);
  ASSERT_GE(fd, 0);
  const auto send_chat = [&](const std::string& text, bool stream) {
    const json body = {{"model", "demo-model"},
                       {"stream", stream},
                       {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
    const std::string payload = body.dump();
    const std::string request =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: " +
        std::to_string(payload.size()) + "\r\n\r\n" + payload;
    return ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(request.size());
  };
  ASSERT_TRUE(send_chat("first, streamed", true));
  const auto streamed = read_until(
      fd, [](const std::string& r) { return r.find("\r\n0\r\n\r\n") != std::string::npos; });
  EXPECT_THAT(streamed, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_THAT(streamed, HasSubstr("data: [DONE]"));
  ASSERT_THAT(streamed, HasSubstr("\r\n0\r\n\r\n")) << "the chunked body never ended";

  ASSERT_TRUE(send_chat("second, plain", false)) << "the gateway closed the connection";
  const auto plain = read_until(fd, [](const std::string& r) {
    return r.find("echo: second, plain") != std::string::npos && r.find("}}") != std::string::npos;
  });
  ::close(fd);
  EXPECT_THAT(plain, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(plain, HasSubstr("echo: second, plain"));
}

TEST_F(AgentTurns, AStreamLongerThanTheResponseCapArrivesWhole) {
  start({.request_timeout = 120});  // the whole exchange, slow under ASan
  // 60,000 deltas: about 9 MB of SSE from the provider (over the 8 MiB cap), each event small.
  json tokens = json::array();
  for (int i = 0; i < 60000; ++i) tokens.push_back("x");
  fake_.script("k1", json::array({{{"stream", tokens}, {"delta_delay_ms", 0}}}));
  auto r = chat("a long one", {}, true, 120s);  // the client waits as long as the gateway
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("data: [DONE]"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr("\"error\"")));
  std::size_t deltas = 0;
  for (auto at = r.body.find("\"content\":\"x\""); at != std::string::npos;
       at = r.body.find("\"content\":\"x\"", at + 1)) {
    ++deltas;
  }
  EXPECT_EQ(deltas, 60000u);
}

TEST_F(AgentTurns, StreamFailingBeforeAnyTokenIsAPlainHttpError) {
  start({.primary_keys = "[k1]"});
  fake_.script("k1", json::array({{{"status", 402},
                                   {"body", {{"error", {{"message", "Insufficient Balance"}}}}}}}));
  auto r = chat("x", {}, true);
  EXPECT_EQ(r.status, 402);
  EXPECT_THAT(error_of(r)["message"].get<std::string>(), StartsWith(kBillingHint));
}

TEST_F(AgentTurns, BadRequestsGetClear4xx) {
  start();
  auto post = [&](const std::string& body, const std::map<std::string, std::string>& headers = {}) {
    return http_request(home_.port, "POST", "/v1/chat/completions", body, headers);
  };
  auto r = post("{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["type"], "invalid_request_error");
  r = post("{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["param"], "messages");
  r = post(R"({"messages":[{"role":"wizard","content":"x"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_of(r)["param"], "messages[0].role");
  r = post(R"({"messages":[{"role":"user","content":42}]})");
  EXPECT_EQ(r.status, 400);
  r = post(R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})");
  EXPECT_EQ(r.status, 400);
  r = post(R"({"messages":[{"role":"user","content":"x"}]})", {{"X-Hermes-Session-Id", "hs_nope"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_of(r)["code"], "session_not_found");
  r = http_request(home_.port, "GET", "/v1/chat/completions");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(fake_.calls().size(), 0u);
  auto models = http_request(home_.port, "GET", "/v1/models");
  EXPECT_EQ(models.status, 200);
  EXPECT_EQ(json::parse(models.body)["data"][0]["id"], "demo-model");
}

TEST_F(AgentTurns, BearerKeyIsRequiredWhenConfigured) {
  start({.key = "local-secret"});
  EXPECT_EQ(chat("x").status, 401);
  EXPECT_EQ(chat("x", {{"Authorization", "Bearer wrong"}}).status, 401);
  EXPECT_EQ(http_request(home_.port, "GET", "/v1/models").status, 401);
  EXPECT_EQ(chat("x", {{"Authorization", "Bearer local-secret"}}).status, 200);
  EXPECT_EQ(http_request(home_.port, "GET", "/health").status, 200);  // health needs no key
}

TEST_F(AgentTurns, MessagesForABusySessionWaitTheirTurnInOrder) {
  start();
  auto first = chat("one");
  const std::string session = first.headers["x-hermes-session-id"];
  fake_.script("*", json::array({{{"delay_ms", 400}, {"content", "slow answer"}}}));
  HttpExchange slow, queued;
  std::thread a([&] { slow = chat("two", {{"X-Hermes-Session-Id", session}}); });
  std::this_thread::sleep_for(100ms);
  std::thread b([&] { queued = chat("three", {{"X-Hermes-Session-Id", session}}); });
  a.join();
  b.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(queued.status, 200);
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 3u);
  std::vector<std::string> sent;
  for (const auto& m : calls[2]["messages"]) sent.push_back(m["content"]);
  // The third turn ran after the second finished, and saw its answer.
  EXPECT_THAT(sent, ElementsAre("You are a helpful assistant.", "one", "echo: one", "two",
                                "slow answer", "three"));
}

TEST_F(AgentTurns, RestartDrainLetsASlowTurnFinish) {
  start();
  fake_.script("*", json::array({{{"delay_ms", 800}}}));
  HttpExchange r;
  std::thread client([&] { r = chat("slow"); });
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 5s));
  daemon_->signal(SIGUSR1);
  client.join();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_EQ(daemon_->wait(10s), 75);
  daemon_.reset();
}

TEST_F(AgentTurns, DrainBudgetInterruptsATurnWithAClearReplyAndKeepsTheSession) {
  start({.restart_drain = 1});
  fake_.script("*", json::array({{{"hang", true}}}));
  HttpExchange r;
  std::thread client([&] { r = chat("never answered"); });
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 5s));
  daemon_->signal(SIGUSR1);
  client.join();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(error_of(r)["type"], "interrupted");
  EXPECT_THAT(error_of(r)["message"].get<std::string>(),
              HasSubstr("restarted before the model answered"));
  const std::string session = r.headers["x-hermes-session-id"];
  EXPECT_EQ(daemon_->wait(10s), 75);
  daemon_.reset();

  // The next process has the session and the saved message.
  fake_.reset();
  daemon_ = home_.start(home_.env());
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 10s));
  auto again = chat("continue", {{"X-Hermes-Session-Id", session}});
  EXPECT_EQ(again.status, 200) << again.body;
  ASSERT_EQ(fake_.calls().size(), 1u) << fake_.calls().dump() << again.body;
  const auto calls = fake_.calls();  // kept: a range-for over a temporary's member dangles
  std::vector<std::string> sent;
  for (const auto& m : calls[0]["messages"]) sent.push_back(m["content"]);
  EXPECT_THAT(sent, ElementsAre("You are a helpful assistant.", "never answered", "continue"));
}

// The raw request for a chat turn, for tests that hang up on purpose.
std::string raw_chat_request(const std::string& text, bool stream,
                             const std::string& session = "") {
  const json body = {{"model", "demo-model"},
                     {"stream", stream},
                     {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
  const std::string payload = body.dump();
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         (session.empty() ? std::string() : "X-Hermes-Session-Id: " + session + "\r\n") +
         "Content-Type: application/json\r\nContent-Length: " + std::to_string(payload.size()) +
         "\r\n\r\n" + payload;
}

double metric_or_zero(int port, const std::string& series) {
  return read_metric(port, series).value_or(0);
}

TEST_F(AgentTurns, AClientHangingUpMidStreamEndsTheTurnAndKeepsItAsInterrupted) {
  start();
  json tokens = json::array();
  for (int i = 0; i < 400; ++i) tokens.push_back("tok ");  // 20 s at 50 ms a delta
  fake_.script("k1", json::array({{{"stream", tokens}, {"delta_delay_ms", 50}}}));
  const int fd = connect_loopback(home_.port);
  ASSERT_GE(fd, 0);
  const auto request = raw_chat_request("hello", true);
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  const auto seen = read_until(fd, [](const std::string& r) {
    return r.find("\"content\":\"tok \"", r.find("\"content\":\"tok \"") + 1) != std::string::npos;
  });
  ::close(fd);
  const auto header = seen.find("X-Hermes-Session-Id: ");
  ASSERT_NE(header, std::string::npos) << seen;
  const std::string session = seen.substr(header + 21, seen.find("\r\n", header) - header - 21);

  // The provider's stream is dropped at once, not read to its end 20 s later.
  ASSERT_TRUE(wait_until([&] { return fake_.calls()[0].contains("abandoned_at"); }, 5s));
  ASSERT_TRUE(wait_until(
      [&] {
        return metric_or_zero(home_.port, "hermes_turns_total{outcome=\"client_gone\"}") == 1;
      },
      5s));
  EXPECT_EQ(metric_or_zero(home_.port, "hermes_turns_total{outcome=\"ok\"}"), 0)
      << "a cut answer counted as a complete turn";

  // What was said stays in the session: the next turn sends it as the assistant's (cut) reply.
  auto next = chat("go on", {{"X-Hermes-Session-Id", session}});
  ASSERT_EQ(next.status, 200) << next.body;
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  const auto& sent = calls[1]["messages"];
  ASSERT_EQ(sent.size(), 4u) << sent.dump();
  EXPECT_EQ(sent[1]["content"], "hello");
  EXPECT_EQ(sent[2]["role"], "assistant");
  const std::string partial = sent[2]["content"];
  EXPECT_THAT(partial, StartsWith("tok tok "));
  EXPECT_LT(partial.size(), 4u * 400) << "the whole answer was stored, not what was said";
  EXPECT_EQ(sent[3]["content"], "go on");
}

TEST_F(AgentTurns, AClientHangingUpWhileTheProviderIsSilentEndsTheTurnAtOnce) {
  start({.request_timeout = 60});
  fake_.script("k1", json::array({{{"hang", true}}}));
  const int fd = connect_loopback(home_.port);
  ASSERT_GE(fd, 0);
  const auto request = raw_chat_request("are you there", false);
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 5s));
  ::close(fd);
  // Seen within moments, not at request_timeout (60 s): the upstream call is closed, and the
  // turn is neither retried on another key nor counted as a provider failure.
  ASSERT_TRUE(wait_until([&] { return fake_.calls()[0].contains("abandoned_at"); }, 5s));
  ASSERT_TRUE(wait_until(
      [&] {
        return metric_or_zero(home_.port, "hermes_turns_total{outcome=\"client_gone\"}") == 1;
      },
      5s));
  EXPECT_EQ(fake_.calls().size(), 1u);
  EXPECT_EQ(metric_or_zero(home_.port, "hermes_turns_total{outcome=\"failed\"}"), 0);
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("client hung up before its answer was complete"));
}

}  // namespace
}  // namespace hermes::testing
