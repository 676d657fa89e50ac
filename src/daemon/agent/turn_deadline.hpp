#pragma once

#include <algorithm>
#include <chrono>

namespace hermes::daemon {

// When a turn runs out of time: `inactivity` (agent.turn_timeout) after its last progress (the
// start, an answer, a streamed byte, a tool round's results), and never past its hard cap
// (agent.turn_hard_timeout from the start). A turn that keeps making progress is not cut at
// the inactivity limit; one that is silent is, however young.
template <typename TimePoint, typename Duration>
TimePoint turn_deadline(TimePoint last_progress, Duration inactivity, TimePoint hard_deadline) {
  return std::min<TimePoint>(last_progress + inactivity, hard_deadline);
}

}  // namespace hermes::daemon
