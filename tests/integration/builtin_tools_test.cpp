// The agent's built-in tools end to end: the real daemon runs the terminal's commands in the
// kernel sandbox (hermes-sandbox: Landlock, seccomp, namespaces, rlimits), the file tools in
// the workspace, web_fetch, memory and session_search, for the tool calls the scriptable fake
// provider makes; the Telegram emulator stands for two users.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon_fixture.hpp"
#include "fake_provider.hpp"
#include "scripted_tools.hpp"
#include "telegram_emulator.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

json terminal(const std::string& id, const std::string& command) {
  return tool_call(id, "terminal", {{"command", command}});
}

// Whether a process whose command line holds `needle` is alive (zombies aside).
bool process_alive(const std::string& needle) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream cmdline(entry.path() / "cmdline", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(cmdline)), {});
    std::replace(text.begin(), text.end(), '\0', ' ');
    if (text.find(needle) == std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto state = line.find(") ");
    if (state != std::string::npos && line[state + 2] != 'Z') return true;
  }
  return false;
}

// A one-request-at-a-time HTTP server on `address`:port answering every request with `reply`
// (a whole HTTP response); counts the connections it took.
class TinyHttpServer {
 public:
  TinyHttpServer(const std::string& address, std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    ::inet_pton(AF_INET, address.c_str(), &at.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&at), sizeof at);
    ::listen(fd_, 8);
    socklen_t size = sizeof at;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&at), &size);
    port_ = ntohs(at.sin_port);
    thread_ = std::jthread([this](std::stop_token stop) {
      while (!stop.stop_requested()) {
        const int client = ::accept(fd_, nullptr, nullptr);
        if (client < 0) return;
        ++connections_;
        char buffer[4096];
        (void)::read(client, buffer, sizeof buffer);
        (void)::write(client, reply_.data(), reply_.size());
        ::close(client);
      }
    });
  }
  ~TinyHttpServer() {
    thread_.request_stop();
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  std::string reply_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::jthread thread_;
};

class BuiltinTools : public ::testing::Test {
 protected:
  // `tools`: the YAML under tools: (the rest are defaults); `extra`: more top-level YAML.
  void start(const std::string& tools = "{}", const std::string& extra = "") {
    home_.dir.write(".env", "HERMES_TEST_MARKER=sk-env-marker-77\n");
    home_.dir.write("config.yaml",
                    "model: {provider: primary, default: demo-model}\n"
                    "providers: {primary: {base_url: '" +
                        fake_.base_url() +
                        "', api_keys: [sk-secret-k1]}}\n"
                        "agent: {api_max_retries: 1}\n"
                        "gateway:\n  api_server: {host: 127.0.0.1, port: " +
                        std::to_string(home_.port) +
                        "}\n"
                        "  telegram: {enabled: true, streaming: false, allow_all_users: true, "
                        "api_base: '" +
                        emulator_.api_base() + "', bot_token: '" + TelegramEmulator::kToken +
                        "'}\n"
                        "tools: " +
                        tools + "\n" + extra);
    auto options = home_.env();
    for (const auto& [key, value] : hooks_) options.env[key] = value;
    daemon_ = home_.start(options);
    ASSERT_TRUE(wait_until([&] { return home_.healthy(); }, 20s)) << daemon_->stderr_text();
  }
  void stop() {
    daemon_->signal(SIGTERM);
    ASSERT_EQ(daemon_->wait(20s), 0) << daemon_->stderr_text();
    daemon_.reset();
  }
  void TearDown() override {
    if (!daemon_) return;
    const auto log = daemon_->stderr_text();
    EXPECT_THAT(log, Not(HasSubstr("sk-secret-k1"))) << "a provider key reached the log";
    EXPECT_THAT(log, Not(HasSubstr("sk-env-marker-77"))) << ".env reached the log";
    stop();
  }

