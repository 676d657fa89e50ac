// Agent tools end to end: the real daemon runs the real MCP servers from npm
// (@modelcontextprotocol/server-everything and server-filesystem, over stdio) for the tool
// calls the scriptable fake provider makes, and sends their results back to it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"
#include "scripted_tools.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

const std::string& kEverything = kEverythingServer;
const std::string kFilesystem = std::string(HERMES_NODE_TESTS) +
                                "/node_modules/@modelcontextprotocol/server-filesystem/dist/"
                                "index.js";

class McpTools : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kEverything)) << "run scripts/setup.sh (npm ci)";
    files_.write("notes.txt", "hello from the notes");
  }

  // Sends `ask` on a gateway whose drain budget is 1 s, lets its tool round run and its next
  // provider call hang, and restarts the gateway (SIGUSR1) meanwhile: what the client got.
  HttpExchange cut_after_a_tool_round(const std::function<HttpExchange()>& ask) {
    start(everything(), "  restart_drain_timeout: 1\n");
    json hang = json::object();
    hang["hang"] = true;
    fake_.script(
        "*",
        {asks_for({tool_call("r1", "mcp_everything_echo", {{"message", "round one"}})}), hang});
    HttpExchange r;
    std::jthread client([&] { r = ask(); });
    // The tool round is done and the second provider call hangs when the restart comes.
    EXPECT_TRUE(wait_until([&] { return fake_.calls().size() == 2; }, 20s));
    daemon_->signal(SIGUSR1);
    client.join();
    return r;
  }

  // `servers`: YAML under mcp_servers:; `agent`: extra lines under agent:.
  void start(const std::string& servers, const std::string& agent = "",
             const std::map<std::string, std::string>& env = {}) {
    home_.dir.write("config.yaml", "model: {provider: primary, default: demo-model" + model_extra_ +
                                       "}\n"
                                       "providers: {primary: {base_url: '" +
                                       fake_.base_url() +
                                       "', api_keys: [sk-provider-secret-1]}}\n"
                                       "tools: {builtin: []}\n"  // the MCP servers' tools alone
                                       "agent:\n  stop_drain_timeout: 10\n" +
                                       agent + "gateway: {api_server: {host: 127.0.0.1, port: " +
                                       std::to_string(home_.port) + "}}\nmcp_servers:\n" + servers);
    auto options = home_.env();
    for (const auto& [k, v] : env) options.env[k] = v;
    daemon_ = home_.start(options);
    ASSERT_TRUE(wait_until([&] { return http_get_status(home_.port, "/health") > 0; }, 60s))
        << daemon_->stderr_text();
  }

  static std::string everything(const std::string& extra = "") {
    return "  everything:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
           kEverything + "']\n    env: {EVERYTHING_TOKEN: sk-mcp-env-secret-9}\n" + extra;
  }
  std::string filesystem() const {
    return "  files:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" + kFilesystem +
           "', '" + files_.path().string() + "']\n";
  }

  HttpExchange chat(const std::string& text, const std::map<std::string, std::string>& headers = {},
                    bool stream = false) {
    const json body = {{"model", "demo-model"},
                       {"stream", stream},
                       {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
    return http_request(home_.port, "POST", "/v1/chat/completions", body.dump(), headers, 60s);
  }

  // POST /v1/responses (stored), continuing the chain ending at `previous` ("" for none).
  HttpExchange respond(const std::string& input, const std::string& previous = "") {
    json body = {{"model", "demo-model"}, {"input", input}, {"store", true}};
    if (!previous.empty()) body["previous_response_id"] = previous;
    return http_request(home_.port, "POST", "/v1/responses", body.dump(), {}, 60s);
  }

  void TearDown() override {
    if (!daemon_) return;
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait(20s), 0) << daemon_->stderr_text();
    const auto log = daemon_->stderr_text();
    EXPECT_EQ(log.find("sk-provider-secret-1"), std::string::npos) << "a key reached the log";
    EXPECT_EQ(log.find("sk-mcp-env-secret-9"), std::string::npos) << "an MCP secret in the log";
  }

  FakeProvider fake_;
  GatewayHome home_;
  TempDir files_;
  std::unique_ptr<ChildProcess> daemon_;
  std::string model_extra_;  // more keys of model: (", context_length: 3000")
};

// Every tool result in `messages` answers a call of an assistant message before it, and every
// call is answered before the next non-tool message: what providers require.
::testing::AssertionResult tool_rounds_intact(const json& messages) {
  std::vector<std::string> open;
  for (const auto& m : messages) {
    if (m["role"] == "tool") {
      const auto id = m["tool_call_id"].get<std::string>();
      const auto it = std::find(open.begin(), open.end(), id);
      if (it == open.end()) return ::testing::AssertionFailure() << "orphan result " << id;
      open.erase(it);
      continue;
    }
    if (!open.empty()) return ::testing::AssertionFailure() << "unanswered call " << open[0];
    if (m.contains("tool_calls")) {
      for (const auto& call : m["tool_calls"]) open.push_back(call["id"].get<std::string>());
    }
  }
  if (!open.empty()) return ::testing::AssertionFailure() << "unanswered call " << open[0];
  return ::testing::AssertionSuccess();
}

