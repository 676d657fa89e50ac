// The one cooldown rule (keys and provider benches alike), and a billing wall as the pool
// lives it: 402 -> resting -> probe -> either resting longer or recovered after a top-up.
#include "daemon/providers/cooldown_rule.hpp"

#include <gtest/gtest.h>

#include "daemon/providers/credential_pool.hpp"

namespace hermes::providers {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

struct RuleCase {
  FailoverReason reason;
  std::optional<milliseconds> retry_after;
  int strikes;
  milliseconds expected;
};

TEST(CooldownRule, OneTableForKeysAndBenches) {
  const RuleCase cases[] = {
      {FailoverReason::billing, std::nullopt, 1, 5min},
      {FailoverReason::billing, std::nullopt, 2, 10min},
      {FailoverReason::billing, std::nullopt, 3, 20min},
      {FailoverReason::billing, std::nullopt, 4, 40min},
      {FailoverReason::billing, std::nullopt, 5, 60min},
      {FailoverReason::billing, std::nullopt, 50, 60min},  // never past an hour
      {FailoverReason::billing, 7200s, 1, 5min},           // a billing wall's own reset is no probe
      {FailoverReason::auth, std::nullopt, 1, 5min},
      {FailoverReason::auth, std::nullopt, 9, 5min},
      {FailoverReason::auth_permanent, std::nullopt, 1, 15min},
      {FailoverReason::auth_permanent, std::nullopt, 5, 60min},
      {FailoverReason::rate_limit, 90s, 1, 90s},
      {FailoverReason::rate_limit, 200ms, 1, 1s},                    // at least a second
      {FailoverReason::rate_limit, milliseconds(604800000), 1, 1h},  // a week is capped
      {FailoverReason::rate_limit, std::nullopt, 1, 60s},
      {FailoverReason::overloaded, std::nullopt, 1, 30s},
      {FailoverReason::server_error, std::nullopt, 3, 30s},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(cooldown_length(c.reason, c.retry_after, c.strikes), c.expected)
        << to_string(c.reason) << " strikes " << c.strikes;
  }
}

TEST(CooldownRule, ABillingWallIsProbedAndATopUpIsNoticedWithoutARestart) {
  CredentialPool pool({"sk-only"});
  auto now = CredentialPool::Clock::time_point{} + 1h;
  pool.cool_down(0, FailoverReason::billing, std::nullopt, now);
  EXPECT_FALSE(pool.available(now + 4min));
  const auto resting = pool.soonest(now + 4min);
  ASSERT_TRUE(resting);
  EXPECT_EQ(resting->reason, FailoverReason::billing) << "the wall must be named as billing";
  EXPECT_EQ(resting->left, 1min);

  // After 5 min the key is tried once (the probe); still no money: twice as long.
  now += 5min;
  ASSERT_TRUE(pool.available(now));
  pool.cool_down(0, FailoverReason::billing, std::nullopt, now);
  EXPECT_FALSE(pool.available(now + 9min));
  now += 10min;
  ASSERT_TRUE(pool.available(now));

  // Topped up: the probe succeeds, and a later wall starts again at 5 min.
  pool.succeeded(0);
  pool.cool_down(0, FailoverReason::billing, std::nullopt, now);
  EXPECT_TRUE(pool.available(now + 5min));
}

TEST(CooldownRule, ClearingForgetsEveryCooldown) {
  CredentialPool pool({"a", "b"});
  const auto now = CredentialPool::Clock::time_point{} + 1h;
  pool.cool_down(0, FailoverReason::billing, std::nullopt, now);
  pool.cool_down(1, FailoverReason::auth, std::nullopt, now);
  EXPECT_FALSE(pool.available(now));
  EXPECT_EQ(pool.cooldowns(now).size(), 2u);
  pool.clear();
  EXPECT_EQ(pool.available(now), 0u);
  EXPECT_TRUE(pool.cooldowns(now).empty());
}

}  // namespace
}  // namespace hermes::providers
