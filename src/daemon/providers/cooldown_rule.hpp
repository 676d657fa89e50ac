#pragma once

#include <chrono>
#include <optional>

#include "daemon/providers/failover_reason.hpp"

namespace hermes::providers {

// How long a key, or a whole provider, rests after a failure: the one rule both the
// credential pool and the provider bench follow, so the two never disagree about when the
// provider is tried again. `strikes` counts the failures of this kind in a row (1 for the
// first): a billing wall is probed with one real call after 5 min, then 10, 20, 40 and at
// most 60 min, so a top-up is noticed without a restart.
std::chrono::milliseconds cooldown_length(FailoverReason reason,
                                          std::optional<std::chrono::milliseconds> retry_after,
                                          int strikes);

// The longest Retry-After the gateway honours; a provider asking for a week gets an hour.
inline constexpr std::chrono::milliseconds kMaxHonouredRetryAfter = std::chrono::hours(1);

}  // namespace hermes::providers
