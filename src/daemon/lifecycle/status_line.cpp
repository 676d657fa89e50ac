#include "daemon/lifecycle/status_line.hpp"

namespace hermes::daemon {

namespace {

std::string count(long n, const char* singular, const char* plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural);
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
  constexpr std::size_t kMax = 200;  // STATUS is one line in `systemctl status`
  std::string shown = error.size() > kMax ? error.substr(0, kMax) + "…" : error;
  for (auto& c : shown) {
    if (c == '\n') c = ' ';
  }
  return "Config reload failed: " + shown + " (kept previous)";
}

}  // namespace hermes::daemon
