#include "daemon/providers/cooldown_rule.hpp"

#include <algorithm>

namespace hermes::providers {

using namespace std::chrono_literals;

std::chrono::milliseconds cooldown_length(FailoverReason reason,
                                          std::optional<std::chrono::milliseconds> retry_after,
                                          int strikes) {
  const int doublings = std::clamp(strikes, 1, 16) - 1;
  switch (reason) {
    case FailoverReason::billing:
      return std::min<std::chrono::milliseconds>(5min * (1 << std::min(doublings, 4)), 1h);
    case FailoverReason::auth:
      return 5min;
    case FailoverReason::auth_permanent:
      return std::min<std::chrono::milliseconds>(15min * (1 << std::min(doublings, 2)), 1h);
    case FailoverReason::rate_limit:
      if (retry_after && *retry_after > 0ms) {
        return std::clamp<std::chrono::milliseconds>(*retry_after, 1s, kMaxHonouredRetryAfter);
      }
      return 60s;
    case FailoverReason::budget_exceeded:  // the key's budget: until its period resets
      if (retry_after && *retry_after > 0ms) {
        return std::clamp<std::chrono::milliseconds>(*retry_after, 1s, 24h * 32);
      }
      return 1h;
    default:
      return 30s;
  }
}

}  // namespace hermes::providers