  HttpExchange chat(const std::string& text) {
    const json body = {{"model", "demo-model"},
                       {"messages", json::array({{{"role", "user"}, {"content", text}}})}};
    return http_request(home_.port, "POST", "/v1/chat/completions", body.dump(), {}, 90s);
  }
  // Runs one answer's `calls` through an API turn: each call's result by its id.
  std::map<std::string, std::string> run_tools(std::vector<json> calls) {
    fake_.script("*", {asks_for(std::move(calls)), says("done")});
    const auto r = chat("use the tools");
    EXPECT_EQ(r.status, 200) << r.body << daemon_->stderr_text();
    return results_of_last_call();
  }
  std::map<std::string, std::string> results_of_last_call() {
    std::map<std::string, std::string> results;
    const auto calls = fake_.calls();
    if (calls.empty()) return results;
    for (const auto& m : calls.back()["messages"]) {
      if (m["role"] == "tool") results[m["tool_call_id"]] = m["content"];
    }
    return results;
  }
  // A Telegram user's message and the bot's reply to it.
  std::string say_on_telegram(long long user, const std::string& text) {
    emulator_.send(user, text);
    json reply;
    wait_until(
        [&] {
          for (auto& m : emulator_.bot_messages(user)) reply = m["message"];
          return !reply.is_null();
        },
        30s);
    return reply.is_null() ? std::string() : reply.value("text", std::string());
  }
  // The system prompt of the newest provider call ("" without one).
  std::string last_system_prompt() {
    const auto calls = fake_.calls();
    if (calls.empty()) return {};
    const auto& first = calls.back()["messages"][0];
    return first["role"] == "system" ? first["content"].get<std::string>() : std::string();
  }
  std::filesystem::path workspace() const { return home_.dir.path() / "workspace"; }

  FakeProvider fake_;
  TelegramEmulator emulator_;
  GatewayHome home_;
  std::unique_ptr<ChildProcess> daemon_;
  std::map<std::string, std::string> hooks_;
};

TEST_F(BuiltinTools, TheToolsAreOfferedBesideTheGatewaysOthersAndCanBeTurnedOff) {
  start("{builtin: [files, memory]}");
  ASSERT_EQ(chat("hello").status, 200);
  std::vector<std::string> offered;
  const auto call = fake_.calls().back();
  for (const auto& t : call.value("tools", json::array())) offered.push_back(t["function"]["name"]);
  std::sort(offered.begin(), offered.end());
  EXPECT_EQ(offered, (std::vector<std::string>{"list_files", "memory", "patch", "read_file",
                                               "search_files", "write_file"}))
      << call.dump().substr(0, 2000);
  auto status = json::parse(home_.runtime_status());
  EXPECT_EQ(status["builtin_tools"]["tools"], 6);
  EXPECT_EQ(status["builtin_tools"]["state"], "ready");

  // SIGHUP applies a new list.
  const auto config = home_.dir.path() / "config.yaml";
  std::ifstream in(config);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text.replace(text.find("{builtin: [files, memory]}"), 26, "{builtin: [web_fetch]}");
  home_.dir.write("config.yaml", text);
  daemon_->signal(SIGHUP);
  EXPECT_TRUE(wait_until(
      [&] { return json::parse(home_.runtime_status())["builtin_tools"]["tools"] == 1; }, 10s))
      << daemon_->stderr_text();
  ASSERT_EQ(chat("again").status, 200);
  const auto after = fake_.calls().back();
  ASSERT_EQ(after["tools"].size(), 1u);
  EXPECT_EQ(after["tools"][0]["function"]["name"], "web_fetch");
}