TEST_F(McpTools, AToolCallRunsOnTheServerAndItsResultGoesBackToTheModel) {
  start(everything());
  fake_.script("*",
               {asks_for({tool_call("call_1", "mcp_everything_get_sum", {{"a", 2}, {"b", 3}})}),
                says("2 and 3 make 5.")});
  auto r = chat("what is 2+3?");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["choices"][0]["message"]["content"], "2 and 3 make 5.");
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  // The model was offered the server's tools under their gateway names, schemas as given.
  std::vector<std::string> offered;
  for (const auto& t : calls[0]["tools"]) offered.push_back(t["function"]["name"]);
  EXPECT_THAT(offered, ::testing::Contains("mcp_everything_get_sum"));
  EXPECT_THAT(offered, ::testing::Contains("mcp_everything_echo"));
  // The second call carries the assistant's tool call and the tool's answer to it.
  const auto& sent = calls[1]["messages"];
  ASSERT_EQ(sent.size(), 4u) << sent.dump();
  EXPECT_EQ(sent[2]["role"], "assistant");
  EXPECT_EQ(sent[2]["tool_calls"][0]["id"], "call_1");
  EXPECT_EQ(sent[2]["tool_calls"][0]["function"]["name"], "mcp_everything_get_sum");
  EXPECT_EQ(sent[3]["role"], "tool");
  EXPECT_EQ(sent[3]["tool_call_id"], "call_1");
  EXPECT_EQ(sent[3]["content"], "The sum of 2 and 3 is 5.");

  // A continued session sends the stored round back: a valid history, in order.
  fake_.reset();
  auto next = chat("thanks", {{"X-Hermes-Session-Id", r.headers["x-hermes-session-id"]}});
  ASSERT_EQ(next.status, 200) << next.body;
  const auto again = fake_.calls();
  ASSERT_EQ(again.size(), 1u);
  std::vector<std::string> roles;
  for (const auto& m : again[0]["messages"]) roles.push_back(m["role"]);
  EXPECT_THAT(roles,
              ::testing::ElementsAre("system", "user", "assistant", "tool", "assistant", "user"));
  EXPECT_EQ(again[0]["messages"][3]["tool_call_id"], "call_1");
}

TEST_F(McpTools, TheServerGetsOnlyItsOwnEnvironmentNeverTheGatewaysKeys) {
  start(everything(), "", {{"OPENAI_API_KEY", "sk-inherited-by-nobody"}});
  // Tool names are provider-safe: the '-' of get-env is offered as '_'.
  fake_.script(
      "*", {asks_for({tool_call("c", "mcp_everything_get_env", json::object())}), says("done")});
  ASSERT_EQ(chat("show me the environment").status, 200);
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  const std::string env = calls[1]["messages"][3]["content"];
  EXPECT_THAT(env, HasSubstr("EVERYTHING_TOKEN")) << "the configured env reaches the server";
  EXPECT_THAT(env, HasSubstr("PATH"));
  EXPECT_THAT(env, ::testing::Not(HasSubstr("sk-inherited-by-nobody"))) << env;
  EXPECT_THAT(env, ::testing::Not(HasSubstr("HERMES_HOME"))) << env;
}

