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

// $XDG_RUNTIME_DIR/hermes (or /tmp/hermes-<uid> without it): what the CLI and the daemon
// share at run time, such as the status socket. Not created here.
std::filesystem::path runtime_dir();
std::filesystem::path status_socket_path();

// Resolves the home directory from an explicit option, then the environment.
// Throws std::runtime_error when neither HERMES_HOME nor HOME is set.
HomePaths resolve_home(const std::optional<std::string>& home_option,
                       const std::optional<std::string>& config_option);

}  // namespace hermes
