// The CLI when systemd is not what it expects: no service manager to reach, and a manager
// that refuses daemon-reload during install. It must say what is wrong (never "not
// installed"), exit 1, and leave nothing half-installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "daemon_fixture.hpp"

namespace hermes::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CliErrors, NoReachableUserManagerIsSaidSoByEveryVerbAndIsNotNotInstalled) {
  TempDir home;
  const std::map<std::string, std::string> env{
      {"HOME", home.path().string()},
      {"XDG_RUNTIME_DIR", (home.path() / "no-manager").string()},
      {"DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent"}};
  for (const char* verb : {"status", "start", "stop", "restart"}) {
    const auto r = run_process(kCliBin, {"gateway", verb}, env);
    EXPECT_EQ(r.exit_code, 1) << verb << ": " << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr("Cannot reach your user service manager")) << verb;
    EXPECT_THAT(r.out, HasSubstr("loginctl enable-linger")) << verb;
    EXPECT_THAT(r.out, Not(HasSubstr("not installed"))) << verb;
  }
}

TEST(CliErrors, InstallRollsBackTheUnitWhenDaemonReloadFails) {
  TempDir home;
  home.write("config.yaml",
             "model: {provider: p, default: m}\nproviders: {p: {base_url: 'http://127.0.0.1:9'}}\n"
             "gateway: {api_server: {host: 127.0.0.1, port: 18642}}\n");
  // A systemctl that answers `show` but refuses daemon-reload, as a manager without the
  // needed rights would.
  const auto bin = home.path() / "bin";
  std::filesystem::create_directories(bin);
  home.write("bin/systemctl",
             "#!/bin/sh\n"
             "case \" $* \" in\n"
             "  *\" show \"*) echo LoadState=not-found; echo ActiveState=inactive ;;\n"
             "  *daemon-reload*) echo 'Failed to reload daemon: Access denied' >&2; exit 1 ;;\n"
             "  *) exit 0 ;;\n"
             "esac\n");
  ::chmod((bin / "systemctl").c_str(), 0755);
  const auto units = home.path() / "config";
  const auto r = run_process(kCliBin, {"gateway", "install", "--home", home.path().string()},
                             {{"PATH", bin.string() + ":/usr/bin:/bin"},
                              {"XDG_CONFIG_HOME", units.string()},
                              {"HOME", home.path().string()}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("systemctl daemon-reload failed: Failed to reload daemon"));
  EXPECT_THAT(r.out, HasSubstr("nothing is installed"));
  EXPECT_FALSE(std::filesystem::exists(units / "systemd/user/hermes-gateway.service"))
      << "a half-installed unit was left behind";
}

}  // namespace
}  // namespace hermes::testing