TEST_F(McpTools, FilesystemReadsInsideItsRootAndRefusesOutside) {
  start(filesystem());
  const std::string inside = (files_.path() / "notes.txt").string();
  const json read = tool_call("r", "mcp_files_read_text_file", {{"path", inside}});
  const json write = tool_call("w", "mcp_files_write_file",
                               {{"path", "/etc/hermes-should-not-exist"}, {"content", "x"}});
  const json allowed = tool_call(
      "a", "mcp_files_write_file",
      {{"path", (files_.path() / "reply.txt").string()}, {"content", "written by the model"}});
  fake_.script("*", {asks_for({read, write, allowed}), says("read it")});
  auto r = chat("read my notes");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  const auto& sent = calls[1]["messages"];
  ASSERT_EQ(sent.size(), 6u) << sent.dump();  // the calls of one answer, results in order
  EXPECT_EQ(sent[3]["tool_call_id"], "r");
  EXPECT_THAT(sent[3]["content"].get<std::string>(), HasSubstr("hello from the notes"));
  EXPECT_EQ(sent[4]["tool_call_id"], "w");
  EXPECT_THAT(sent[4]["content"].get<std::string>(), ::testing::StartsWith("Error: "));
  EXPECT_FALSE(std::filesystem::exists("/etc/hermes-should-not-exist"));
  EXPECT_EQ(sent[5]["tool_call_id"], "a");
  std::ifstream written(files_.path() / "reply.txt");
  std::string text((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "written by the model") << sent[5].dump();
}

TEST_F(McpTools, AServerThatCannotStartIsReportedAndTheOthersWork) {
  start(everything() + "  broken:\n    command: /nonexistent/mcp-server\n");
  std::string health;
  ASSERT_TRUE(wait_until(
      [&] {
        http_get_status(home_.port, "/health", &health);
        return health.find("\"broken\"") != std::string::npos;
      },
      10s))
      << health;
  const auto body = json::parse(health);
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_THAT(body["mcp"]["broken"].get<std::string>(), HasSubstr("/nonexistent/mcp-server"));
  EXPECT_EQ(body["mcp"].size(), 1u) << "the working server is not reported";
  const auto metrics = http_request(home_.port, "GET", "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("hermes_mcp_server_up{server=\"broken\"} 0"));
  EXPECT_THAT(metrics, HasSubstr("hermes_mcp_server_up{server=\"everything\"} 1"));
  fake_.script("*", {asks_for({tool_call("e", "mcp_everything_echo", {{"message", "still here"}})}),
                     says("ok")});
  ASSERT_EQ(chat("echo").status, 200);
  EXPECT_THAT(fake_.calls()[1]["messages"][3]["content"].get<std::string>(),
              HasSubstr("still here"));
}

TEST_F(McpTools, AModelThatAsksForToolsForeverGetsExactlyTheIterationCap) {
  start(everything(), "  max_tool_iterations: 3\n");
  json forever = json::array();
  for (int i = 0; i < 6; ++i) {
    forever.push_back(
        asks_for({tool_call("c" + std::to_string(i), "mcp_everything_echo", {{"message", "x"}})}));
  }
  fake_.script("*", forever);
  auto r = chat("loop");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(fake_.calls().size(), 3u);
  EXPECT_THAT(json::parse(r.body)["choices"][0]["message"]["content"].get<std::string>(),
              HasSubstr("max_tool_iterations"));
}

TEST_F(McpTools, AStreamedTurnAssemblesTheToolCallAndStreamsTheAnswer) {
  start(everything());
  json streamed = json::object();
  streamed["stream"] = {"forty", " two"};
  fake_.script("*", {asks_for({tool_call("s1", "mcp_everything_get_sum", {{"a", 40}, {"b", 2}})}),
                     streamed});
  auto r = chat("sum, streamed", {}, true);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, HasSubstr("\"content\":\"forty\""));
  EXPECT_THAT(r.body, HasSubstr("data: [DONE]"));
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_TRUE(calls[0]["stream"]);
  // Streamed in pieces by the provider, assembled whole by the gateway.
  EXPECT_EQ(calls[1]["messages"][2]["tool_calls"][0]["function"]["arguments"],
            json({{"a", 40}, {"b", 2}}).dump());
  EXPECT_EQ(calls[1]["messages"][3]["content"], "The sum of 40 and 2 is 42.");
}

TEST_F(McpTools, ASlowToolIsCutByItsTimeoutAndTheModelIsTold) {
  start(everything("    timeout: 1\n"));
  fake_.script("*", {asks_for({tool_call("slow", "mcp_everything_trigger_long_running_operation",
                                         {{"duration", 20}, {"steps", 4}})}),
                     says("it took too long")});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = chat("run the long thing");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "the tool timeout was not applied";
  const std::string result = fake_.calls()[1]["messages"][3]["content"];
  EXPECT_THAT(result, HasSubstr("did not answer within 1 s"));
}

double metric(int port, const std::string& series) {
  return read_metric(port, series).value_or(-1);
}

json slow_operation() {
  return asks_for({tool_call("slow", "mcp_everything_trigger_long_running_operation",
                             {{"duration", 30}, {"steps", 3}})});
}

