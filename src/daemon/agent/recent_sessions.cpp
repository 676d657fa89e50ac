#include "daemon/agent/recent_sessions.hpp"

namespace hermes::daemon {

void RecentSessions::used(const std::string& id) {
  if (id.empty()) return;
  if (const auto found = where_.find(id); found != where_.end()) {
    order_.splice(order_.begin(), order_, found->second);
    return;
  }
  order_.push_front(id);
  where_.emplace(id, order_.begin());
  drop_oldest_beyond_capacity();
}

void RecentSessions::add_older(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    if (id.empty() || where_.contains(id) || order_.size() >= capacity_) continue;
    order_.push_back(id);
    where_.emplace(id, std::prev(order_.end()));
  }
}

std::vector<std::string> RecentSessions::newest(std::size_t count) const {
  std::vector<std::string> ids;
  for (const auto& id : order_) {
    if (ids.size() >= count) break;
    ids.push_back(id);
  }
  return ids;
}

void RecentSessions::drop_oldest_beyond_capacity() {
  while (order_.size() > capacity_) {
    where_.erase(order_.back());
    order_.pop_back();
  }
}

}  // namespace hermes::daemon
