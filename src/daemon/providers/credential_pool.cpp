#include "daemon/providers/credential_pool.hpp"

#include <algorithm>

namespace hermes::providers {

using namespace std::chrono_literals;

CredentialPool::CredentialPool(std::vector<std::string> keys) : keys_(std::move(keys)) {
  if (keys_.empty()) keys_.emplace_back();  // keyless local provider
  until_.assign(keys_.size(), Clock::time_point{});
  why_.assign(keys_.size(), FailoverReason::unknown);
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

std::chrono::milliseconds CredentialPool::cooldown_for(
    FailoverReason reason, std::optional<std::chrono::milliseconds> retry_after) {
  switch (reason) {
    case FailoverReason::auth:
      return 5min;
    case FailoverReason::auth_permanent:
      return 1h;
    case FailoverReason::billing:
      return 4h;  // money does not come back by itself soon
    case FailoverReason::rate_limit:
      return retry_after && *retry_after > 0ms ? *retry_after : 60s;
    default:
      return 30s;
  }
}

void CredentialPool::cool_down(std::size_t index, FailoverReason reason,
                               std::optional<std::chrono::milliseconds> retry_after,
                               Clock::time_point now) {
  if (index >= keys_.size()) return;
  until_[index] = std::max(until_[index], now + cooldown_for(reason, retry_after));
  why_[index] = reason;
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