TEST_F(McpTools, AClientHangingUpCancelsTheRunningToolAtOnce) {
  start(everything());
  fake_.script("*", {slow_operation(), says("never asked for")});
  const int fd = connect_loopback(home_.port);
  ASSERT_GE(fd, 0);
  const json body = {{"model", "demo-model"},
                     {"messages", json::array({{{"role", "user"}, {"content", "go slow"}}})}};
  const std::string request =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.dump().size()) + "\r\n\r\n" + body.dump();
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(
      wait_until([&] { return metric(home_.port, "hermes_tool_calls_running") == 1; }, 10s));
  const auto hung_up = std::chrono::steady_clock::now();
  ::close(fd);
  ASSERT_TRUE(wait_until([&] { return metric(home_.port, "hermes_tool_calls_running") == 0; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - hung_up, 1500ms) << "the tool was not cancelled";
  ASSERT_TRUE(wait_until(
      [&] { return metric(home_.port, "hermes_turns_total{outcome=\"client_gone\"}") == 1; }, 5s));
  EXPECT_EQ(fake_.calls().size(), 1u) << "the provider was called again for a client that left";
}

TEST_F(McpTools, TheDrainCancelsARunningToolAndTheServersStop) {
  start(everything(), "  restart_drain_timeout: 1\n");
  fake_.script("*", {slow_operation(), says("too late")});
  HttpExchange r;
  std::thread client([&] { r = chat("slow during a restart"); });
  ASSERT_TRUE(
      wait_until([&] { return metric(home_.port, "hermes_tool_calls_running") == 1; }, 10s));
  const auto servers = child_pids(daemon_->pid());
  ASSERT_FALSE(servers.empty());
  daemon_->signal(SIGUSR1);
  client.join();
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(daemon_->wait(15s), 75) << daemon_->stderr_text();
  for (const int pid : servers) {
    EXPECT_NE(::kill(pid, 0), 0) << "MCP server " << pid << " outlived the gateway";
  }
  daemon_.reset();
}

TEST_F(McpTools, AServerThatDiesMidCallFailsThatCallIsRestartedAndWorksAgain) {
  start(everything());
  fake_.script("*", {slow_operation(), says("it broke")});
  HttpExchange r;
  std::thread client([&] { r = chat("slow, then crash"); });
  ASSERT_TRUE(
      wait_until([&] { return metric(home_.port, "hermes_tool_calls_running") == 1; }, 10s));
  for (const int pid : child_pids(daemon_->pid())) ::kill(pid, SIGKILL);
  client.join();
  ASSERT_EQ(r.status, 200) << r.body;
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u);
  ASSERT_TRUE(calls[1]["messages"][3]["content"].is_string()) << calls.dump();
  EXPECT_THAT(calls[1]["messages"][3]["content"].get<std::string>(),
              HasSubstr("killed by signal 9"));
  // Restarted with backoff; the next turn's tool call works.
  ASSERT_TRUE(wait_until(
      [&] { return metric(home_.port, "hermes_mcp_server_up{server=\"everything\"}") == 1; }, 10s));
  fake_.reset();
  fake_.script(
      "*", {asks_for({tool_call("e", "mcp_everything_echo", {{"message", "back"}})}), says("ok")});
  ASSERT_EQ(chat("again").status, 200);
  const auto after = fake_.calls();
  ASSERT_EQ(after.size(), 2u) << after.dump();
  EXPECT_THAT(after[1]["messages"][3]["content"].get<std::string>(), HasSubstr("back"));
}

// The daemon's MCP server processes, by the script each runs.
std::map<std::string, int> server_pids(int daemon) {
  std::map<std::string, int> out;
  for (const int pid : child_pids(daemon)) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (cmdline.find("server-everything") != std::string::npos) out["everything"] = pid;
    if (cmdline.find("server-filesystem") != std::string::npos) out["filesystem"] = pid;
  }
  return out;
}

TEST_F(McpTools, SighupStartsAddedServersStopsRemovedOnesAndKeepsTheRest) {
  start(everything() + filesystem());
  ASSERT_TRUE(wait_until([&] { return server_pids(daemon_->pid()).size() == 2; }, 10s));
  const auto before = server_pids(daemon_->pid());
  // `files` goes, `notes` (the same program on another folder) comes, `everything` stays.
  TempDir notes;
  const std::string config = std::string("model: {provider: primary, default: demo-model}\n") +
                             "providers: {primary: {base_url: '" + fake_.base_url() +
                             "', api_keys: [sk-provider-secret-1]}}\n"
                             "gateway: {api_server: {host: 127.0.0.1, port: " +
                             std::to_string(home_.port) + "}}\nmcp_servers:\n" + everything() +
                             "  notes:\n    command: " + HERMES_NODE + "\n    args: ['" +
                             kFilesystem + "', '" + notes.path().string() + "']\n";
  home_.dir.write("config.yaml", config);
  daemon_->signal(SIGHUP);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto metrics = http_request(home_.port, "GET", "/metrics").body;
        return metrics.find("hermes_mcp_server_up{server=\"notes\"} 1") != std::string::npos &&
               metrics.find("server=\"files\"") == std::string::npos;
      },
      15s))
      << http_request(home_.port, "GET", "/metrics").body;
  const auto after = server_pids(daemon_->pid());
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after.at("everything"), before.at("everything")) << "an untouched server restarted";
  EXPECT_NE(after.at("filesystem"), before.at("filesystem"));
  EXPECT_NE(::kill(before.at("filesystem"), 0), 0) << "the removed server still runs";
  fake_.script("*",
               {asks_for({tool_call("l", "mcp_notes_list_allowed_directories", json::object())}),
                says("ok")});
  ASSERT_EQ(chat("where?").status, 200);
  EXPECT_THAT(fake_.calls()[1]["messages"][3]["content"].get<std::string>(),
              HasSubstr(notes.path().filename().string()));
}

