#pragma once

#include <spawn.h>

#include <string>
#include <vector>

namespace hermes::daemon::tools {

// What every child the gateway starts (MCP servers, the terminal's commands) gets: its own
// process group (stopped as a whole, tree included), no blocked signals and every signal at
// its default (the gateway ignores SIGPIPE and handles others; the child must not inherit that).
void isolate_signals_and_group(posix_spawnattr_t& attributes);

// The null-terminated array exec wants; points into `strings`.
std::vector<char*> exec_array(std::vector<std::string>& strings);

}  // namespace hermes::daemon::tools
