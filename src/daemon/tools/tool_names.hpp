#pragma once

#include <string>
#include <string_view>

namespace hermes::daemon::tools {

// The name a server's tool is offered to the model under: "mcp_<server>_<tool>", every
// character outside [A-Za-z0-9_] replaced by '_'; past 64 characters (the providers' limit) it
// is cut to 55 and given '_' and 8 hex digits of a hash of the full name, so two long names
// that share their start stay apart.
std::string exposed_tool_name(std::string_view server, std::string_view tool);

// Server names are [A-Za-z0-9_-]+ (they appear in tool names, logs and metrics labels).
bool valid_server_name(std::string_view name);

}  // namespace hermes::daemon::tools
