#pragma once

#include <chrono>
#include <string>

namespace hermes::daemon {

// The STATUS= texts systemd shows in `systemctl status` (and `hermes gateway restart`
// reads for its progress line).
std::string serving_status(long sessions, long active_runs);  // "Serving: 3 sessions, 1 active run"
std::string draining_status(long active_runs,
                            std::chrono::milliseconds left);  // "Draining: 2 active runs, 41s left"
std::string reload_failed_status(
    const std::string& error);  // "Config reload failed: … (kept previous)"

}  // namespace hermes::daemon
