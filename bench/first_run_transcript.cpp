// The first-run path as a user sees it, under a private systemd user manager: install ->
// status -> restart -> cooldowns -> uninstall, each command with its output and exit code.
// For closing notes and docs (not a test: the CLI tests assert the same behaviour).
// Usage: hermes_first_run_transcript
#include <iostream>

#include "../tests/integration/daemon_fixture.hpp"
#include "../tests/integration/user_manager.hpp"

using namespace hermes::testing;

int main() {
  UserManager manager;
  if (auto error = manager.start(); !error.empty()) {
    std::cerr << error << '\n';
    return 1;
  }
  GatewayHome home;
  home.write_config();
  auto env = manager.client_env();
  env["HERMES_HOME"] = home.home();
  const std::vector<std::vector<std::string>> steps{
      {"gateway", "install", "--from-build-tree"},
      {"gateway", "status"},
      {"gateway", "restart"},
      {"gateway", "status"},
      {"gateway", "cooldowns"},
      {"gateway", "uninstall"},
      {"gateway", "status"},
  };
  for (const auto& args : steps) {
    std::cout << "$ hermes";
    for (const auto& a : args) std::cout << ' ' << a;
    std::cout << '\n';
    const auto r = run_process(kCliBin, args, env);
    std::cout << r.out << r.err << "[exit " << r.exit_code << "]\n\n";
  }
  return 0;
}
