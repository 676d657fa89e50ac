#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace hermes {

// Routes spdlog to stderr, one line per event, each prefixed with its journald priority
// (<3> error … <7> debug) so `journalctl -p` filters work. Call once, early in main().
void init_logging(bool verbose);

// One log line from a message whatever it holds: control characters (a provider's "\n<0>…"
// would forge a line with a priority of its choosing) become visible escapes (\n, \r, \t,
// \xNN), so every event stays one line with the priority the gateway gave it.
std::string escape_for_log(std::string_view message);

// What an exception says: its what(), or "unknown exception" for one that is not a
// std::exception. `error` must not be null.
std::string describe_exception(std::exception_ptr error);

// Completion handler body for co_spawn: logs what a coroutine threw (co_spawn with `detached`
// would swallow it). `what` names the task, e.g. "HTTP connection".
void log_exception(std::exception_ptr error, std::string_view what);

}  // namespace hermes
