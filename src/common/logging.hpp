#pragma once

#include <exception>
#include <string_view>

namespace hermes {

// Routes spdlog to stderr, one line per event, each prefixed with its journald priority
// (<3> error … <7> debug) so `journalctl -p` filters work. Call once, early in main().
void init_logging(bool verbose);

// Completion handler body for co_spawn: logs what a coroutine threw (co_spawn with `detached`
// would swallow it). `what` names the task, e.g. "HTTP connection".
void log_exception(std::exception_ptr error, std::string_view what);

}  // namespace hermes
