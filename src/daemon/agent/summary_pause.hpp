#pragma once

#include <algorithm>
#include <chrono>

namespace hermes::daemon {

// When a failing summary model may be asked again: not for 30 s after a failure, twice as
// long after each further one (at most 10 minutes), at once after a success. Without it every
// compaction paid a call that fails again (issue 24); meanwhile the oldest turns are dropped
// as when the summary fails.
class SummaryPause {
 public:
  using Clock = std::chrono::steady_clock;
  using Duration = std::chrono::milliseconds;
  static constexpr Duration kFirst{30000};
  static constexpr Duration kLongest{600000};

  // `first`: shorter only under test hooks.
  explicit SummaryPause(Duration first = kFirst) : first_(first) {}

  bool paused(Clock::time_point now) const { return now < until_; }
  // The pause this failure starts.
  Duration failed(Clock::time_point now) {
    pause_ = pause_.count() == 0 ? first_ : std::min(pause_ * 2, std::max(kLongest, first_));
    until_ = now + pause_;
    return pause_;
  }
  void succeeded() {
    pause_ = Duration(0);
    until_ = {};
  }

 private:
  Duration first_;
  Duration pause_{0};
  Clock::time_point until_{};
};

}  // namespace hermes::daemon
