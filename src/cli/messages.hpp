#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cli/scope.hpp"
#include "common/runtime_status.hpp"

namespace hermes::cli {

// Every user-facing line of the lifecycle verbs, as the contract spells them.
std::string draining_line(Scope scope);            // ⏳ User service draining active work...
std::string waiting_line();                        // ⏳ Waiting for hermes-gateway to restart...
std::string restarted_line(Scope scope, int pid);  // ✓ User service restarted (PID 12345)
std::string not_active_within_line(Scope scope, std::chrono::seconds limit);
std::string not_drained_within_line(Scope scope, std::chrono::seconds limit);
std::string failed_line(Scope scope, const std::string& what, int exit_status);
std::vector<std::string> where_to_look(Scope scope);  // the two "Check …" hints
std::vector<std::string> not_installed_lines(Scope scope);
// systemctl could not reach the service manager: what failed and how to get one.
std::vector<std::string> unreachable_manager_lines(Scope scope, const std::string& detail);

// The live suffix shown on a TTY during the drain, from the daemon's STATUS
// ("Draining: 2 active runs, 41s left" → " (2 active runs, 41s left)"); "" otherwise.
std::string drain_progress_suffix(const std::string& status_text);

// One platform in `hermes gateway status`, at `now` (unix seconds):
// "telegram: running, last event 3s ago, last reply 10s ago",
// "telegram: error (409 Conflict: …)", "api_server: running (127.0.0.1:8642)"; a silent one ends
// "; DEGRADED: no event for 95 s (limit 60 s)".
std::string platform_line(const PlatformStatus& platform, double now);

}  // namespace hermes::cli
