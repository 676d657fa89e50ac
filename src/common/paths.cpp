#include "common/paths.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace hermes {

namespace {

std::filesystem::path default_home() {
  if (const char* env_home = std::getenv("HERMES_HOME"); env_home && *env_home) {
    return env_home;
  }
  if (const char* user_home = std::getenv("HOME"); user_home && *user_home) {
    return std::filesystem::path(user_home) / ".hermes";
  }
  throw std::runtime_error(
      "cannot locate the hermes home: set HERMES_HOME or HOME, or pass --home");
}

}  // namespace

std::filesystem::path runtime_dir() {
  if (const char* unit = std::getenv("RUNTIME_DIRECTORY"); unit && *unit) {
    return std::filesystem::path(unit);  // systemd may list several, ':'-separated; we ask one
  }
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "hermes";
  }
  return std::filesystem::path("/tmp") / ("hermes-" + std::to_string(::getuid()));
}

std::filesystem::path status_socket_path(const std::filesystem::path& home) {
  std::error_code ignored;
  auto absolute = std::filesystem::weakly_canonical(std::filesystem::absolute(home), ignored);
  if (absolute.empty()) absolute = home;
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a: stable across builds and machines
  for (const char c : absolute.string()) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  }
  char name[32];
  std::snprintf(name, sizeof(name), "gateway-%08llx.sock",
                static_cast<unsigned long long>(hash & 0xFFFFFFFFull));
  return runtime_dir() / name;
}

HomePaths resolve_home(const std::optional<std::string>& home_option,
                       const std::optional<std::string>& config_option) {
  HomePaths paths;
  paths.home =
      home_option && !home_option->empty() ? std::filesystem::path(*home_option) : default_home();
  paths.config_file = config_option && !config_option->empty()
                          ? std::filesystem::path(*config_option)
                          : paths.home / "config.yaml";
  paths.env_file = paths.home / ".env";
  paths.state_db = paths.home / "state.db";
  return paths;
}

}  // namespace hermes
