#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "daemon/providers/failover_reason.hpp"

namespace hermes::providers {

// A provider's API keys, used in order; a key that failed cools down for as long as the one
// cooldown rule says (cooldown_rule.hpp: auth minutes, billing probed after 5 min doubling to
// 1 h, rate limit until its reset). A provider with no keys (a local server) has one keyless
// slot.
class CredentialPool {
 public:
  using Clock = std::chrono::steady_clock;

  explicit CredentialPool(std::vector<std::string> keys);

  std::size_t size() const { return keys_.size(); }
  const std::string& key(std::size_t index) const { return keys_[index]; }

  // The first key not cooling down at `now`, in pool order.
  std::optional<std::size_t> available(Clock::time_point now) const;
  // Another key than `except` that is usable at `now`.
  bool other_available(std::size_t except, Clock::time_point now) const;

  void cool_down(std::size_t index, FailoverReason reason,
                 std::optional<std::chrono::milliseconds> retry_after, Clock::time_point now);
  // The key answered: its next failure starts the cooldown afresh.
  void succeeded(std::size_t index);
  // Forgets every cooldown (an operator says the keys are good again).
  void clear();

  struct Cooldown {
    std::size_t index;
    FailoverReason reason;
    std::chrono::milliseconds left;
  };
  std::vector<Cooldown> cooldowns(Clock::time_point now) const;
  // The cooldown that ends first, when every key is cooling down: why the provider cannot be
  // called now, and when it will be again.
  std::optional<Cooldown> soonest(Clock::time_point now) const;

 private:
  std::vector<std::string> keys_;
  std::vector<Clock::time_point> until_;
  std::vector<FailoverReason> why_;
  std::vector<int> strikes_;  // failures of why_ in a row
};

}  // namespace hermes::providers
