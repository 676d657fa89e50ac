#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/messages.hpp"
#include "cli/scope.hpp"
#include "cli/unit_state.hpp"
#include "cli/unit_template.hpp"

namespace hermes::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(Scope, CommandLinesForUserAndSystem) {
  EXPECT_THAT(systemctl_command(Scope::user, {"is-active", kUnitName}),
              ElementsAre("systemctl", "--user", "is-active", "hermes-gateway.service"));
  EXPECT_THAT(systemctl_command(Scope::system, {"is-active", kUnitName}),
              ElementsAre("systemctl", "is-active", "hermes-gateway.service"));
  EXPECT_THAT(journalctl_command(Scope::user, {"-n", "5"}),
              ElementsAre("journalctl", "--user", "-u", "hermes-gateway", "--no-pager", "-n", "5"));
  EXPECT_THAT(journalctl_command(Scope::system, {"-f"}),
              ElementsAre("journalctl", "-u", "hermes-gateway", "--no-pager", "-f"));
  EXPECT_EQ(unit_directory(Scope::system), "/etc/systemd/system");
  EXPECT_EQ(runtime_dir_for(Scope::system), "/run/hermes");
  EXPECT_EQ(service_label(Scope::system), "System service");
}

TEST(Messages, SystemScopeHintsDropUser) {
  EXPECT_THAT(where_to_look(Scope::system),
              ElementsAre("  Check status: hermes gateway status --system",
                          "  Check logs: journalctl -u hermes-gateway --since '2 min ago'"));
  EXPECT_EQ(drain_progress_suffix("Draining: 2 active runs, 41s left"),
            " (2 active runs, 41s left)");
  EXPECT_EQ(drain_progress_suffix("Serving: 1 session, 0 active runs"), "");
}

TEST(UnitState, ParsesShowOutput) {
  const auto s = parse_unit_state(
      "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nNRestarts=3\n"
      "StatusText=Serving: 1 session, 0 active runs\nExecMainStatus=0\n"
      "ExecMainStartTimestampMonotonic=123456\nMemoryCurrent=[not set]\nResult=success\n");
  EXPECT_TRUE(s.installed());
  EXPECT_TRUE(s.active());
  EXPECT_EQ(s.main_pid, 4242);
  EXPECT_EQ(s.restarts, 3);
  EXPECT_EQ(s.status_text, "Serving: 1 session, 0 active runs");
  EXPECT_EQ(s.started_monotonic_usec, 123456u);
  EXPECT_EQ(s.memory_bytes, 0u);
  EXPECT_FALSE(parse_unit_state("LoadState=not-found\n").installed());
  EXPECT_FALSE(parse_unit_state("").installed());
}

TEST(UnitState, Formatting) {
  EXPECT_EQ(format_duration(5), "5s");
  EXPECT_EQ(format_duration(192), "3m 12s");
  EXPECT_EQ(format_duration(7500), "2h 5m");
  EXPECT_EQ(format_duration(90000), "1d 1h");
  EXPECT_EQ(format_bytes(9544704), "9.1 MiB");
}

TEST(UnitTemplate, RendersAbsolutePathsPerScope) {
  const auto user = render_unit("/opt/hermes/bin/hermes-gateway", "/home/a/.hermes", Scope::user);
  EXPECT_THAT(user, HasSubstr("ExecStart=/opt/hermes/bin/hermes-gateway\n"));
  EXPECT_THAT(user, HasSubstr("Environment=HERMES_HOME=/home/a/.hermes\n"));
  EXPECT_THAT(user, HasSubstr("WantedBy=default.target"));
  EXPECT_THAT(user, Not(HasSubstr("@")));
  for (const char* line :
       {"Type=notify", "SuccessExitStatus=75", "RestartForceExitStatus=75",
        "RestartPreventExitStatus=78", "RestartSec=100ms", "KillMode=mixed", "WatchdogSec=30",
        "FileDescriptorStoreMax=8", "ExecReload=/bin/kill -HUP $MAINPID"}) {
    EXPECT_THAT(user, HasSubstr(std::string(line) + "\n")) << line;
  }
  EXPECT_THAT(render_unit("/x", "/y", Scope::system), HasSubstr("WantedBy=multi-user.target"));
}

TEST(Messages, PlatformLineShowsLiveness) {
  constexpr double kNow = 1'700'000'000;
  PlatformStatus api{"api_server", "running", "127.0.0.1:8642"};
  EXPECT_EQ(platform_line(api, kNow), "api_server: running (127.0.0.1:8642)");
  PlatformStatus telegram{"telegram", "running", ""};
  telegram.last_event_at = kNow - 3.4;
  telegram.last_delivery_at = kNow - 10;
  telegram.silence_limit_seconds = 60;
  EXPECT_EQ(platform_line(telegram, kNow),
            "telegram: running, last event 3s ago, last reply 10s ago");
  telegram.abandoned = 2;
  EXPECT_EQ(platform_line(telegram, kNow),
            "telegram: running, last event 3s ago, last reply 10s ago, 2 reply parts abandoned");
  telegram.abandoned = 0;
  telegram.last_event_at = kNow - 95;
  EXPECT_EQ(platform_line(telegram, kNow),
            "telegram: running, last event 1m 35s ago, last reply 10s ago; DEGRADED: no event for "
            "95 s (limit 60 s)");
  PlatformStatus failing{"telegram", "error", "409 Conflict: another process polls this token"};
  EXPECT_EQ(platform_line(failing, kNow),
            "telegram: error (409 Conflict: another process polls this token)");
  telegram.last_event_at = kNow + 5;  // the clock stepped back
  telegram.last_delivery_at = 0;
  EXPECT_EQ(platform_line(telegram, kNow), "telegram: running, last event 0s ago");
}

}  // namespace
}  // namespace hermes::cli