TEST_F(McpTools, StreamableHttpServerAnswersToolCallsWithItsSessionAndHeaders) {
  const int port = free_port();
  ChildProcess::Options options;
  options.env["PORT"] = std::to_string(port);
  ChildProcess remote(HERMES_NODE, {kEverything, "streamableHttp"}, options);
  ASSERT_TRUE(wait_until(
      [&] {
        const int fd = connect_loopback(port);
        if (fd >= 0) ::close(fd);
        return fd >= 0;
      },
      20s))
      << remote.stderr_text();
  start("  remote:\n    url: http://127.0.0.1:" + std::to_string(port) +
        "/mcp\n    headers: {Authorization: 'Bearer sk-mcp-header-secret-7'}\n");
  fake_.script("*", {asks_for({tool_call("h", "mcp_remote_get_sum", {{"a", 20}, {"b", 22}})}),
                     says("42 it is")});
  auto r = chat("sum over http");
  ASSERT_EQ(r.status, 200) << r.body << daemon_->stderr_text();
  const auto calls = fake_.calls();
  ASSERT_EQ(calls.size(), 2u) << daemon_->stderr_text();
  EXPECT_EQ(calls[1]["messages"][3]["content"], "The sum of 20 and 22 is 42.");
  // One session: initialize set it, every later request carried it.
  EXPECT_THAT(remote.stderr_text(), HasSubstr("Session initialized with ID"));
  EXPECT_EQ(daemon_->stderr_text().find("sk-mcp-header-secret-7"), std::string::npos);
}

TEST_F(McpTools, AnHttpServerStreamingThousandsOfRequestsGetsItsAnswersAFewAtATime) {
  // Its tools/list answer streams 2,000 pings before the response; each answer is held 50 ms.
  const int port = free_port();
  ChildProcess::Options options;
  options.env["PORT"] = std::to_string(port);
  options.env["PINGS"] = "2000";
  ChildProcess remote(HERMES_NODE, {std::string(HERMES_NODE_TESTS) + "/pinging_http_server.mjs"},
                      options);
  ASSERT_TRUE(
      wait_until([&] { return remote.stderr_text().find("listening") != std::string::npos; }, 10s));
  start("  pinging:\n    url: http://127.0.0.1:" + std::to_string(port) + "/mcp\n");
  const auto stats = [&] { return json::parse(http_request(port, "GET", "/stats").body); };
  ASSERT_TRUE(wait_until([&] { return stats()["answers"].get<int>() >= 100; }, 20s))
      << daemon_->stderr_text();
  // Before: one connection per answer, 2,000 at once (13,923 sockets in the red-team run).
  EXPECT_LE(stats()["maxInFlight"].get<int>(), 4);
  ASSERT_EQ(http_request(home_.port, "GET", "/health").status, 200) << daemon_->stderr_text();
  RecordProperty("max_in_flight", std::to_string(stats()["maxInFlight"].get<int>()));
}

TEST_F(McpTools, AnImageResultBecomesANoteNotBase64ForTheModel) {
  start(everything());
  fake_.script("*", {asks_for({tool_call("i", "mcp_everything_get_tiny_image", json::object())}),
                     says("an image")});
  ASSERT_EQ(chat("show me").status, 200);
  const std::string result = fake_.calls()[1]["messages"][3]["content"];
  EXPECT_THAT(result, HasSubstr("[image (image/png"));
  EXPECT_THAT(result, HasSubstr("not shown"));
  EXPECT_LT(result.size(), 2000u) << "the image's base64 went to the model";
}

TEST_F(McpTools, HermesMcpListAsksTheGatewayAndMcpTestStartsOneServerAlone) {
  start(everything() + "  broken:\n    command: /nonexistent/mcp-server\n");
  const std::map<std::string, std::string> env = {{"HERMES_HOME", home_.home()},
                                                  {"XDG_RUNTIME_DIR", home_.runtime()}};
  auto listed = run_process(kCliBin, {"mcp", "list", "--json"}, env);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto view = json::parse(listed.out);
  EXPECT_EQ(view["source"], "gateway");
  std::map<std::string, std::string> states;
  for (const auto& s : view["mcp_servers"]) states[s["name"]] = s["state"];
  EXPECT_EQ(states["everything"], "ready");
  EXPECT_EQ(states["broken"], "error");

  auto tested = run_process(kCliBin, {"mcp", "test", "everything"}, env);
  EXPECT_EQ(tested.exit_code, 0) << tested.err;
  EXPECT_THAT(tested.out, HasSubstr("mcp everything: ready in"));
  EXPECT_THAT(tested.out, HasSubstr("mcp_everything_get_sum"));
  auto failed = run_process(kCliBin, {"mcp", "test", "broken"}, env);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.err, HasSubstr("command '/nonexistent/mcp-server' not found"));
  auto unknown = run_process(kCliBin, {"mcp", "test", "nope"}, env);
  EXPECT_EQ(unknown.exit_code, 78);
  EXPECT_THAT(unknown.err, HasSubstr("no MCP server 'nope'"));
}

