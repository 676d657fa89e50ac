#include "daemon/providers/credential_pool.hpp"

#include <algorithm>

#include "daemon/providers/cooldown_rule.hpp"

namespace hermes::providers {

CredentialPool::CredentialPool(std::vector<std::string> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) keys_.emplace_back();  // keyless local provider
  until_.assign(keys_.size(), Clock::time_point{});
  why_.assign(keys_.size(), FailoverReason::unknown);
  strikes_.assign(keys_.size(), 0);
}

std::optional<std::size_t> CredentialPool::available(Clock::time_point now) const {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (until_[i] <= now) return i;
  }
  return std::nullopt;
}

bool CredentialPool::other_available(std::size_t except, Clock::time_point now) const {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (i != except && until_[i] <= now) return true;
  }
  return false;
}

void CredentialPool::cool_down(std::size_t index, FailoverReason reason,
                               std::optional<std::chrono::milliseconds> retry_after,
                               Clock::time_point now) {
  if (index >= keys_.size()) return;
  strikes_[index] = why_[index] == reason ? strikes_[index] + 1 : 1;
  why_[index] = reason;
  until_[index] =
      std::max(until_[index], now + cooldown_length(reason, retry_after, strikes_[index]));
}

void CredentialPool::succeeded(std::size_t index) {
  if (index >= keys_.size()) return;
  strikes_[index] = 0;
  why_[index] = FailoverReason::unknown;
}

void CredentialPool::clear() {
  until_.assign(keys_.size(), Clock::time_point{});
  why_.assign(keys_.size(), FailoverReason::unknown);
  strikes_.assign(keys_.size(), 0);
}

std::optional<CredentialPool::Cooldown> CredentialPool::soonest(Clock::time_point now) const {
  std::optional<Cooldown> first;
  for (const auto& c : cooldowns(now)) {
    if (!first || c.left < first->left) first = c;
  }
  return first;
}

std::vector<CredentialPool::Cooldown> CredentialPool::cooldowns(Clock::time_point now) const {
  std::vector<Cooldown> out;
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (until_[i] > now) {
      out.push_back(
          {i, why_[i], std::chrono::duration_cast<std::chrono::milliseconds>(until_[i] - now)});
    }
  }
  return out;
}

}  // namespace hermes::providers
