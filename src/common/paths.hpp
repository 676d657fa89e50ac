#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace hermes {

// Where a hermes installation keeps its files. `--home` beats $HERMES_HOME beats ~/.hermes.
struct HomePaths {
  std::filesystem::path home;
  std::filesystem::path config_file;  // home/config.yaml unless --config says otherwise
  std::filesystem::path env_file;     // home/.env
  std::filesystem::path state_db;     // home/state.db
};

// What the CLI and the daemon share at run time, such as the status socket: systemd's
// $RUNTIME_DIRECTORY (the unit's RuntimeDirectory=hermes: /run/hermes for --system), else
// $XDG_RUNTIME_DIR/hermes, else /tmp/hermes-<uid>. Not created here.
std::filesystem::path runtime_dir();
// The status socket of the daemon serving `home`: one per home, so two gateways on two homes
// never take each other's socket ("gateway-<8 hex digits of the home path's hash>.sock").
std::filesystem::path status_socket_path(const std::filesystem::path& home);

// Resolves the home directory from an explicit option, then the environment.
// Throws std::runtime_error when neither HERMES_HOME nor HOME is set.
HomePaths resolve_home(const std::optional<std::string>& home_option,
                       const std::optional<std::string>& config_option);

}  // namespace hermes
