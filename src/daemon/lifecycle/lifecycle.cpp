#include "daemon/lifecycle/lifecycle.hpp"

#include <algorithm>

#include "common/exit_codes.hpp"

namespace hermes::daemon {

std::string_view to_string(LifecycleState state) {
  switch (state) {
    case LifecycleState::starting:
      return "starting";
    case LifecycleState::serving:
      return "serving";
    case LifecycleState::draining:
      return "draining";
    case LifecycleState::stopped:
      return "stopped";
  }
  return "unknown";
}

void Lifecycle::mark_serving() {
  if (state_ == LifecycleState::starting) state_ = LifecycleState::serving;
}

bool Lifecycle::begin_drain(DrainKind kind, Clock::time_point now,
                            std::chrono::milliseconds budget) {
  if (state_ == LifecycleState::draining || state_ == LifecycleState::stopped) {
    if (kind == DrainKind::stop && state_ == LifecycleState::draining) {
      drain_deadline_ = std::min(drain_deadline_, now + budget);
      drain_kind_ = DrainKind::stop;  // the user asked for a stop: do not come back
    }
    return false;
  }
  state_ = LifecycleState::draining;
  drain_kind_ = kind;
  drain_started_ = now;
  drain_deadline_ = now + budget;
  return true;
}

std::chrono::milliseconds Lifecycle::drain_left(Clock::time_point now) const {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(drain_deadline_ - now));
}

int Lifecycle::exit_code() const {
  return drain_kind_ == DrainKind::restart ? kExitPlannedRestart : kExitOk;
}

}  // namespace hermes::daemon
