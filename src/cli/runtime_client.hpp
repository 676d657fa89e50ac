#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/runtime_status.hpp"

namespace hermes::cli {

// Reads the daemon's runtime view from its status socket; on failure returns nothing and
// says why in `error` (not running, permission, garbage).
std::optional<RuntimeStatus> read_runtime_status(const std::filesystem::path& socket,
                                                 std::string& error);

// Sends one request line ("status", "clear-cooldowns") and returns the daemon's JSON answer.
std::optional<nlohmann::json> runtime_request(const std::filesystem::path& socket,
                                              const std::string& request, std::string& error);

}  // namespace hermes::cli