TEST_F(BuiltinTools, ACommandCannotReachTheGatewaysHomeOrWriteOutsideTheWorkspace) {
  start();
  const auto home = home_.dir.path().string();
  const std::string outside = "/tmp/hermes-outside-" + std::to_string(::getpid());
  auto results = run_tools({
      terminal("config", "cat " + home + "/config.yaml"),
      terminal("env", "cat " + home + "/.env"),
      terminal("db", "head -c 16 " + home + "/state.db"),
      terminal("outside", "echo x > " + outside),
      terminal("inside", "echo made here > note.txt && cat note.txt && pwd && echo $HOME"),
      terminal("system", "grep -c . /etc/os-release && id -u"),
      terminal("gateway_env", "env"),
  });
  for (const char* id : {"config", "env", "db", "outside"}) {
    EXPECT_THAT(results[id], HasSubstr("Permission denied")) << id;
  }
  EXPECT_THAT(results["config"], Not(HasSubstr("sk-secret-k1")));
  EXPECT_THAT(results["env"], Not(HasSubstr("sk-env-marker-77")));
  EXPECT_THAT(results["db"], Not(HasSubstr("SQLite format")));
  EXPECT_FALSE(std::filesystem::exists(outside));
  EXPECT_THAT(results["inside"], HasSubstr("made here"));
  EXPECT_THAT(results["inside"], HasSubstr(workspace().string()));
  EXPECT_TRUE(std::filesystem::exists(workspace() / "note.txt"));
  EXPECT_THAT(results["system"], HasSubstr("[exit status 0]"));
  // Only PATH, HOME, LANG, TERM (and the private TMPDIR): nothing of the gateway's.
  EXPECT_THAT(results["gateway_env"], Not(HasSubstr("HERMES_HOME")));
  EXPECT_THAT(results["gateway_env"], Not(HasSubstr("XDG_RUNTIME_DIR")));
  EXPECT_THAT(results["gateway_env"], HasSubstr("TERM=dumb"));
}

TEST_F(BuiltinTools, NetworkNoneCannotReachAListenerOnTheHostsLoopback) {
  const int port = free_port();
  const int listener = listen_loopback(port);
  ASSERT_GE(listener, 0);
  const std::string probe = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
                            " && echo connected || echo unreachable";
  start("{terminal: {network: none}}");
  auto results = run_tools({terminal("probe", probe)});
  EXPECT_THAT(results["probe"], HasSubstr("unreachable"));
  EXPECT_THAT(results["probe"], Not(HasSubstr("connected")));
  stop();
  start("{terminal: {network: all}}");  // the same probe, with the host's network
  results = run_tools({terminal("probe", probe)});
  EXPECT_THAT(results["probe"], HasSubstr("connected"));
  ::close(listener);
}

TEST_F(BuiltinTools, AForkBombAndATenGigabyteAllocationEndAtTheirLimitsWhileTheGatewayServes) {
  start("{terminal: {timeout: 15}}");
  std::atomic<bool> running{true};
  std::atomic<int> health_checks{0}, health_failures{0};
  std::jthread prober([&] {
    while (running) {
      ++health_checks;
      if (http_get_status(home_.port, "/health") != 200) ++health_failures;
      std::this_thread::sleep_for(100ms);
    }
  });
  const auto started = std::chrono::steady_clock::now();
  auto results = run_tools({
      terminal("bomb", "bomb() { bomb | bomb & }; bomb; sleep 2; echo bomb-over"),
      terminal("memory", "perl -e '$x = \"a\" x (10 * 1024 ** 3); print \"allocated\\n\"'"),
  });
  running = false;
  const auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  RecordProperty("limits_turn_seconds", std::to_string(took.count()));
  EXPECT_THAT(results["memory"], HasSubstr("Out of memory"));
  EXPECT_THAT(results["memory"], Not(HasSubstr("allocated")));
  EXPECT_THAT(results["bomb"], ::testing::AnyOf(HasSubstr("bomb-over"), HasSubstr("timeout")));
  EXPECT_GT(health_checks.load(), 0);
  EXPECT_EQ(health_failures.load(), 0) << "/health did not answer throughout";
  EXPECT_EQ(chat("still there?").status, 200);
}

