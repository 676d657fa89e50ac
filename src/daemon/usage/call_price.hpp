#pragma once

#include "common/config.hpp"

namespace hermes::daemon::usage {

// What one provider call cost, and what prompt caching saved on it against paying the input
// price for every cached token (negative when cache writes cost more than reads saved).
struct CallPrice {
  double cost_usd = 0;
  double cache_saved_usd = 0;
};

// `prompt` counts all input tokens, the `cache_write` and `cache_read` ones included. Cache
// tokens without their own price in `price` are priced as input.
CallPrice price_call(const ModelPrice& price, long prompt, long completion, long cache_write,
                     long cache_read);

}  // namespace hermes::daemon::usage
