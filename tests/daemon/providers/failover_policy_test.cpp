#include "daemon/providers/failover_policy.hpp"

#include <gtest/gtest.h>

#include "daemon/providers/credential_pool.hpp"

namespace hermes::providers {
namespace {

using namespace std::chrono_literals;
using A = FailoverAction;

Classification failure(FailoverReason reason, bool retryable, bool rotate, bool fallback,
                       bool compress = false,
                       std::optional<std::chrono::milliseconds> retry_after = {}) {
  Classification c;
  c.reason = reason;
  c.retryable = retryable;
  c.rotate_credential = rotate;
  c.fallback = fallback;
  c.compress = compress;
  c.retry_after = retry_after;
  return c;
}

struct PolicyCase {
  const char* name;
  Classification failure;
  int attempt;
  bool other_key;
  bool fallback;
  A action;
  std::chrono::milliseconds min_wait{0};
};

class FailoverPolicyTable : public ::testing::TestWithParam<PolicyCase> {};

TEST_P(FailoverPolicyTable, Decides) {
  const auto& c = GetParam();
  FailoverSettings settings;
  const auto d = decide_failover(c.failure, c.attempt, settings, c.other_key, c.fallback, 0.5);
  EXPECT_EQ(static_cast<int>(d.action), static_cast<int>(c.action));
  EXPECT_GE(d.wait, c.min_wait);
}

void PrintTo(const PolicyCase& c, std::ostream* os) {
  *os << c.name;
}

const auto billing = failure(FailoverReason::billing, false, true, true);
const auto rate = failure(FailoverReason::rate_limit, true, true, true, false, 20s);
const auto rate_long = failure(FailoverReason::rate_limit, true, true, true, false, 600s);
const auto overloaded = failure(FailoverReason::overloaded, true, false, true);
const auto overflow = failure(FailoverReason::context_overflow, true, false, false, true);
const auto policy = failure(FailoverReason::provider_policy_blocked, false, false, false);

INSTANTIATE_TEST_SUITE_P(
    Decisions, FailoverPolicyTable,
    ::testing::Values(
        PolicyCase{"billing_rotates_when_another_key", billing, 1, true, true, A::rotate_key},
        PolicyCase{"billing_never_retries_same_key", billing, 1, false, false, A::give_up},
        PolicyCase{"billing_falls_back_when_keys_are_spent", billing, 1, false, true, A::fall_back},
        PolicyCase{"rate_limit_rotates_first", rate, 1, true, true, A::rotate_key},
        PolicyCase{"rate_limit_waits_what_it_was_told", rate, 1, false, true, A::retry_same_key,
                   20s},
        PolicyCase{"rate_limit_too_long_falls_back", rate_long, 1, false, true, A::fall_back},
        PolicyCase{"rate_limit_too_long_no_fallback_gives_up", rate_long, 1, false, false,
                   A::give_up},
        PolicyCase{"overloaded_backs_off", overloaded, 1, true, true, A::retry_same_key, 500ms},
        PolicyCase{"overloaded_out_of_attempts_falls_back", overloaded, 3, true, true,
                   A::fall_back},
        PolicyCase{"overflow_is_not_fixed_by_retrying", overflow, 1, true, true, A::give_up},
        PolicyCase{"policy_block_stops", policy, 1, true, true, A::give_up}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Backoff, GrowsJittersAndIsCapped) {
  FailoverSettings s;
  EXPECT_EQ(jittered_backoff(1, s, 0.0), 500ms);
  EXPECT_EQ(jittered_backoff(2, s, 0.0), 1000ms);
  EXPECT_EQ(jittered_backoff(3, s, 0.0), 2000ms);
  EXPECT_EQ(jittered_backoff(2, s, 0.999), 1499ms);
  EXPECT_EQ(jittered_backoff(30, s, 0.0), 20000ms);
}

TEST(CredentialPool, CoolsDownByReasonAndComesBack) {
  CredentialPool pool({"k1", "k2"});
  const auto t0 = CredentialPool::Clock::time_point{} + 1000s;
  EXPECT_EQ(pool.available(t0), 0u);
  pool.cool_down(0, FailoverReason::billing, std::nullopt, t0);
  EXPECT_EQ(pool.available(t0), 1u);
  EXPECT_FALSE(pool.other_available(1, t0));
  pool.cool_down(1, FailoverReason::rate_limit, 30s, t0);
  EXPECT_FALSE(pool.available(t0 + 29s));
  EXPECT_EQ(pool.available(t0 + 30s), 1u);           // the rate limit reset
  EXPECT_FALSE(pool.other_available(1, t0 + 4min));  // billing rests k1 until the probe
  EXPECT_EQ(pool.available(t0 + 5min), 0u);
  const auto cooling = pool.cooldowns(t0 + 1s);
  ASSERT_EQ(cooling.size(), 2u);
  EXPECT_EQ(cooling[0].reason, FailoverReason::billing);
}

TEST(CredentialPool, KeylessProviderHasOneSlot) {
  CredentialPool pool({});
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.key(0), "");
}

}  // namespace
}  // namespace hermes::providers