// Figures for the closing note (test properties): what the sandbox adds to a command's start,
// and the gateway's memory while four commands run side by side.
TEST_F(BuiltinTools, SandboxStartCostAndGatewayMemoryWhileFourCommandsRun) {
  const auto sandbox = std::filesystem::path(kGatewayBin).parent_path() / "hermes-sandbox";
  TempDir scratch;
  std::filesystem::create_directories(scratch.path() / "ws");
  std::filesystem::create_directories(scratch.path() / "tmp");
  const std::vector<std::string> confined{"--workspace", (scratch.path() / "ws").string(),
                                          "--tmp",       (scratch.path() / "tmp").string(),
                                          "--",          "/bin/true"};
  const auto percentiles = [](std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    return std::pair{ms[ms.size() / 2], ms[ms.size() * 99 / 100]};
  };
  std::vector<double> plain, sandboxed;
  for (int i = 0; i < 100; ++i) {
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(run_process("/bin/true", {}).exit_code, 0);
    plain.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
    started = std::chrono::steady_clock::now();
    EXPECT_EQ(run_process(sandbox.string(), confined).exit_code, 0);
    sandboxed.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count());
  }
  const auto [plain_p50, plain_p99] = percentiles(plain);
  const auto [box_p50, box_p99] = percentiles(sandboxed);
  RecordProperty("unconfined_start_p50_ms", std::to_string(plain_p50));
  RecordProperty("unconfined_start_p99_ms", std::to_string(plain_p99));
  RecordProperty("sandbox_start_p50_ms", std::to_string(box_p50));
  RecordProperty("sandbox_start_p99_ms", std::to_string(box_p99));

  start();
  const auto rss_kb = [pid = daemon_->pid()] {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    }
    return 0L;
  };
  const long idle = rss_kb();
  std::atomic<bool> running{true};
  std::atomic<long> peak{0};
  std::jthread sampler([&] {
    while (running) {
      peak = std::max(peak.load(), rss_kb());
      std::this_thread::sleep_for(20ms);
    }
  });
  auto results = run_tools({terminal("a", "sleep 1; echo a"), terminal("b", "sleep 1; echo b"),
                            terminal("c", "sleep 1; echo c"), terminal("d", "sleep 1; echo d")});
  running = false;
  sampler.join();
  for (const char* id : {"a", "b", "c", "d"}) {
    EXPECT_THAT(results[id], HasSubstr(std::string(id) + "\n[exit status 0]")) << id;
  }
  RecordProperty("gateway_rss_idle_kb", std::to_string(idle));
  RecordProperty("gateway_rss_peak_4_commands_kb", std::to_string(peak.load()));
}

TEST_F(BuiltinTools, TheTimeoutEndsTheCommandAndEveryProcessItStarted) {
  start("{terminal: {timeout: 2}}");
  auto results = run_tools({terminal("slow", "sleep 1011 & sleep 1012; echo never")});
  EXPECT_THAT(results["slow"], HasSubstr("ended by the timeout after 2 s"));
  EXPECT_THAT(results["slow"], Not(HasSubstr("never")));
  EXPECT_TRUE(
      wait_until([] { return !process_alive("sleep 1011") && !process_alive("sleep 1012"); }, 5s))
      << "a child of the command outlived the timeout";
}

TEST_F(BuiltinTools, ADangerousCommandWaitsForApprovalAndIsDeniedUnattended) {
  TempDir victim;
  victim.write("keep.txt", "mine");
  start();
  auto results = run_tools({
      terminal("rm", "rm -rf " + victim.path().string()),
      terminal("hidden", "bash -c \"$(echo rm) -rf " + victim.path().string() + "\""),
      terminal("piped", "echo echo harmless | sh"),
  });
  EXPECT_THAT(results["rm"], HasSubstr("did not approve"));
  EXPECT_THAT(results["hidden"], HasSubstr("did not approve"));
  EXPECT_THAT(results["piped"], HasSubstr("harmless"));
  EXPECT_TRUE(std::filesystem::exists(victim.path() / "keep.txt"));
}

