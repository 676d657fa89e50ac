#include "daemon/lifecycle/status_line.hpp"

#include <cmath>

#include "common/platform_health.hpp"

namespace hermes::daemon {

namespace {

std::string count(long n, const char* singular, const char* plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
}

// STATUS is one line in `systemctl status`.
std::string one_line(const std::string& text, std::size_t max) {
  std::string shown = text.size() > max ? text.substr(0, max) + "…" : text;
  for (auto& c : shown) {
    if (c == '\n') c = ' ';
  }
  return shown;
}

}  // namespace

std::string serving_status(long sessions, long active_runs) {
  return "Serving: " + count(sessions, "session", "sessions") + ", " +
         count(active_runs, "active run", "active runs");
}

std::string draining_status(long active_runs, std::chrono::milliseconds left) {
  const long long seconds = (left.count() + 999) / 1000;  // never show 0s while time is left
  return "Draining: " + count(active_runs, "active run", "active runs") + ", " +
         std::to_string(seconds) + "s left";
}

std::string reload_failed_status(const std::string& error) {
  return "Config reload failed: " + one_line(error, 200) + " (kept previous)";
}

std::string platform_status_note(const PlatformStatus& platform, double now) {
  switch (platform_health(platform, now).condition) {
    case PlatformCondition::up:
      return "";
    case PlatformCondition::error:
      // The detail says what to fix (e.g. another poller holds the token).
      return platform.name + ": " +
             (platform.detail.empty() ? "error" : one_line(platform.detail, 120));
    case PlatformCondition::silent:
      // The limit, not the growing silence: STATUS is re-sent only when its text changes.
      return platform.name + ": silent for over " +
             std::to_string(static_cast<long long>(std::floor(platform.silence_limit_seconds))) +
             "s";
  }
  return "";
}

}  // namespace hermes::daemon
