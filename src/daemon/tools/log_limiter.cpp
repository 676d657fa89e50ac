#include "daemon/tools/log_limiter.hpp"

#include <algorithm>

namespace hermes::daemon::tools {

LogLimiter::LogLimiter(double lines_per_second, double burst)
    : rate_(lines_per_second), burst_(burst), tokens_(burst) {}

LogLimiter::Verdict LogLimiter::admit(Clock::time_point now) {
  if (started_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + std::max(elapsed, 0.0) * rate_);
  }
  started_ = true;
  last_ = now;
  Verdict verdict;
  if (tokens_ < 1) {
    ++suppressed_;
    ++suppressed_total_;
    return verdict;
  }
  tokens_ -= 1;
  verdict.log = true;
  verdict.suppressed = suppressed_;
  suppressed_ = 0;
  return verdict;
}

}  // namespace hermes::daemon::tools