// In a chat the user is asked, with the reason, and the command runs once they approve (still
// in the sandbox: an approval widens nothing).
TEST_F(BuiltinTools, ADangerousCommandAsksTheChatWithItsReasonAndRunsOnceApproved) {
  start();
  const std::string command = "mkdir -p shared && chmod -R 700 shared && echo changed";
  fake_.script("*", {asks_for({terminal("t", command)}), says("done")});
  emulator_.send(901, "lock down the shared folder");
  json question;
  ASSERT_TRUE(wait_until(
      [&] {
        for (auto& m : emulator_.bot_messages(901)) question = m["message"];
        return !question.is_null();
      },
      30s))
      << daemon_->stderr_text();
  const std::string asked = question.value("text", "");
  EXPECT_THAT(asked, HasSubstr("May I run terminal (it "));
  EXPECT_THAT(asked, HasSubstr("chmod -R 700 shared"));
  EXPECT_FALSE(std::filesystem::exists(workspace() / "shared")) << "nothing runs before the answer";
  const std::string approve = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"];
  long long question_id = 0;
  for (const auto& [id, text] : emulator_.bot_history(901)) {
    if (text.find("May I run") != std::string::npos) question_id = id;
  }
  ASSERT_NE(question_id, 0);
  emulator_.press(901, 901, question_id, approve);
  json reply;
  ASSERT_TRUE(wait_until(
      [&] {
        for (auto& m : emulator_.bot_messages(901)) reply = m["message"];
        return !reply.is_null();
      },
      30s));
  EXPECT_EQ(reply.value("text", ""), "done");
  EXPECT_THAT(results_of_last_call()["t"], HasSubstr("changed\n[exit status 0]"));
  EXPECT_TRUE(std::filesystem::is_directory(workspace() / "shared"));
}

TEST_F(BuiltinTools, FileToolsWorkInTheWorkspaceAndRefusePathsOutOfIt) {
  start();
  std::filesystem::create_directories(workspace());
  std::filesystem::create_symlink(home_.dir.path() / "config.yaml", workspace() / "link.yaml");
  auto results = run_tools({
      tool_call("w", "write_file", {{"path", "src/app.txt"}, {"content", "alpha\nbeta\n"}}),
  });
  EXPECT_THAT(results["w"], HasSubstr("wrote"));
  results = run_tools({
      tool_call("p", "patch",
                {{"path", "src/app.txt"}, {"old_string", "beta"}, {"new_string", "gamma"}}),
      tool_call("up", "read_file", {{"path", "../config.yaml"}}),
      tool_call("link", "read_file", {{"path", "link.yaml"}}),
      tool_call("abs", "read_file", {{"path", home_.dir.path().string() + "/.env"}}),
  });
  EXPECT_THAT(results["p"], HasSubstr("replaced 1"));
  for (const char* id : {"up", "link", "abs"}) {
    EXPECT_THAT(results[id], HasSubstr("outside the workspace")) << id;
    EXPECT_THAT(results[id], Not(HasSubstr("sk-")));
  }
  results = run_tools({tool_call("r", "read_file", {{"path", "src/app.txt"}}),
                       tool_call("s", "search_files", {{"pattern", "gam+a"}}),
                       tool_call("l", "list_files", {{"recursive", true}})});
  EXPECT_THAT(results["r"], HasSubstr("gamma"));
  EXPECT_THAT(results["s"], HasSubstr("src/app.txt:2"));
  EXPECT_THAT(results["l"], HasSubstr("src/"));
}

