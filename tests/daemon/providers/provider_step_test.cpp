#include "daemon/providers/provider_step.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace hermes::providers {
namespace {

using namespace std::chrono_literals;
using A = CallAction;
using R = FailoverReason;
using std::chrono::milliseconds;

const auto t0 = CredentialPool::Clock::time_point{} + 1000s;

Classification failure(R reason, bool retryable, bool rotate, bool fallback, bool compress = false,
                       std::optional<milliseconds> retry_after = {}) {
  Classification c;
  c.reason = reason;
  c.retryable = retryable;
  c.rotate_credential = rotate;
  c.fallback = fallback;
  c.compress = compress;
  c.retry_after = retry_after;
  return c;
}

CallEvent ready() {
  return {};
}

CallEvent cleared() {
  CallEvent e;
  e.kind = CallEventKind::key_cleared;
  return e;
}

CallEvent refused(std::chrono::seconds resets_in) {
  CallEvent e;
  e.kind = CallEventKind::key_refused;
  e.gateway_detail = "the key budget is spent";
  e.resets_in = resets_in;
  return e;
}

CallEvent answered() {
  CallEvent e;
  e.kind = CallEventKind::answered;
  return e;
}

CallEvent failed(const Classification& c, bool partial_stream = false) {
  CallEvent e;
  e.kind = CallEventKind::failed;
  e.failure = c;
  e.partial_stream = partial_stream;
  e.jitter = 0.5;
  return e;
}

// A key cooling at t0: cool_down(key, reason, retry_after, t0).
struct Cooling {
  std::size_t key;
  R reason;
  std::optional<milliseconds> retry_after;
};

// A provider of the test chain.
struct SlotSpec {
  std::size_t keys = 1;
  std::vector<Cooling> cooling;
  bool configured = true;
};

CallCursor in_slot(std::size_t slot, std::size_t key, int attempt) {
  return {slot, true, key, attempt};
}

CallCursor entering(std::size_t slot) {
  return {slot, false, 0, 0};
}

struct StepCase {
  const char* name;
  std::vector<SlotSpec> chain;
  CallCursor cursor;
  CallEvent event;
  milliseconds time_left{60s};  // until the turn's deadline
  bool failure_known = false;
  // What the step says.
  A action = A::give_up;
  std::size_t slot = 0;
  std::size_t key = 0;
  CallCursor next;
  bool entered = false;
  std::optional<R> failure{};  // the failure it reports (none: the turn's stays)
  std::optional<milliseconds> retry_after{};
  bool cool_key = false;
  bool bench = false;
  milliseconds wait{0};
};

void PrintTo(const StepCase& c, std::ostream* os) {
  *os << c.name;
}

class ProviderStepTable : public ::testing::TestWithParam<StepCase> {};

TEST_P(ProviderStepTable, Steps) {
  const auto& c = GetParam();
  const char* names[] = {"primary", "fallback", "third"};
  std::vector<CredentialPool> pools;
  pools.reserve(c.chain.size());
  std::vector<ChainSlot> chain;
  for (std::size_t i = 0; i < c.chain.size(); ++i) {
    std::vector<std::string> keys;
    for (std::size_t k = 0; k < c.chain[i].keys; ++k) keys.push_back("k" + std::to_string(k));
    pools.emplace_back(keys);
    for (const auto& cool : c.chain[i].cooling) {
      pools.back().cool_down(cool.key, cool.reason, cool.retry_after, t0);
    }
    chain.push_back({names[i], c.chain[i].configured, &pools.back()});
  }
  const CallContext context{chain, FailoverSettings{}, t0, t0 + c.time_left, c.failure_known};

  const auto step = step_provider_call(c.cursor, c.event, context);

  EXPECT_EQ(static_cast<int>(step.action), static_cast<int>(c.action));
  EXPECT_EQ(step.slot, c.slot);
  EXPECT_EQ(step.key, c.key);
  EXPECT_EQ(step.next, c.next);
  EXPECT_EQ(step.entered, c.entered);
  ASSERT_EQ(step.failure.has_value(), c.failure.has_value());
  if (c.failure) {
    EXPECT_EQ(step.failure->reason, *c.failure);
    // A failed call's classification names its provider already; the step names the others.
    if (c.event.kind != CallEventKind::failed) {
      EXPECT_EQ(step.failure->provider, chain[step.slot].provider);
    }
  }
  if (c.retry_after) {
    EXPECT_EQ(step.failure->retry_after, c.retry_after);
  }
  EXPECT_EQ(step.cool_key, c.cool_key);
  EXPECT_EQ(step.bench, c.bench);
  EXPECT_EQ(step.wait, c.wait);
  if (c.action == A::call) {
    EXPECT_EQ(step.time_left, c.time_left);
  }
}

const SlotSpec one_key{};
const SlotSpec two_keys{2, {}, true};
const auto billing = failure(R::billing, false, true, true);
const auto auth = failure(R::auth, false, true, true);
const auto rate = failure(R::rate_limit, true, true, true, false, 20s);
const auto overloaded = failure(R::overloaded, true, false, true);
const auto overloaded_wait = failure(R::overloaded, true, false, true, false, 20s);
const auto overflow = failure(R::context_overflow, true, false, false, true);

INSTANTIATE_TEST_SUITE_P(
    Steps, ProviderStepTable,
    ::testing::Values(
        // Choosing a provider and a key.
        StepCase{.name = "first_call_picks_the_primarys_first_key",
                 .chain = {two_keys, one_key},
                 .cursor = {},
                 .event = ready(),
                 .action = A::check_key_budget,
                 .next = in_slot(0, 0, 0),
                 .entered = true},
        StepCase{.name = "a_cooling_key_is_passed_over",
                 .chain = {{2, {{0, R::rate_limit, 30s}}, true}, one_key},
                 .cursor = {},
                 .event = ready(),
                 .action = A::check_key_budget,
                 .key = 1,
                 .next = in_slot(0, 1, 0),
                 .entered = true},
        StepCase{.name = "an_unconfigured_provider_is_skipped",
                 .chain = {{1, {}, false}, one_key},
                 .cursor = {},
                 .event = ready(),
                 .action = A::check_key_budget,
                 .slot = 1,
                 .next = in_slot(1, 0, 0),
                 .entered = true},
        StepCase{.name = "after_a_wait_the_same_slot_goes_on",
                 .chain = {two_keys, one_key},
                 .cursor = in_slot(0, 1, 2),
                 .event = ready(),
                 .action = A::check_key_budget,
                 .next = in_slot(0, 0, 2)},
        StepCase{.name = "all_keys_cooling_moves_on_with_the_soonest_reason",
                 .chain = {{2, {{0, R::auth, {}}, {1, R::rate_limit, 40s}}, true}, one_key},
                 .cursor = {},
                 .event = ready(),
                 .action = A::provider_cooling,
                 .next = entering(1),
                 .entered = true,
                 .failure = R::rate_limit,
                 .retry_after = 40s},
        StepCase{.name = "all_keys_cooling_keeps_the_failure_already_known",
                 .chain = {{1, {{0, R::billing, {}}}, true}, one_key},
                 .cursor = {},
                 .event = ready(),
                 .failure_known = true,
                 .action = A::provider_cooling,
                 .next = entering(1),
                 .entered = true},
        StepCase{.name = "no_provider_left_fails",
                 .chain = {one_key, one_key},
                 .cursor = entering(2),
                 .event = ready(),
                 .action = A::give_up,
                 .slot = 2,
                 .next = entering(2)},
        // A key's budget, and the turn's deadline.
        StepCase{.name = "key_budget_refused_cools_the_key_until_reset",
                 .chain = {two_keys},
                 .cursor = in_slot(0, 0, 0),
                 .event = refused(3600s),
                 .action = A::skip_key,
                 .next = in_slot(0, 0, 0),
                 .failure = R::budget_exceeded,
                 .retry_after = 3600s,
                 .cool_key = true},
        StepCase{.name = "key_budget_reset_due_now_still_rests_a_second",
                 .chain = {two_keys},
                 .cursor = in_slot(0, 1, 1),
                 .event = refused(0s),
                 .action = A::skip_key,
                 .key = 1,
                 .next = in_slot(0, 1, 1),
                 .failure = R::budget_exceeded,
                 .retry_after = 1s,
                 .cool_key = true},
        StepCase{.name = "cleared_key_is_called_for_the_time_left",
                 .chain = {two_keys},
                 .cursor = in_slot(0, 1, 0),
                 .event = cleared(),
                 .time_left = 45s,
                 .action = A::call,
                 .key = 1,
                 .next = in_slot(0, 1, 1)},
        StepCase{.name = "deadline_passed_times_out",
                 .chain = {two_keys},
                 .cursor = in_slot(0, 0, 1),
                 .event = cleared(),
                 .time_left = 0s,
                 .action = A::out_of_time,
                 .next = in_slot(0, 0, 1),
                 .failure = R::timeout},
        StepCase{.name = "answer_is_done",
                 .chain = {one_key},
                 .cursor = in_slot(0, 0, 1),
                 .event = answered(),
                 .action = A::done,
                 .next = in_slot(0, 0, 1)},
        // After a failed call.
        StepCase{.name = "failure_after_part_of_a_stream_gives_up",
                 .chain = {two_keys, one_key},
                 .cursor = in_slot(0, 0, 1),
                 .event = failed(rate, true),
                 .action = A::give_up,
                 .next = in_slot(0, 0, 1),
                 .failure = R::rate_limit},
        StepCase{.name = "key_failure_rotates_to_another_key",
                 .chain = {two_keys, one_key},
                 .cursor = in_slot(0, 0, 1),
                 .event = failed(billing),
                 .action = A::rotate_key,
                 .next = in_slot(0, 0, 0),
                 .failure = R::billing,
                 .cool_key = true},
        StepCase{.name = "overloaded_retries_the_same_key_after_a_backoff",
                 .chain = {one_key},
                 .cursor = in_slot(0, 0, 1),
                 .event = failed(overloaded),
                 .action = A::retry_same_key,
                 .next = in_slot(0, 0, 1),
                 .failure = R::overloaded,
                 .wait = 625ms},
        StepCase{.name = "retry_wait_is_capped_by_the_time_left",
                 .chain = {one_key},
                 .cursor = in_slot(0, 0, 1),
                 .event = failed(overloaded_wait),
                 .time_left = 5s,
                 .action = A::retry_same_key,
                 .next = in_slot(0, 0, 1),
                 .failure = R::overloaded,
                 .wait = 5s},
        StepCase{.name = "billing_with_no_other_key_falls_back_and_benches",
                 .chain = {one_key, one_key},
                 .cursor = in_slot(0, 0, 1),
                 .event = failed(billing),
                 .action = A::fall_back,
                 .next = entering(1),
                 .failure = R::billing,
                 .cool_key = true,
                 .bench = true},
        StepCase{.name = "overloaded_out_of_attempts_falls_back_unbenched",
                 .chain = {one_key, one_key},
                 .cursor = in_slot(0, 0, 3),
                 .event = failed(overloaded),
                 .action = A::fall_back,
                 .next = entering(1),
                 .failure = R::overloaded},
        StepCase{.name = "auth_on_the_last_provider_gives_up_and_benches",
                 .chain = {one_key, one_key},
                 .cursor = in_slot(1, 0, 1),
                 .event = failed(auth),
                 .action = A::give_up,
                 .slot = 1,
                 .next = in_slot(1, 0, 1),
                 .failure = R::auth,
                 .cool_key = true,
                 .bench = true},
        StepCase{.name = "overflow_gives_up_unbenched",
                 .chain = {two_keys, one_key},
                 .cursor = in_slot(0, 0, 1),
                 .event = failed(overflow),
                 .action = A::give_up,
                 .next = in_slot(0, 0, 1),
                 .failure = R::context_overflow}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// The caller does what a step says, then steps again: a spent key is cooled, and the next
// step takes the next key.
TEST(ProviderStep, SpentKeyIsCooledAndTheNextKeyTried) {
  CredentialPool pool({"k1", "k2"});
  const std::vector<ChainSlot> chain{{"primary", true, &pool}};
  const CallContext context{chain, FailoverSettings{}, t0, t0 + 60s, false};

  auto step = step_provider_call({}, ready(), context);
  ASSERT_EQ(step.action, A::check_key_budget);
  ASSERT_EQ(step.key, 0u);
  step = step_provider_call(step.next, refused(120s), context);
  ASSERT_EQ(step.action, A::skip_key);
  ASSERT_TRUE(step.cool_key);
  pool.cool_down(step.key, step.failure->reason, step.failure->retry_after, t0);

  step = step_provider_call(step.next, ready(), context);
  EXPECT_EQ(step.action, A::check_key_budget);
  EXPECT_EQ(step.key, 1u);
  EXPECT_EQ(pool.available(t0 + 120s), 0u);  // back when the period resets
}

}  // namespace
}  // namespace hermes::providers
