#include "daemon/providers/failover_policy.hpp"

#include <algorithm>
#include <cmath>

namespace hermes::providers {

std::chrono::milliseconds jittered_backoff(int attempt, const FailoverSettings& settings,
                                           double jitter) {
  const double base = static_cast<double>(settings.backoff_base.count());
  const double delay = std::min(base * std::pow(2.0, std::max(0, attempt - 1)),
                                static_cast<double>(settings.backoff_max.count()));
  return std::chrono::milliseconds(static_cast<long long>(delay + delay * 0.5 * jitter));
}

bool benches_provider(FailoverReason reason) {
  return reason == FailoverReason::billing || reason == FailoverReason::rate_limit ||
         reason == FailoverReason::auth || reason == FailoverReason::auth_permanent;
}

FailoverDecision decide_failover(const Classification& failure, int attempt,
                                 const FailoverSettings& settings, bool other_key_available,
                                 bool fallback_available, double jitter) {
  // A key-level failure (bad key, empty balance, throttled key) moves to the next key at once.
  if (failure.rotate_credential && other_key_available) {
    return {FailoverAction::rotate_key, std::chrono::milliseconds(0)};
  }
  // The conversation itself must change (too long): no retry or other provider fixes that.
  if (failure.compress) return {FailoverAction::give_up, std::chrono::milliseconds(0)};
  if (failure.retryable && attempt < settings.attempts_per_provider) {
    const auto backoff = jittered_backoff(attempt, settings, jitter);
    if (!failure.retry_after) return {FailoverAction::retry_same_key, backoff};
    if (*failure.retry_after <= settings.retry_after_cap) {
      return {FailoverAction::retry_same_key, std::max(backoff, *failure.retry_after)};
    }
  }
  if (failure.fallback && fallback_available) {
    return {FailoverAction::fall_back, std::chrono::milliseconds(0)};
  }
  return {FailoverAction::give_up, std::chrono::milliseconds(0)};
}

}  // namespace hermes::providers
