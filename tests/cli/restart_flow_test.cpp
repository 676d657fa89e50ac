// The restart decisions and output, table-tested with a scripted ServiceControl and a fake
// clock (the real thing runs in tests/integration/cli_systemd_test.cpp).
#include "cli/restart_flow.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <sstream>

#include "cli/messages.hpp"

namespace hermes::cli {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

UnitState unit(const std::string& active, int pid, int exit_status = 0,
               const std::string& status = "") {
  UnitState s;
  s.load_state = "loaded";
  s.active_state = active;
  s.main_pid = pid;
  s.exec_main_status = exit_status;
  s.status_text = status;
  return s;
}

class ScriptedControl : public ServiceControl {
 public:
  std::deque<UnitState> states;  // show() pops until one is left, then repeats it
  int alive_polls = 0;           // how many process_alive() calls say "alive"
  bool signal_ok = true;
  std::vector<std::string> calls;
  std::chrono::steady_clock::time_point clock{};

  UnitState show() override {
    UnitState s = states.front();
    if (states.size() > 1) states.pop_front();
    return s;
  }
  CommandResult systemctl(const std::vector<std::string>& args) override {
    calls.push_back("systemctl " + args.front());
    return {0, "", ""};
  }
  bool process_alive(int) override { return alive_polls-- > 0; }
  bool send_signal(int pid, int signal) override {
    calls.push_back("kill " + std::to_string(pid) + " " + std::to_string(signal));
    return signal_ok;
  }
  std::chrono::steady_clock::time_point now() override { return clock; }
  void sleep(std::chrono::milliseconds interval) override { clock += interval; }
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct Run {
  int code;
  std::string out;
  ScriptedControl control;
};

Run restart(ScriptedControl control, bool tty = false, Scope scope = Scope::user) {
  std::ostringstream out;
  Output output(out, tty);
  RestartOptions options;
  options.scope = scope;
  const int code = run_restart(options, control, output);
  return {code, out.str(), std::move(control)};
}

TEST(RestartFlow, IdleRestartPrintsTheContractLines) {
  ScriptedControl c;
  c.states = {unit("active", 100), unit("activating", 0), unit("active", 200)};
  c.alive_polls = 3;
  auto r = restart(c);
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(lines_of(r.out), ElementsAre("⏳ User service draining active work...",
                                           "⏳ Waiting for hermes-gateway to restart...",
                                           "✓ User service restarted (PID 200)"));
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  EXPECT_EQ(r.control.calls.front(), "kill 100 10");  // SIGUSR1
}

TEST(RestartFlow, SystemScopeSaysSystemService) {
  ScriptedControl c;
  c.states = {unit("active", 100), unit("active", 300)};
  auto r = restart(c, false, Scope::system);
  EXPECT_THAT(lines_of(r.out), ElementsAre("⏳ System service draining active work...",
                                           "⏳ Waiting for hermes-gateway to restart...",
                                           "✓ System service restarted (PID 300)"));
}

TEST(RestartFlow, SamePidIsNotARestart) {
  ScriptedControl c;
  c.states = {unit("active", 100), unit("active", 100)};  // old PID still reported
  auto r = restart(c);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(lines_of(r.out),
              ElementsAre("⏳ User service draining active work...",
                          "⏳ Waiting for hermes-gateway to restart...",
                          "⚠ User service did not become active within 60s.",
                          "  Check status: hermes gateway status",
                          "  Check logs: journalctl --user -u hermes-gateway --since '2 min ago'"));
}

TEST(RestartFlow, FailedUnitIsReportedAtOnceNotAfterTheTimeout) {
  ScriptedControl c;
  c.states = {unit("active", 100), unit("activating", 0), unit("failed", 0, 78)};
  auto r = restart(c);
  EXPECT_EQ(r.code, 1);
  EXPECT_LT(r.control.clock.time_since_epoch(), 1s) << "waited instead of reporting the failure";
  EXPECT_THAT(lines_of(r.out),
              ElementsAre("⏳ User service draining active work...",
                          "⏳ Waiting for hermes-gateway to restart...",
                          "⚠ User service failed to restart (exit status 78: invalid config or "
                          "refused start).",
                          "  Check status: hermes gateway status",
                          "  Check logs: journalctl --user -u hermes-gateway --since '2 min ago'"));
}

TEST(RestartFlow, DrainTimeoutSaysSoInTheSameShape) {
  ScriptedControl c;
  c.states = {unit("active", 100)};
  c.alive_polls = 1000000;
  auto r = restart(c);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(lines_of(r.out),
              ElementsAre("⏳ User service draining active work...",
                          "⚠ User service did not finish draining within 90s.",
                          "  Check status: hermes gateway status",
                          "  Check logs: journalctl --user -u hermes-gateway --since '2 min ago'"));
  EXPECT_GE(r.control.clock.time_since_epoch(), 90s);
}

TEST(RestartFlow, StoppedUnitFallsBackToReloadOrRestart) {
  ScriptedControl c;
  c.states = {unit("inactive", 0), unit("active", 400)};
  auto r = restart(c);
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.control.calls, ElementsAre("systemctl reload-or-restart"));
  EXPECT_THAT(lines_of(r.out), ElementsAre("⏳ Starting User service (it was not running)...",
                                           "✓ User service restarted (PID 400)"));
}

TEST(RestartFlow, NotInstalledExits4WithHowToInstall) {
  ScriptedControl c;
  UnitState missing;
  missing.load_state = "not-found";
  c.states = {missing};
  auto r = restart(c);
  EXPECT_EQ(r.code, 4);
  EXPECT_THAT(lines_of(r.out), ElementsAre("User service hermes-gateway is not installed.",
                                           "  Install it with: hermes gateway install"));
}

TEST(RestartFlow, TtyShowsLiveDrainProgressOnOneLine) {
  ScriptedControl c;
  c.states = {unit("active", 100), unit("active", 100, 0, "Draining: 2 active runs, 41s left"),
              unit("active", 100, 0, "Draining: 1 active run, 40s left"), unit("active", 500)};
  c.alive_polls = 2;
  auto r = restart(c, true);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("\r\033[K⏳ User service draining active work... (2 active runs, 41s left)"),
            std::string::npos);
  EXPECT_NE(r.out.find("(1 active run, 40s left)"), std::string::npos);
  EXPECT_NE(r.out.find("✓ User service restarted (PID 500)\n"), std::string::npos);
}

TEST(JudgeRestart, Table) {
  EXPECT_EQ(judge_restart(unit("active", 5), 4), StartVerdict::restarted);
  EXPECT_EQ(judge_restart(unit("active", 4), 4), StartVerdict::waiting);
  EXPECT_EQ(judge_restart(unit("active", 0), 4), StartVerdict::waiting);
  EXPECT_EQ(judge_restart(unit("activating", 5), 4), StartVerdict::waiting);
  EXPECT_EQ(judge_restart(unit("failed", 0, 78), 4), StartVerdict::failed);
  EXPECT_EQ(judge_restart(unit("active", 9), 0), StartVerdict::restarted);
}

}  // namespace
}  // namespace hermes::cli
