#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/tools/log_limiter.hpp"

namespace hermes::daemon::tools {

// Writes an MCP server's log notification to the gateway's log, under the server's name, at
// the level mcp::read_server_log maps it to, within the server's `limiter`.
void log_server_message(const std::string& server, const nlohmann::json& params,
                        LogLimiter& limiter);

// One line the server wrote to its stderr, the same way (at info).
void log_server_line(const std::string& server, std::string_view line, LogLimiter& limiter);

}  // namespace hermes::daemon::tools
