#pragma once

#include <chrono>
#include <string_view>

namespace hermes::daemon {

enum class LifecycleState { starting, serving, draining, stopped };
enum class DrainKind { restart, stop };  // SIGUSR1 / SIGTERM, SIGINT

std::string_view to_string(LifecycleState state);

// starting → serving → draining → stopped; every part asks this before taking new work.
class Lifecycle {
 public:
  using Clock = std::chrono::steady_clock;

  LifecycleState state() const { return state_; }
  bool accepting_work() const { return state_ == LifecycleState::serving; }

  void mark_serving();
  void mark_stopped() { state_ = LifecycleState::stopped; }

  // Starts a drain and returns true, or, when one is already running, returns false and only
  // lets a stop shorten the deadline to its own (smaller) budget: a second signal never
  // restarts the drain or extends it.
  bool begin_drain(DrainKind kind, Clock::time_point now, std::chrono::milliseconds budget);

  DrainKind drain_kind() const { return drain_kind_; }
  Clock::time_point drain_started() const { return drain_started_; }
  Clock::time_point drain_deadline() const { return drain_deadline_; }
  std::chrono::milliseconds drain_left(Clock::time_point now) const;

  // 75 after a planned restart (systemd restarts us), 0 after a stop.
  int exit_code() const;

 private:
  LifecycleState state_ = LifecycleState::starting;
  DrainKind drain_kind_ = DrainKind::stop;
  Clock::time_point drain_started_{};
  Clock::time_point drain_deadline_{};
};

}  // namespace hermes::daemon
