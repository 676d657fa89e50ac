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

// How a chat shows an offered tool: the server's own name (mcp_files_read_text_file →
// read_text_file; a server name with '_' in it leaves part of itself).
std::string display_tool_name(std::string_view exposed);

}  // namespace hermes::daemon::tools