TEST_F(BuiltinTools, WebFetchRefusesLoopbackAndARedirectThatLandsThere) {
  TinyHttpServer inner("127.0.0.1",
                       "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecret");
  // 127.0.0.2 stands for a public server (a test hook: there is no internet in CI); it
  // redirects into this machine's loopback.
  TinyHttpServer outer("127.0.0.2", "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:" +
                                        std::to_string(inner.port()) +
                                        "/admin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  TinyHttpServer page("127.0.0.2",
                      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
                      "<html><head><title>Harbour news</title><script>var x='<p>no</p>'"
                      "</script></head><body><h1>Boats</h1><p>Three &amp; more.</p></body></html>");
  hooks_ = {{"HERMES_TEST_HOOKS", "1"}, {"HERMES_TEST_WEB_FETCH_PUBLIC", "127.0.0.2"}};
  start();
  const auto url = [](const TinyHttpServer& s, const char* host) {
    return std::string("http://") + host + ":" + std::to_string(s.port()) + "/";
  };
  auto results = run_tools({
      tool_call("direct", "web_fetch", {{"url", url(inner, "127.0.0.1")}}),
      tool_call("decimal", "web_fetch",
                {{"url", "http://2130706433:" + std::to_string(inner.port())}}),
      tool_call("redirect", "web_fetch", {{"url", url(outer, "127.0.0.2")}}),
      tool_call("page", "web_fetch", {{"url", url(page, "127.0.0.2")}}),
  });
  EXPECT_THAT(results["direct"], HasSubstr("loopback"));
  EXPECT_THAT(results["decimal"], HasSubstr("loopback"));
  EXPECT_THAT(results["redirect"], HasSubstr("loopback"));
  for (const char* id : {"direct", "decimal", "redirect"}) {
    EXPECT_THAT(results[id], Not(HasSubstr("secret"))) << id;
  }
  EXPECT_EQ(inner.connections(), 0) << "a refused address was connected to";
  EXPECT_EQ(outer.connections(), 1);
  EXPECT_THAT(results["page"], HasSubstr("Status: 200"));
  EXPECT_THAT(results["page"], HasSubstr("Title: Harbour news"));
  EXPECT_THAT(results["page"], HasSubstr("Three & more."));
  EXPECT_THAT(results["page"], Not(HasSubstr("var x")));
}

TEST_F(BuiltinTools, AMemoryFactReachesTheNextSessionOfItsUserOnly) {
  start();
  fake_.script(
      "*",
      {asks_for(
           {tool_call(
                "m1", "memory",
                {{"action", "add"}, {"target", "user"}, {"content", "Prefers tea, not coffee"}}),
            tool_call(
                "m2", "memory",
                {{"action", "add"}, {"target", "notes"}, {"content", "Deploys go on Fridays"}})}),
       says("noted")});
  EXPECT_EQ(say_on_telegram(701, "remember: I prefer tea"), "noted");
  EXPECT_THAT(results_of_last_call()["m1"], HasSubstr("Saved"));
  // The same session keeps its prompt (the provider's cache stays warm).
  EXPECT_EQ(say_on_telegram(701, "still here"), "echo: still here");
  EXPECT_THAT(last_system_prompt(), Not(HasSubstr("Prefers tea")));
  EXPECT_FALSE(say_on_telegram(701, "/new").empty());
  EXPECT_EQ(say_on_telegram(701, "what do I drink?"), "echo: what do I drink?");
  EXPECT_THAT(last_system_prompt(), HasSubstr("Prefers tea, not coffee"));
  EXPECT_THAT(last_system_prompt(), HasSubstr("Deploys go on Fridays"));
  // Another user: the shared notes, never the first user's facts.
  EXPECT_EQ(say_on_telegram(702, "hello"), "echo: hello");
  EXPECT_THAT(last_system_prompt(), Not(HasSubstr("Prefers tea")));
  EXPECT_THAT(last_system_prompt(), HasSubstr("Deploys go on Fridays"));
  EXPECT_TRUE(std::filesystem::exists(home_.dir.path() / "memories/users/telegram-701.md"));
}

TEST_F(BuiltinTools, SessionSearchFindsEarlierSessionsOfTheSameUserOnly) {
  start();
  EXPECT_EQ(say_on_telegram(801, "the lighthouse keeper sang at dawn"),
            "echo: the lighthouse keeper sang at dawn");
  EXPECT_FALSE(say_on_telegram(801, "/new").empty());
  const json search = tool_call("s", "session_search", {{"query", "lighthouse keeper"}});
  fake_.script("*", {asks_for({search}), says("found")});
  EXPECT_EQ(say_on_telegram(801, "what did I say about the lighthouse?"), "found");
  const auto mine = results_of_last_call()["s"];
  EXPECT_THAT(mine, HasSubstr("lighthouse"));
  EXPECT_THAT(mine, HasSubstr("sang at dawn"));
  fake_.script("*", {asks_for({search}), says("nothing")});
  EXPECT_EQ(say_on_telegram(802, "did anyone mention a lighthouse?"), "nothing");
  EXPECT_THAT(results_of_last_call()["s"], HasSubstr("No earlier session"));
}

}  // namespace
}  // namespace hermes::testing
