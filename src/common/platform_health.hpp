#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/runtime_status.hpp"

namespace hermes {

// Whether a platform is doing its work, judged from its status alone at `now` (unix seconds).
// The daemon uses it for /health, /metrics and STATUS=; `hermes gateway status` for its text.
enum class PlatformCondition { up, error, silent };

struct PlatformHealth {
  PlatformCondition condition = PlatformCondition::up;
  // "" when up; else what /health says, e.g. "error: 409 Conflict: …" or
  // "no event for 95 s (limit 60 s)".
  std::string problem;
  bool up() const { return condition == PlatformCondition::up; }
};

// - `error` is degraded.
// - `running` is degraded (silent) when its last event is older than its silence limit.
// - `connecting` (`starting`) gets the same limit, counted from its last event: a reconnect
//   that goes on quietly past it is silent too. Before any event it is not judged (a first
//   connect that fails says `error`), so a start is never reported as degraded.
// - `standby` (another gateway holds the connection), `stopped`, `disabled`: not degraded.
// - No limit (0) or no event yet (0): never silent.
PlatformHealth platform_health(const PlatformStatus& platform, double now);

// The platforms that are not up, by name, with their problem (the /health `platforms` object).
std::map<std::string, std::string> platform_problems(const std::vector<PlatformStatus>& platforms,
                                                     double now);

}  // namespace hermes