TEST_F(McpTools, ATurnTheRestartCutAfterAToolRoundIsFinishedByTheNextProcess) {
  HttpExchange r = cut_after_a_tool_round([this] { return chat("finish me later"); });
  EXPECT_EQ(r.status, 503) << r.body;  // the waiting client is told, as before
  const std::string session = r.headers["x-hermes-session-id"];
  ASSERT_EQ(daemon_->wait(15s), 75) << daemon_->stderr_text();

  fake_.reset();
  fake_.script("*", json::array({says("finished after the restart")}));
  daemon_ = home_.start(home_.env());
  ASSERT_TRUE(wait_until([&] { return fake_.calls().size() == 1; }, 30s)) << daemon_->stderr_text();
  const auto resumed = fake_.calls();
  const auto& sent = resumed[0]["messages"];
  ASSERT_EQ(sent.size(), 4u) << sent.dump();  // the round is sent on, not run again
  EXPECT_EQ(sent[1]["content"], "finish me later");
  EXPECT_EQ(sent[2]["tool_calls"][0]["id"], "r1");
  EXPECT_EQ(sent[3]["content"], "Echo: round one");
  EXPECT_EQ(daemon_->stderr_text().find("tool mcp_everything_echo"), std::string::npos)
      << "the tool ran again";
  // The session holds the resumed answer.
  ASSERT_TRUE(wait_until(
      [&] { return daemon_->stderr_text().find("resumed turn answered") != std::string::npos; },
      10s));
  fake_.reset();
  auto next = chat("and now?", {{"X-Hermes-Session-Id", session}});
  ASSERT_EQ(next.status, 200) << next.body;
  const auto after = fake_.calls();
  const auto& history = after[0]["messages"];
  ASSERT_EQ(history.size(), 6u) << history.dump();
  EXPECT_EQ(history[4]["content"], "finished after the restart");
}

TEST_F(McpTools, AResponsesTurnTheRestartCutAfterAToolRoundIsFinishedByTheNextProcess) {
  const HttpExchange r = cut_after_a_tool_round([this] { return respond("finish me later"); });
  // The waiting client gets the response as it stands: the next process finishes it.
  ASSERT_EQ(r.status, 200) << r.body;
  const auto cut = json::parse(r.body);
  EXPECT_EQ(cut["status"], "in_progress") << r.body;
  EXPECT_TRUE(cut["output"].empty()) << r.body;
  const std::string id = cut["id"];
  ASSERT_EQ(daemon_->wait(15s), 75) << daemon_->stderr_text();
  ASSERT_NE(daemon_->stderr_text().find("tool mcp_everything_echo"), std::string::npos)
      << "the first process ran the tool";

  fake_.reset();
  fake_.script("*", json::array({says("finished after the restart")}));
  daemon_ = home_.start(home_.env());
  json stored;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto got = http_request(home_.port, "GET", "/v1/responses/" + id);
        if (got.status != 200) return false;
        stored = json::parse(got.body, nullptr, false);
        return stored.is_object() && stored["status"] == "completed";
      },
      30s))
      << stored.dump() << daemon_->stderr_text();
  EXPECT_EQ(stored["id"], id);
  ASSERT_EQ(stored["output"].size(), 1u) << stored.dump();
  EXPECT_EQ(stored["output"][0]["content"][0]["text"], "finished after the restart");
  const auto resumed = fake_.calls();
  ASSERT_EQ(resumed.size(), 1u) << resumed.dump();
  const auto& sent = resumed[0]["messages"];
  ASSERT_EQ(sent.size(), 4u) << sent.dump();  // the round is sent on, not run again
  EXPECT_EQ(sent[0]["role"], "system");
  EXPECT_EQ(sent[1]["content"], "finish me later");
  EXPECT_EQ(sent[2]["tool_calls"][0]["id"], "r1");
  EXPECT_EQ(sent[3]["tool_call_id"], "r1");
  EXPECT_EQ(sent[3]["content"], "Echo: round one");
  EXPECT_EQ(daemon_->stderr_text().find("tool mcp_everything_echo"), std::string::npos)
      << "the tool ran again";

  // The chain goes on from the finished response: its round and its answer are history.
  fake_.reset();
  auto next = respond("and now?", id);
  ASSERT_EQ(next.status, 200) << next.body;
  const auto after = fake_.calls();
  ASSERT_EQ(after.size(), 1u) << after.dump();
  const auto& history = after[0]["messages"];
  ASSERT_EQ(history.size(), 6u) << history.dump();
  EXPECT_EQ(history[2]["tool_calls"][0]["id"], "r1");
  EXPECT_EQ(history[3]["content"], "Echo: round one");
  EXPECT_EQ(history[4]["content"], "finished after the restart");
  EXPECT_EQ(history[5]["content"], "and now?");
}

