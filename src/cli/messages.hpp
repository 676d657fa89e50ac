#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cli/scope.hpp"

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

}  // namespace hermes::cli
