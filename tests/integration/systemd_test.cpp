// The real daemon as a Type=notify unit under a real (private) systemd user manager.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <thread>

#include "daemon_fixture.hpp"
#include "user_manager.hpp"

namespace hermes::testing {
namespace {

using namespace std::chrono_literals;
constexpr const char* kUnit = "hermes-gateway.service";

class SystemdUnit : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto error = manager_.start();
    ASSERT_TRUE(error.empty()) << error;
    home_.write_config();
  }

  // Installs the repo's unit template (plus test overrides) and starts it, blocking like
  // `systemctl start` does for Type=notify: it returns once READY=1 arrived.
  void install_and_start(const std::string& drop_in = "") {
    manager_.install_unit(kUnit, render_unit_template(home_.home()), drop_in);
    const auto started = manager_.systemctl({"start", kUnit});
    ASSERT_EQ(started.exit_code, 0) << started.err << journal();
    ASSERT_EQ(manager_.is_active(kUnit), "active");
  }

  int main_pid() const { return std::atoi(manager_.show(kUnit, "MainPID").c_str()); }

  // The restarts the dashboard shows (counted in the fd store); -1 when it cannot be read.
  long dashboard_restarts() const {
    std::string body;
    if (http_get_status(home_.port, "/ui/api/overview", &body) != 200) return -1;
    const auto overview = nlohmann::json::parse(body, nullptr, false);
    if (!overview.is_object()) return -1;
    return overview["gateway"].value("restarts", -1L);
  }

  std::string journal() const {
    return "\n" + manager_.systemctl({"status", "--no-pager", "-n", "30", kUnit}).out;
  }

  // Waits for systemd to report the unit active under a PID other than `old_pid`.
  bool wait_for_new_main_pid(int old_pid, std::chrono::milliseconds timeout) const {
    return wait_until(
        [&] {
          const int pid = main_pid();
          return pid > 0 && pid != old_pid && manager_.is_active(kUnit) == "active";
        },
        timeout);
  }

  UserManager manager_;
  GatewayHome home_;
};

TEST_F(SystemdUnit, ActivatingUntilReadyThenServingAtOnce) {
  manager_.install_unit(
      kUnit, render_unit_template(home_.home()),
      "[Service]\nEnvironment=HERMES_TEST_HOOKS=1 HERMES_TEST_READY_DELAY_MS=1500\n");
  ASSERT_EQ(manager_.systemctl({"start", "--no-block", kUnit}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return main_pid() > 0; }, 5s)) << journal();
  EXPECT_EQ(manager_.is_active(kUnit), "activating") << "active before READY=1";
  ASSERT_TRUE(wait_until([&] { return manager_.is_active(kUnit) == "active"; }, 10s)) << journal();
  // The moment systemd says active, the gateway answers: READY is never a lie.
  EXPECT_EQ(http_get_status(home_.port, "/health"), 200);
}

TEST_F(SystemdUnit, Sigusr1DrainsExits75AndSystemdRestartsWithNewPidAndStoredSocket) {
  install_and_start();
  // The API socket and the restart counter.
  EXPECT_EQ(manager_.show(kUnit, "NFileDescriptorStore"), "2");
  EXPECT_EQ(manager_.show(kUnit, "StatusText"), "Serving: 0 sessions, 0 active runs");
  EXPECT_EQ(dashboard_restarts(), 0);
  const int old_pid = main_pid();
  ASSERT_GT(old_pid, 0);
  ASSERT_EQ(::kill(old_pid, SIGUSR1), 0);
  ASSERT_TRUE(wait_for_new_main_pid(old_pid, 10s)) << journal();
  EXPECT_EQ(::kill(old_pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(manager_.show(kUnit, "NRestarts"), "1");
  EXPECT_EQ(manager_.show(kUnit, "NFileDescriptorStore"), "2");
  EXPECT_EQ(http_get_status(home_.port, "/health"), 200);
  EXPECT_EQ(dashboard_restarts(), 1);
}

TEST_F(SystemdUnit, NoConnectionRefusedAcrossRestarts) {
  install_and_start();
  std::atomic<bool> done{false};
  std::atomic<int> answered{0}, refused{0}, failed{0}, last_failure{0};
  std::thread client([&] {
    while (!done) {
      std::string body;
      const int status = http_get_status(home_.port, "/health", &body);
      if (status == 200) {
        ++answered;
      } else if (status == -ECONNREFUSED) {
        ++refused;
      } else {
        ++failed;
        last_failure = status;  // 0: no answer; -errno: the connection failed
      }
    }
  });
  constexpr int kRestarts = 5;
  int restarted = 0;
  for (; restarted < kRestarts; ++restarted) {
    const int old_pid = main_pid();
    ::kill(old_pid, SIGUSR1);
    if (!wait_for_new_main_pid(old_pid, 10s)) break;
  }
  done = true;
  client.join();
  ASSERT_EQ(restarted, kRestarts) << journal();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(failed.load(), 0) << "last failure: " << last_failure.load() << "\n" << journal();
  EXPECT_GT(answered.load(), kRestarts);
  EXPECT_EQ(manager_.show(kUnit, "NRestarts"), std::to_string(kRestarts));
  EXPECT_EQ(dashboard_restarts(), kRestarts);
}

TEST_F(SystemdUnit, WatchdogKillsAWedgedEventLoop) {
  install_and_start("[Service]\nWatchdogSec=1\nEnvironment=HERMES_TEST_HOOKS=1\n");
  const int old_pid = main_pid();
  ASSERT_EQ(::kill(old_pid, SIGUSR2), 0);  // test hook: the event loop blocks forever
  ASSERT_TRUE(wait_for_new_main_pid(old_pid, 15s)) << journal();
  EXPECT_EQ(manager_.show(kUnit, "NRestarts"), "1");
  EXPECT_EQ(http_get_status(home_.port, "/health"), 200);
}

TEST_F(SystemdUnit, BrokenConfigOnRestartLeavesTheUnitFailedWith78NotLooping) {
  install_and_start();
  home_.dir.write("config.yaml", home_.config("  api_max_retries: zero\n"));
  const int old_pid = main_pid();
  ::kill(old_pid, SIGUSR1);
  ASSERT_TRUE(wait_until([&] { return manager_.is_active(kUnit) == "failed"; }, 10s)) << journal();
  EXPECT_EQ(manager_.show(kUnit, "ExecMainStatus"), "78");
  EXPECT_EQ(manager_.show(kUnit, "NRestarts"), "1");
  // It stays failed: RestartPreventExitStatus=78 stops the loop.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(manager_.is_active(kUnit), "failed");
}

TEST_F(SystemdUnit, StopDrainsAndExitsCleanly) {
  install_and_start();
  const auto stopped = manager_.systemctl({"stop", kUnit});
  EXPECT_EQ(stopped.exit_code, 0);
  EXPECT_EQ(manager_.is_active(kUnit), "inactive");
  EXPECT_EQ(manager_.show(kUnit, "Result"), "success");
  EXPECT_EQ(manager_.show(kUnit, "NFileDescriptorStore"), "0");
  EXPECT_LT(http_get_status(home_.port, "/health"), 0) << "still listening after stop";
}

}  // namespace
}  // namespace hermes::testing