TEST_F(McpTools, AToolThatNeedsApprovalIsNotRunUnattendedUnlessTheConfigAllowsIt) {
  start(everything("    tools: {require_approval: [echo]}\n"));
  fake_.script("*", {asks_for({tool_call("a", "mcp_everything_echo", {{"message", "may I?"}})}),
                     says("not allowed")});
  ASSERT_EQ(chat("echo, please").status, 200);
  EXPECT_THAT(fake_.calls()[1]["messages"][3]["content"].get<std::string>(),
              HasSubstr("did not approve"));
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait(20s), 0);
  daemon_.reset();

  fake_.reset();
  start(everything("    tools: {require_approval: [echo]}\n") + "approvals: {unattended: allow}\n");
  fake_.script("*", {asks_for({tool_call("b", "mcp_everything_echo", {{"message", "allowed"}})}),
                     says("ran")});
  ASSERT_EQ(chat("echo, please").status, 200);
  EXPECT_EQ(fake_.calls()[1]["messages"][3]["content"], "Echo: allowed");
}

TEST_F(McpTools, AServersLogMessagesReachTheGatewaysLogUnderItsName) {
  start(everything());
  fake_.script(
      "*", {asks_for({tool_call("l", "mcp_everything_toggle_simulated_logging", json::object())}),
            says("logging")});
  ASSERT_EQ(chat("turn on the logs").status, 200);
  // The server sends one at once, then one every 5 s, each at a random level; all but debug
  // (1 in 8) show in the log without -v.
  EXPECT_TRUE(wait_until(
      [&] {
        const auto log = daemon_->stderr_text();
        for (const char* level : {"Info-level", "Notice-level", "Warning-level", "Error-level",
                                  "Critical-level", "Alert level", "Emergency-level"}) {
          if (log.find(std::string("mcp everything: ") + level) != std::string::npos) return true;
        }
        return false;
      },
      16s))
      << daemon_->stderr_text();
}

TEST_F(McpTools, CompactionKeepsEveryToolCallWithItsResults) {
  start(everything());
  const std::string big(1500, 'e');
  auto round = [&](const std::string& id) {
    fake_.script("*", {asks_for({tool_call(id, "mcp_everything_echo", {{"message", big}})}),
                       says("done " + id)});
  };
  round("first");
  auto r = chat("turn 1");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string session = r.headers["x-hermes-session-id"];
  // A window just big enough for the tool schemas and a round or two: compaction must come.
  const auto schema_chars = fake_.calls()[0]["tools"].dump().size();
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait(20s), 0);
  model_extra_ = ", context_length: " + std::to_string(schema_chars / 4 + 2200);
  start(everything(), "compression: {threshold: 0.7, protect_last_n: 2}\n");
  fake_.limit_context(0, 60);  // summaries shorter than what they read
  for (int turn = 2; turn <= 5; ++turn) {
    round("call" + std::to_string(turn));
    r = chat("turn " + std::to_string(turn), {{"X-Hermes-Session-Id", session}});
    ASSERT_EQ(r.status, 200) << "turn " << turn << ": " << r.body << daemon_->stderr_text();
  }
  int summaries = 0;
  for (const auto& call : fake_.calls()) {
    EXPECT_TRUE(tool_rounds_intact(call["messages"])) << call["messages"].dump();
    const bool summary = call["messages"][0]["content"].get<std::string>().find(
                             "condense conversations") != std::string::npos;
    if (summary) {
      ++summaries;
      EXPECT_FALSE(call.contains("tools") && !call["tools"].is_null())
          << "summaries offer no tools";
    }
  }
  EXPECT_GE(summaries, 1) << daemon_->stderr_text();
}

