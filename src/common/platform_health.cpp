#include "common/platform_health.hpp"

#include <cmath>

namespace hermes {

namespace {

std::string whole_seconds(double seconds) {
  return std::to_string(static_cast<long long>(std::floor(seconds))) + " s";
}

}  // namespace

PlatformHealth platform_health(const PlatformStatus& platform, double now) {
  if (platform.state == "error") {
    return {PlatformCondition::error,
            platform.detail.empty() ? "error" : "error: " + platform.detail};
  }
  const bool live =
      platform.state == "running" || platform.state == "connecting" || platform.state == "starting";
  if (!live || platform.silence_limit_seconds <= 0 || platform.last_event_at <= 0) return {};
  const double quiet = now - platform.last_event_at;
  if (quiet <= platform.silence_limit_seconds) return {};
  return {PlatformCondition::silent, "no event for " + whole_seconds(quiet) + " (limit " +
                                         whole_seconds(platform.silence_limit_seconds) + ")"};
}

std::map<std::string, std::string> platform_problems(const std::vector<PlatformStatus>& platforms,
                                                     double now) {
  std::map<std::string, std::string> problems;
  for (const auto& p : platforms) {
    if (auto health = platform_health(p, now); !health.up()) problems[p.name] = health.problem;
  }
  return problems;
}

}  // namespace hermes
