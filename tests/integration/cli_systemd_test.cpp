// The real `hermes gateway …` verbs against a private systemd user manager.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "daemon_fixture.hpp"
#include "discord_fake.hpp"
#include "fake_provider.hpp"
#include "user_manager.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
constexpr const char* kUnit = "hermes-gateway.service";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class CliSystemd : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto error = manager_.start();
    ASSERT_TRUE(error.empty()) << error;
    home_.write_config();
  }

  std::map<std::string, std::string> env() const {
    auto e = manager_.client_env();
    e["HERMES_HOME"] = home_.home();
    return e;
  }
  ProcessResult hermes(const std::vector<std::string>& args) const {
    std::vector<std::string> full{"gateway"};
    full.insert(full.end(), args.begin(), args.end());
    return run_process(kCliBin, full, env());
  }
  int main_pid() const { return std::atoi(manager_.show(kUnit, "MainPID").c_str()); }
  void install() {
    const auto r = hermes({"install", "--from-build-tree"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_EQ(manager_.is_active(kUnit), "active");
  }

  UserManager manager_;
  GatewayHome home_;
};

TEST_F(CliSystemd, InstallStatusRestartStopAndFallback) {
  FakeProvider fake;  // for a Responses chain that must outlive the restart
  home_.write_provider_config(fake.base_url());
  auto r = hermes({"status"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_THAT(r.out, HasSubstr("not installed"));

  r = hermes({"install", "--from-build-tree"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith("✓ Wrote " + manager_.home_dir().string() +
                                   "/.config/systemd/user/hermes-gateway.service"));
  EXPECT_EQ(lines[1], "✓ Enabled hermes-gateway.service");
  EXPECT_THAT(r.out, HasSubstr("loginctl enable-linger"));
  EXPECT_EQ(lines.back(), "✓ User service started (PID " + std::to_string(main_pid()) + ")");
  std::ifstream unit(manager_.home_dir() / ".config/systemd/user/hermes-gateway.service");
  std::stringstream unit_text;
  unit_text << unit.rdbuf();
  EXPECT_THAT(unit_text.str(), HasSubstr(std::string("ExecStart=") + kGatewayBin));
  EXPECT_THAT(unit_text.str(), HasSubstr("Environment=HERMES_HOME=" + home_.home()));

  r = hermes({"status"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("hermes-gateway.service (user): active (running)"));
  EXPECT_THAT(r.out, HasSubstr("Main PID:  " + std::to_string(main_pid())));
  EXPECT_THAT(r.out, HasSubstr("Status:    Serving: 0 sessions, 0 active runs"));
  EXPECT_THAT(r.out, HasSubstr("Gateway: serving (pid " + std::to_string(main_pid())));
  EXPECT_THAT(r.out,
              HasSubstr("Dashboard:   http://127.0.0.1:" + std::to_string(home_.port) + "/ui"));
  r = hermes({"status", "--json"});
  EXPECT_EQ(r.exit_code, 0);
  auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["installed"], true);
  EXPECT_EQ(json["unit"]["main_pid"], main_pid());
  EXPECT_EQ(json["runtime"]["pid"], main_pid());
  EXPECT_EQ(json["runtime"]["state"], "serving");
  EXPECT_EQ(json["runtime_stale"], false);

  const auto first = http_request(home_.port, "POST", "/v1/responses", R"({"input":"before"})");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string first_id = nlohmann::json::parse(first.body)["id"];

  // Idle restart: the exact lines, and the PID printed is systemd's new MainPID.
  const int old_pid = main_pid();
  r = hermes({"restart"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const int new_pid = main_pid();
  EXPECT_NE(new_pid, old_pid);
  EXPECT_THAT(lines_of(r.out),
              ElementsAre("⏳ User service draining active work...",
                          "⏳ Waiting for hermes-gateway to restart...",
                          "✓ User service restarted (PID " + std::to_string(new_pid) + ")"));
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << "progress rewrites without a TTY";
  EXPECT_EQ(http_get_status(home_.port, "/health"), 200);
  // The chain goes on in the new process: its history came from state.db.
  const auto second =
      http_request(home_.port, "POST", "/v1/responses",
                   R"({"input":"after","previous_response_id":")" + first_id + "\"}");
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(nlohmann::json::parse(second.body)["output"][0]["content"][0]["text"], "echo: after");
  EXPECT_EQ(fake.calls().back()["messages"][2]["content"], "echo: before");

  r = hermes({"stop"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("✓ User service stopped"));
  r = hermes({"status"});
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_THAT(r.out, HasSubstr("inactive (dead)"));
  EXPECT_THAT(r.out, HasSubstr("Last status: "));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("  Status:")));

  // Restart of a stopped unit: the reload-or-restart fallback, then the same confirmation.
  r = hermes({"restart"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(lines_of(r.out),
              ElementsAre("⏳ Starting User service (it was not running)...",
                          "✓ User service restarted (PID " + std::to_string(main_pid()) + ")"));

  r = hermes({"uninstall"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(
      std::filesystem::exists(manager_.home_dir() / ".config/systemd/user/hermes-gateway.service"));
  EXPECT_EQ(hermes({"status"}).exit_code, 4);
}

// `systemctl restart` is a stop and a start: Discord's session must survive it (a message sent
// while the unit restarts is answered once, by RESUME); only uninstall ends it (close 1000).
TEST_F(CliSystemd, ADiscordSessionOutlivesRestartsAndEndsAtUninstall) {
  FakeProvider fake;
  FakeDiscord discord;
  home_.write_provider_config(fake.base_url(), "[k1]",
                              "  discord: {enabled: true, streaming: false, allow_all_users: true, "
                              "api_base: '" +
                                  discord.api_base() + "', bot_token: '" + FakeDiscord::kToken +
                                  "'}\n");
  install();
  ASSERT_TRUE(discord.wait_connected(10s));
  const std::string dm = "1200000000000000001";
  for (const char* verb : {"restart", "stop"}) {
    // The unit goes down (the session stays resumable), a message arrives meanwhile.
    ChildProcess::Options options;
    options.env = env();
    const auto closes = discord.state()["closes"].size();
    ChildProcess cli(kCliBin, {"gateway", verb}, options);
    ASSERT_TRUE(wait_until([&] { return discord.state()["closes"].size() > closes; }, 15s));
    discord.say(dm, std::string("sent during ") + verb);
    ASSERT_EQ(cli.wait(30s), 0) << cli.stderr_text();
    if (std::string(verb) == "stop") {
      ASSERT_EQ(hermes({"start"}).exit_code, 0);
    }
    ASSERT_TRUE(discord.wait_connected(10s));
  }
  ASSERT_TRUE(wait_until([&] { return discord.bot_messages(dm).size() == 2; }, 10s));
  EXPECT_EQ(discord.bot_messages(dm)[0]["content"], "echo: sent during restart");
  EXPECT_EQ(discord.bot_messages(dm)[1]["content"], "echo: sent during stop");
  auto state = discord.state();
  EXPECT_EQ(state["identifies"], 1) << "a restart or stop ended the Discord session";
  EXPECT_EQ(state["resumes"], 2);

  ASSERT_EQ(hermes({"uninstall"}).exit_code, 0);
  state = discord.state();
  EXPECT_EQ(state["closes"].back()["code"], 1000) << state["closes"].dump();
  EXPECT_EQ(state["refused"], nlohmann::json::array());
}

TEST_F(CliSystemd, RestartWaitsForTheInFlightRequestThenRestarts) {
  install();
  const int old_pid = main_pid();
  // A request still arriving when the restart begins: the drain must wait for it.
  const int fd = connect_loopback(home_.port);
  ASSERT_GE(fd, 0);
  ::send(fd, "GET /health HTTP/1.1\r\nHost: x\r\n", 31, MSG_NOSIGNAL);

  ChildProcess::Options options;
  options.env = env();
  ChildProcess cli(kCliBin, {"gateway", "restart"}, options);
  ASSERT_TRUE(wait_until(
      [&] { return cli.stderr_text().find("draining active work") != std::string::npos; }, 10s));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(cli.running()) << "restart finished while a request was in flight: "
                             << cli.stderr_text();
  EXPECT_EQ(::kill(old_pid, 0), 0) << "the old process exited before answering";

  ::send(fd, "\r\n", 2, MSG_NOSIGNAL);
  std::string response;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0)
    response.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("Connection: close"));

  EXPECT_EQ(cli.wait(20s), 0) << cli.stderr_text();
  EXPECT_THAT(cli.stderr_text(),
              HasSubstr("✓ User service restarted (PID " + std::to_string(main_pid()) + ")"));
  EXPECT_NE(main_pid(), old_pid);
}

TEST_F(CliSystemd, RestartWithBrokenConfigFailsFastWithHints) {
  install();
  home_.dir.write("config.yaml", home_.config("  api_max_retries: nope\n"));
  const auto started = std::chrono::steady_clock::now();
  const auto r = hermes({"restart"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(lines_of(r.out),
              ElementsAre("⏳ User service draining active work...",
                          "⏳ Waiting for hermes-gateway to restart...",
                          "⚠ User service failed to restart (exit status 78: invalid config or "
                          "refused start).",
                          "  Check status: hermes gateway status",
                          "  Check logs: journalctl --user -u hermes-gateway --since '2 min ago'"));
  EXPECT_LT(took, 10s) << "waited out the timeout instead of seeing the failure";
  const auto status = hermes({"status"});
  EXPECT_EQ(status.exit_code, 3);
  EXPECT_THAT(status.out, HasSubstr("Last exit: status 78 (invalid config or refused start)"));
  EXPECT_THAT(status.out, HasSubstr("Check logs: journalctl --user -u hermes-gateway"));
  EXPECT_THAT(status.out, ::testing::Not(HasSubstr("Check status")));
}

TEST_F(CliSystemd, InstallRefusesADifferentUnitWithoutForceAndABadConfig) {
  const auto unit_file = manager_.home_dir() / ".config/systemd/user/hermes-gateway.service";
  std::ofstream(unit_file) << "[Service]\nExecStart=/bin/true\n";
  auto r = hermes({"install", "--from-build-tree"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("exists and differs"));
  EXPECT_THAT(r.out, HasSubstr("hermes gateway install --force"));
  r = hermes({"install", "--from-build-tree", "--force", "--no-start"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(manager_.is_active(kUnit), "inactive");

  home_.dir.write("config.yaml", "model: [broken\n");
  r = hermes({"install", "--from-build-tree", "--force"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("The config is not valid; nothing was installed"));
  EXPECT_THAT(r.out, HasSubstr("not valid YAML"));
}

TEST_F(CliSystemd, StartReportsAFailedStartWithHints) {
  home_.dir.write("config.yaml", home_.config());
  auto r = hermes({"install", "--from-build-tree", "--no-start"});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  home_.dir.write("config.yaml", home_.config("  request_timeout: -5\n"));
  r = hermes({"start"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("⚠ User service failed to start (exit status 78"));
  EXPECT_THAT(r.out, HasSubstr("Check logs: journalctl --user -u hermes-gateway"));
}

TEST_F(CliSystemd, LogsSaysPlainlyWhenTheJournalIsEmpty) {
  install();
  const auto r = hermes({"logs", "-n", "5"});
  // The private manager has no journald: the verb must say so, not print nothing.
  EXPECT_THAT(r.out + r.err, HasSubstr("hermes-gateway"));
}

}  // namespace
}  // namespace hermes::testing
