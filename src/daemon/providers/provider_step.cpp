#include "daemon/providers/provider_step.hpp"

#include <algorithm>

namespace hermes::providers {

namespace {

using std::chrono::milliseconds;

milliseconds time_left(const CallContext& context) {
  return std::chrono::duration_cast<milliseconds>(context.deadline - context.now);
}

CallStep enter_slot(std::size_t from, const CallContext& context);

// The first usable key of the entered slot, or the slot given up on when every key is cooling.
CallStep choose_key(const CallCursor& cursor, const CallContext& context) {
  const ChainSlot& slot = context.chain[cursor.slot];
  if (!slot.keys) return enter_slot(cursor.slot + 1, context);
  CallStep step;
  step.slot = cursor.slot;
  const auto key = slot.keys->available(context.now);
  if (!key) {
    // Say why, truthfully: the reason of the cooldown that ends first, and when.
    step.action = CallAction::provider_cooling;
    step.soonest = slot.keys->soonest(context.now);
    if (!context.failure_known && step.soonest) {
      Classification c;
      c.reason = step.soonest->reason;
      c.provider = std::string(slot.provider);
      c.retry_after = step.soonest->left;
      step.failure = c;
    }
    step.next = CallCursor{cursor.slot + 1, false, 0, 0};
    return step;
  }
  step.action = CallAction::check_key_budget;
  step.key = *key;
  step.next = cursor;
  step.next.key = *key;
  return step;
}

// The first configured slot from `from` on, entered; the turn fails when none is left.
CallStep enter_slot(std::size_t from, const CallContext& context) {
  auto slot = from;
  while (slot < context.chain.size() &&
         (!context.chain[slot].configured || !context.chain[slot].keys)) {
    ++slot;
  }
  if (slot >= context.chain.size()) {
    CallStep step;
    step.action = CallAction::give_up;
    step.slot = slot;
    step.next = CallCursor{slot, false, 0, 0};
    return step;
  }
  auto step = choose_key(CallCursor{slot, true, 0, 0}, context);
  step.entered = true;
  return step;
}

// A key whose budget is spent rests like a cooldown until the period resets; the next key (or
// provider) goes on.
CallStep refuse_key(const CallCursor& cursor, const CallEvent& event, const CallContext& context) {
  Classification c;
  c.reason = FailoverReason::budget_exceeded;
  c.provider = std::string(context.chain[cursor.slot].provider);
  c.gateway_detail = event.gateway_detail;
  c.retry_after = std::max(std::chrono::seconds(1), event.resets_in);
  CallStep step;
  step.action = CallAction::skip_key;
  step.slot = cursor.slot;
  step.key = cursor.key;
  step.failure = c;
  step.cool_key = true;
  step.next = cursor;
  return step;
}

// One deadline for the whole turn, whatever rounds, retries and fallbacks it goes through.
CallStep call_in_time(const CallCursor& cursor, const CallContext& context) {
  CallStep step;
  step.slot = cursor.slot;
  step.key = cursor.key;
  step.next = cursor;
  step.time_left = time_left(context);
  if (step.time_left.count() <= 0) {
    Classification c;
    c.reason = FailoverReason::timeout;
    c.provider = std::string(context.chain[cursor.slot].provider);
    step.action = CallAction::out_of_time;
    step.failure = c;
    return step;
  }
  step.action = CallAction::call;
  ++step.next.attempt;
  return step;
}

CallStep after_failure(const CallCursor& cursor, const CallEvent& event,
                       const CallContext& context) {
  const Classification& c = event.failure;
  CallStep step;
  step.slot = cursor.slot;
  step.key = cursor.key;
  step.failure = c;
  step.next = cursor;
  if (event.partial_stream) {
    // Tokens already reached the reader: switching provider now would splice two answers.
    step.action = CallAction::give_up;
    return step;
  }
  step.cool_key = c.rotate_credential;
  const bool other_key = context.chain[cursor.slot].keys->other_available(cursor.key, context.now);
  const bool fallback = cursor.slot + 1 < context.chain.size();
  const auto decision =
      decide_failover(c, cursor.attempt, context.settings, other_key, fallback, event.jitter);
  switch (decision.action) {
    case FailoverAction::rotate_key:
      step.action = CallAction::rotate_key;
      step.next.attempt = 0;  // a fresh key gets its own retries; the pool size bounds rotations
      break;
    case FailoverAction::retry_same_key:
      step.action = CallAction::retry_same_key;
      step.wait = std::min(decision.wait, time_left(context));
      break;
    case FailoverAction::fall_back:
      step.action = CallAction::fall_back;
      step.bench = benches_provider(c.reason);
      step.next = CallCursor{cursor.slot + 1, false, 0, 0};
      break;
    case FailoverAction::give_up:
      step.action = CallAction::give_up;
      step.bench = benches_provider(c.reason);
      break;
  }
  return step;
}

}  // namespace

CallStep step_provider_call(const CallCursor& cursor, const CallEvent& event,
                            const CallContext& context) {
  switch (event.kind) {
    case CallEventKind::ready:
      return cursor.entered ? choose_key(cursor, context) : enter_slot(cursor.slot, context);
    case CallEventKind::key_cleared:
      return call_in_time(cursor, context);
    case CallEventKind::key_refused:
      return refuse_key(cursor, event, context);
    case CallEventKind::answered: {
      CallStep step;
      step.action = CallAction::done;
      step.slot = cursor.slot;
      step.key = cursor.key;
      step.next = cursor;
      return step;
    }
    case CallEventKind::failed:
      return after_failure(cursor, event, context);
  }
  return {};
}

}  // namespace hermes::providers
