#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cli/scope.hpp"
#include "common/runtime_status.hpp"

namespace hermes::cli {

// Reads the daemon's runtime view from its status socket; on failure returns nothing and
// says why in `error` (not running, permission, garbage).
std::optional<RuntimeStatus> read_runtime_status(const std::filesystem::path& socket,
                                                 std::string& error);

// The status socket to ask: the one of the daemon whose pid is `main_pid` (the unit's, when
// known: it may serve another home), else the one of this CLI's home ($HERMES_HOME or
// ~/.hermes; user scope), else (--system, whose home the CLI cannot know) the only one there.
std::filesystem::path locate_runtime_socket(Scope scope, long main_pid);

// Sends one request line ("status", "clear-cooldowns") and returns the daemon's JSON answer.
std::optional<nlohmann::json> runtime_request(const std::filesystem::path& socket,
                                              const std::string& request, std::string& error);

}  // namespace hermes::cli
