#pragma once

#include <chrono>
#include <random>

#include "daemon/providers/classification.hpp"

namespace hermes::providers {

struct FailoverSettings {
  int attempts_per_provider = 3;  // agent.api_max_retries
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_max{20000};
  // A provider asking us to wait longer than this is not waited for within a turn: we fall
  // back or fail with the reset time in the hint, never retry sooner than it asked.
  std::chrono::milliseconds retry_after_cap{60000};
};

enum class FailoverAction { retry_same_key, rotate_key, fall_back, give_up };

struct FailoverDecision {
  FailoverAction action = FailoverAction::give_up;
  std::chrono::milliseconds wait{0};
};

// What to do after a failed call. Pure: `attempt` counts calls made on this provider
// (1 after the first); `jitter` is in [0, 1).
FailoverDecision decide_failover(const Classification& failure, int attempt,
                                 const FailoverSettings& settings, bool other_key_available,
                                 bool fallback_available, double jitter);

// min(base·2^(attempt−1), max) plus up to half of that again, so sessions do not retry in step.
std::chrono::milliseconds jittered_backoff(int attempt, const FailoverSettings& settings,
                                           double jitter);

// Reasons after which the provider is benched for later turns too.
bool benches_provider(FailoverReason reason);

}  // namespace hermes::providers
