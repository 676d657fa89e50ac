#pragma once

#include <chrono>

namespace hermes::daemon::tools {

// How many of an MCP server's log lines (stderr and notifications/message) reach the gateway's
// log: a token bucket (a burst, then a steady rate). A chatty server once wrote 772 MB in 10 s
// and, under journald, would push the gateway's own lines out by the rate limit. Lines over
// the rate are counted, and the count is reported before the next line that passes.
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LogLimiter(double lines_per_second = 10, double burst = 50);

  struct Verdict {
    bool log = false;     // this line may be logged
    long suppressed = 0;  // lines held back since the last that passed: say so first
  };
  Verdict admit(Clock::time_point now);
  long suppressed_total() const { return suppressed_total_; }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_{};
  bool started_ = false;
  long suppressed_ = 0;
  long suppressed_total_ = 0;
};

}  // namespace hermes::daemon::tools
