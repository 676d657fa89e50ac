#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/environment.hpp"

namespace hermes {

// The largest config.yaml read (a config is a few KiB; more is a mistake or an attack).
inline constexpr std::uintmax_t kMaxConfigBytes = 1024 * 1024;

// Every message names the file, the line when known, the key and what is wrong, e.g.
// "/root/.hermes/config.yaml:7: gateway.api_server.port: expected an integer 1-65535, got 'abc'".
struct ConfigLoadResult {
  std::optional<Config> config;  // set only when `errors` is empty
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
};

// Parses YAML text; `file_name` is only used in messages.
ConfigLoadResult parse_config(std::string_view yaml_text, std::string_view file_name,
                              const Environment& env);

// Reads and parses a config file; a missing or unreadable file is an error.
ConfigLoadResult load_config_file(const std::filesystem::path& file, const Environment& env);

}  // namespace hermes
