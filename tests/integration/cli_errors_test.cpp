// The CLI when systemd is not what it expects: no service manager to reach, and a manager
// that refuses daemon-reload during install. It must say what is wrong (never "not
// installed"), exit 1, and leave nothing half-installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

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
  const auto r = run_process(
      kCliBin, {"gateway", "install", "--from-build-tree", "--home", home.path().string()},
      {{"PATH", bin.string() + ":/usr/bin:/bin"},
       {"XDG_CONFIG_HOME", units.string()},
       {"HOME", home.path().string()}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("systemctl daemon-reload failed: Failed to reload daemon"));
  EXPECT_THAT(r.out, HasSubstr("nothing is installed"));
  EXPECT_FALSE(std::filesystem::exists(units / "systemd/user/hermes-gateway.service"))
      << "a half-installed unit was left behind";
}

TEST(CliErrors, InstallRefusesADaemonInsideABuildFolderUnlessAsked) {
  TempDir home;
  const auto r = run_process(kCliBin, {"gateway", "install", "--home", home.path().string()},
                             {{"XDG_CONFIG_HOME", (home.path() / "config").string()}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("is inside a build folder"));
  EXPECT_THAT(r.out, HasSubstr("scripts/install.sh"));
  EXPECT_FALSE(std::filesystem::exists(home.path() / "config/systemd/user/hermes-gateway.service"));
}

}  // namespace
}  // namespace hermes::testing

namespace hermes::testing {
namespace {

// The install path a user takes: the build's install rules into a prefix, then the installed
// hermes writes a unit whose ExecStart is the installed hermes-gateway, not the build's.
TEST(InstallPath, IntoATemporaryPrefixTheInstalledBinariesRunAndTheUnitPointsAtThem) {
  TempDir root;
  const auto prefix = root.path() / "prefix";
  const auto installed =
      run_process(HERMES_CMAKE, {"--install", HERMES_BINARY_DIR, "--prefix", prefix.string()});
  ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
  const auto hermes = (prefix / "bin/hermes").string();
  const auto gateway = (prefix / "bin/hermes-gateway").string();
  EXPECT_TRUE(std::filesystem::exists(prefix / "share/doc/hermes_gateway/config.example.yaml"));
  EXPECT_TRUE(std::filesystem::exists(prefix / "share/hermes/hermes-gateway.service"));

  auto r = run_process(hermes, {"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::create_directories(root.path() / "home");
  std::filesystem::create_directories(root.path() / "fakebin");
  root.write("home/config.yaml",
             "model: {provider: p, default: m}\nproviders: {p: {base_url: 'http://127.0.0.1:9'}}\n"
             "gateway: {api_server: {host: 127.0.0.1, port: 18643}}\n");
  const auto home = (root.path() / "home").string();
  r = run_process(gateway, {"--check-config", "--home", home});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // A service manager that accepts everything, so the unit the installed CLI writes can be read.
  root.write(
      "fakebin/systemctl",
      "#!/bin/sh\ncase \" $* \" in *\" show \"*) echo LoadState=not-found ;; esac\nexit 0\n");
  ::chmod((root.path() / "fakebin/systemctl").c_str(), 0755);
  r = run_process(hermes, {"gateway", "install", "--no-start", "--home", home},
                  {{"PATH", (root.path() / "fakebin").string() + ":/usr/bin:/bin"},
                   {"XDG_CONFIG_HOME", (root.path() / "config").string()},
                   {"HOME", home}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::ifstream unit(root.path() / "config/systemd/user/hermes-gateway.service");
  std::stringstream text;
  text << unit.rdbuf();
  EXPECT_THAT(text.str(),
              HasSubstr("ExecStart=" + std::filesystem::canonical(gateway).string() + "\n"));
}

}  // namespace
}  // namespace hermes::testing
