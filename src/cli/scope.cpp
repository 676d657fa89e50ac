#include "cli/scope.hpp"

#include <cstdlib>

#include "common/paths.hpp"

namespace hermes::cli {

std::string service_label(Scope scope) {
  return scope == Scope::user ? "User service" : "System service";
}

std::vector<std::string> systemctl_command(Scope scope, const std::vector<std::string>& args) {
  std::vector<std::string> command{"systemctl"};
  if (scope == Scope::user) command.emplace_back("--user");
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

std::vector<std::string> journalctl_command(Scope scope, const std::vector<std::string>& args) {
  std::vector<std::string> command{"journalctl"};
  if (scope == Scope::user) command.emplace_back("--user");
  command.insert(command.end(), {"-u", "hermes-gateway", "--no-pager"});
  command.insert(command.end(), args.begin(), args.end());
  return command;
}

std::filesystem::path unit_directory(Scope scope) {
  if (scope == Scope::system) return "/etc/systemd/system";
  if (const char* config = std::getenv("XDG_CONFIG_HOME"); config && *config) {
    return std::filesystem::path(config) / "systemd/user";
  }
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : "/root") / ".config/systemd/user";
}

std::filesystem::path runtime_dir_for(Scope scope) {
  // The system unit's RuntimeDirectory=hermes.
  if (scope == Scope::system) return "/run/hermes";
  return runtime_dir();
}

}  // namespace hermes::cli
