#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hermes::daemon::tools {

// Writes an MCP server's log notification to the gateway's log, under the server's name, at
// the level mcp::read_server_log maps it to.
void log_server_message(const std::string& server, const nlohmann::json& params);

}  // namespace hermes::daemon::tools
