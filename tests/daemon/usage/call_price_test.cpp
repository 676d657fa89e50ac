#include "daemon/usage/call_price.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::usage {
namespace {

// Prices in USD per million tokens, so a million tokens of each kind reads as the price.
TEST(CallPrice, CachedInputIsPricedAsCachedAndTheSavingIsAgainstTheInputPrice) {
  struct Row {
    const char* name;
    ModelPrice price;
    long prompt, completion, write, read;
    double cost, saved;
  };
  const ModelPrice claude{3.0, 15.0, 3.75, 0.30};
  const Row rows[] = {
      {"no cache", claude, 1'000'000, 1'000'000, 0, 0, 18.0, 0.0},
      {"all read", claude, 1'000'000, 0, 0, 1'000'000, 0.30, 2.70},
      {"all written", claude, 1'000'000, 0, 1'000'000, 0, 3.75, -0.75},
      {"mixed", claude, 3'000'000, 0, 1'000'000, 1'000'000, 3.0 + 3.75 + 0.30, 2.70 - 0.75},
      {"cache prices unset: as input", ModelPrice{2.0, 8.0, {}, {}}, 1'000'000, 0, 500'000, 500'000,
       2.0, 0.0},
      {"counts past the prompt do not go negative", claude, 10, 0, 20, 0, 20 * 3.75 / 1e6,
       20 * (3.0 - 3.75) / 1e6},
  };
  for (const auto& row : rows) {
    const auto price = price_call(row.price, row.prompt, row.completion, row.write, row.read);
    EXPECT_NEAR(price.cost_usd, row.cost, 1e-9) << row.name;
    EXPECT_NEAR(price.cache_saved_usd, row.saved, 1e-9) << row.name;
  }
}

}  // namespace
}  // namespace hermes::daemon::usage