// Hardening (issue 24, item 7): a server offering 10,000 tools made every turn fail with
// context_length_exceeded blaming the user while /health said ok. Now the first 128 are
// offered (tools.max_tools), status and /health say so, and where the schemas still overflow
// the context the error says how much of it they are.
TEST_F(McpTools, AServerWithTenThousandToolsIsCappedAndSaysSo) {
  const std::string many = "  many:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
                           std::string(HERMES_NODE_TESTS) + "/many_tools_server.mjs', '10000']\n";
  start(many);
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 30s)) << daemon_->stderr_text();
  auto r = chat("hello");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(fake_.calls().back()["tools"].size(), 128u);
  std::string health;
  http_get_status(home_.port, "/health", &health);
  EXPECT_THAT(health, HasSubstr("offers 10000 tools; only the first 128 are used"));
  EXPECT_THAT(home_.runtime_status(), HasSubstr("offers 10000 tools"));
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait(20s), 0);

  // Allowed all of them on a small model: the 400 says the schemas are the bulk.
  start("  many:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
        std::string(HERMES_NODE_TESTS) + "/many_tools_server.mjs', '10000']\n" +
        "    tools: {max_tools: 10000}\n");
  ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 30s)) << daemon_->stderr_text();
  const auto calls = fake_.calls().size();
  r = chat("hello");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.body, HasSubstr("of them the schemas of the gateway's tools"));
  EXPECT_EQ(fake_.calls().size(), calls) << "refused before any provider call";
}

// Hardening (issue 24, item 3): a server flooding stderr, log notifications and
// tools/list_changed wrote 772 MB in 10 s and re-listed its tools 276 times in 40 s. Its lines
// now pass a token bucket (a burst of 50, then 10 a second) with a summary of what was held
// back, and a storm of list_changed is one re-list at a time, at most one a second.
TEST_F(McpTools, AFloodingServerIsRateLimitedInTheLogAndItsListChangedStormCoalesced) {
  start("  chatty:\n    command: " + std::string(HERMES_NODE) + "\n    args: ['" +
        std::string(HERMES_NODE_TESTS) + "/chatty_server.mjs', '3']\n");
  const auto began = std::chrono::steady_clock::now();
  fake_.script("*", json::array({says("still answering")}));
  const auto r = chat("hello during the flood");
  EXPECT_EQ(r.status, 200) << r.body;
  ASSERT_TRUE(wait_until(
      [&] { return daemon_->stderr_text().find("flood done") != std::string::npos; }, 30s))
      << daemon_->stderr_text().substr(0, 4000);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const auto log = daemon_->stderr_text();
  std::size_t lines = 0, bytes = 0, relists = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find("mcp chatty: ") != std::string::npos) {
      ++lines;
      bytes += line.size() + 1;
    }
    if (line.find("mcp chatty: tool list changed") != std::string::npos) ++relists;
  }
  EXPECT_THAT(log, HasSubstr("lines from server chatty suppressed"));
  EXPECT_LT(static_cast<double>(lines), 50 + 10 * took + 60)
      << "lines from the flooding server in the log";
  EXPECT_LE(static_cast<double>(relists), took + 2) << "tools re-listed per tools/list_changed";
  // What the server sent, in its own words: tens of thousands of lines and changes.
  const auto done = log.substr(log.find("flood done"));
  RecordProperty("log_lines", std::to_string(lines));
  RecordProperty("log_bytes_per_second",
                 std::to_string(static_cast<long>(static_cast<double>(bytes) / took)));
  RecordProperty("relists", std::to_string(relists));
  RecordProperty("server_sent", done.substr(0, done.find('\n')));
}

// Hardening (issue 24, item 10): agent.turn_timeout bounded the whole turn, so one that kept
// making tool progress was cut. It is now a limit on inactivity (an answer, a streamed byte, a
// tool round's results move it on), under agent.turn_hard_timeout, which cuts it regardless.
TEST_F(McpTools, ATurnMakingToolProgressOutlivesTheTurnTimeoutButNotItsHardCap) {
  const auto round = [](const std::string& id) {
    return asks_for({tool_call(id, "mcp_everything_trigger_long_running_operation",
                               {{"duration", 1}, {"steps", 1}})});
  };
  const auto three_rounds = [&] {
    fake_.reset();
    fake_.script("*", {round("r1"), round("r2"), round("r3"), says("done after three rounds")});
  };
  start(everything(), "  turn_timeout: 1.5\n  turn_hard_timeout: 30\n");
  three_rounds();
  const auto t0 = std::chrono::steady_clock::now();
  const auto going_on = chat("three long rounds");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 3s) << "three 1 s tool rounds";
  EXPECT_EQ(going_on.status, 200) << going_on.body;
  EXPECT_THAT(going_on.body, HasSubstr("done after three rounds"));
  daemon_->signal(SIGTERM);
  ASSERT_EQ(daemon_->wait(20s), 0);

  start(everything(), "  turn_timeout: 1.5\n  turn_hard_timeout: 2\n");
  three_rounds();
  const auto capped = chat("three long rounds");
  EXPECT_EQ(capped.status, 504) << capped.body;
  EXPECT_THAT(daemon_->stderr_text(), HasSubstr("agent.turn_hard_timeout"));
}

}  // namespace
}  // namespace hermes::testing
