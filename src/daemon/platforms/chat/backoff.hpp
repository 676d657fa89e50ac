#pragma once

#include <algorithm>
#include <chrono>

namespace hermes::daemon::chat {

// A wait that doubles after each failure, up to a cap, and starts over after a success.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds first, std::chrono::milliseconds max)
      : first_(first), max_(std::max(first, max)), current_(first) {}
  // The wait after this failure; the next one is twice as long (at most `max`).
  std::chrono::milliseconds next() {
    const auto wait = current_;
    current_ = std::min(current_ * 2, max_);
    return wait;
  }
  std::chrono::milliseconds peek() const { return current_; }
  void reset() { current_ = first_; }

 private:
  std::chrono::milliseconds first_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_;
};

}  // namespace hermes::daemon::chat
