#include "daemon/usage/call_price.hpp"

#include <algorithm>

namespace hermes::daemon::usage {

CallPrice price_call(const ModelPrice& price, long prompt, long completion, long cache_write,
                     long cache_read) {
  const auto tokens = [](long n) { return static_cast<double>(std::max(0L, n)); };
  const double write_price = price.cache_write.value_or(price.input);
  const double read_price = price.cache_read.value_or(price.input);
  const double uncached = tokens(prompt - cache_write - cache_read);
  const double cached_cost = tokens(cache_write) * write_price + tokens(cache_read) * read_price;
  CallPrice out;
  out.cost_usd = (uncached * price.input + cached_cost + tokens(completion) * price.output) / 1e6;
  out.cache_saved_usd =
      ((tokens(cache_write) + tokens(cache_read)) * price.input - cached_cost) / 1e6;
  return out;
}

}  // namespace hermes::daemon::usage
