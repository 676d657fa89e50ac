#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace hermes::cli {

// User scope (`systemctl --user`, ~/.config/systemd/user) or system scope (`--system`).
enum class Scope { user, system };

inline constexpr const char* kUnitName = "hermes-gateway.service";

// "User service" / "System service", as every message says it.
std::string service_label(Scope scope);

// Command lines, built without a shell. Pure, so `--system` paths are table-tested.
std::vector<std::string> systemctl_command(Scope scope, const std::vector<std::string>& args);
std::vector<std::string> journalctl_command(Scope scope, const std::vector<std::string>& args);

// Where the unit file lives: $XDG_CONFIG_HOME/systemd/user (~/.config/…) or /etc/systemd/system.
std::filesystem::path unit_directory(Scope scope);

// The daemon's runtime dir as the daemon under that scope sees it.
// Where the daemons of `scope` keep their status sockets (one per home).
std::filesystem::path runtime_dir_for(Scope scope);

}  // namespace hermes::cli
