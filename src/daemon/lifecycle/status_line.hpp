#pragma once

#include <chrono>
#include <string>

#include "common/runtime_status.hpp"

namespace hermes::daemon {

// The STATUS= texts systemd shows in `systemctl status` (and `hermes gateway restart`
// reads for its progress line).
std::string serving_status(long sessions, long active_runs);  // "Serving: 3 sessions, 1 active run"
std::string draining_status(long active_runs,
                            std::chrono::milliseconds left);  // "Draining: 2 active runs, 41s left"
std::string reload_failed_status(
    const std::string& error);  // "Config reload failed: … (kept previous)"
// What STATUS= adds for a platform that is not up at `now` (platform_health), "" when it is:
// "telegram: 409 Conflict: …" (its error detail), "telegram: error", "telegram: silent for over
// 60s".
std::string platform_status_note(const PlatformStatus& platform, double now);

}  // namespace hermes::daemon
