#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/providers/classification.hpp"
#include "daemon/providers/credential_pool.hpp"
#include "daemon/providers/failover_policy.hpp"

namespace hermes::providers {

// One provider call of a turn, with its failover, as a step function: the caller does what a
// step says (check a key's budget, call, wait, log, count) and steps again with what happened,
// until the step says the call is done or the turn failed. Pure: time is passed in.

// A provider of the turn's chain (the primary, then its fallbacks), as the step sees it.
struct ChainSlot {
  std::string_view provider;
  bool configured = true;                // false: skipped when its turn comes
  const CredentialPool* keys = nullptr;  // its key pool (set whenever it was configured)
};

// Where the call stands between two steps.
struct CallCursor {
  std::size_t slot = 0;  // in the chain
  bool entered = false;  // `slot` was entered (false: enter it, or the next configured one)
  std::size_t key = 0;   // the key chosen last in `slot`
  int attempt = 0;       // calls on `slot` since it was entered or its key rotated

  bool operator==(const CallCursor&) const = default;
};

enum class CallEventKind {
  ready,        // go on: the start, or after a refused key, a rotation, a wait, a fall-back
  key_cleared,  // the chosen key's budget lets it be used
  key_refused,  // the chosen key's budget is spent (`gateway_detail`, `resets_in`)
  answered,     // the call succeeded
  failed,       // the call failed (`failure`, `partial_stream`, `jitter`)
};

struct CallEvent {
  CallEventKind kind = CallEventKind::ready;
  std::string gateway_detail;         // key_refused: the sentence naming the budget
  std::chrono::seconds resets_in{0};  // key_refused: until the budget's period resets
  Classification failure;             // failed: the classified error
  bool partial_stream = false;        // failed: part of the answer already reached the reader
  double jitter = 0.0;                // failed: in [0, 1), spreads the backoff
};

enum class CallAction {
  check_key_budget,  // ask whether `key` of `slot` may be spent on, then step with the verdict
  call,              // call `slot` with `key`, for at most `time_left`
  skip_key,          // `key`'s budget is spent: cool it (`cool_key`), step again
  provider_cooling,  // every key of `slot` is cooling (`soonest` ends first): step again
  rotate_key,        // the failed key is cooled (`cool_key`): step again for the next one
  retry_same_key,    // wait `wait`, then step again
  fall_back,         // on to the next provider (bench `slot` when `bench`): step again
  done,              // the call answered
  out_of_time,       // the turn ran out of time (inactivity or its hard cap): it fails
  give_up,           // the turn fails with the failure known
};

struct CallStep {
  CallAction action = CallAction::give_up;
  CallCursor next;       // pass to the next step
  std::size_t slot = 0;  // the slot the action concerns
  std::size_t key = 0;   // the key the action concerns
  bool entered = false;  // this step entered `slot`: it is now who answers (or fails)
  std::chrono::milliseconds time_left{0};  // call: what is left of the turn
  std::chrono::milliseconds wait{0};       // retry_same_key: never past the turn's deadline
  // Set: the failure the turn reports from now on.
  std::optional<Classification> failure;
  // Cool `key` of `slot` for `failure`'s reason and retry_after.
  bool cool_key = false;
  // Bench `slot`'s provider for later turns too (providers::benches_provider).
  bool bench = false;
  // provider_cooling: the cooldown that ends first.
  std::optional<CredentialPool::Cooldown> soonest;
};

struct CallContext {
  std::span<const ChainSlot> chain;
  FailoverSettings settings;
  CredentialPool::Clock::time_point now;
  CredentialPool::Clock::time_point deadline;  // when the turn runs out of time (turn_deadline)
  bool failure_known = false;                  // the turn already has a failure to report
};

// What the provider call does next, at `cursor`, after `event`.
CallStep step_provider_call(const CallCursor& cursor, const CallEvent& event,
                            const CallContext& context);

}  // namespace hermes::providers
