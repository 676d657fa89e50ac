#pragma once

#include <set>
#include <string>

#include "common/config.hpp"

namespace hermes::daemon::builtin {

// The built-in tools tools.builtin offers, as OpenAI function tools: the entries of a `tools`
// array, comma-separated, without the brackets ("" for none). session_search needs the store.
std::string offered_tool_entries(const BuiltinToolsConfig& tools, bool with_sessions);
std::set<std::string> offered_tool_names(const BuiltinToolsConfig& tools, bool with_sessions);

}  // namespace hermes::daemon::builtin
