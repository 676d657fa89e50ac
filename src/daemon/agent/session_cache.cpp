#include "daemon/agent/session_cache.hpp"

namespace hermes::daemon {

std::size_t SessionCache::size_of(const providers::ChatMessage& m) {
  return sizeof(providers::ChatMessage) + m.role.capacity() + m.content.capacity() +
         m.tool_calls.capacity() + m.tool_call_id.capacity();
}

const std::vector<providers::ChatMessage>* SessionCache::find(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return &it->second->history;
}

std::optional<HistoryShape> SessionCache::shape(const std::string& id) const {
  const auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second->shape;
}

void SessionCache::extend(const std::string& id, std::vector<providers::ChatMessage> tail,
                          HistoryShape shape) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  for (auto& message : tail) {
    const auto size = size_of(message);
    it->second->history.push_back(std::move(message));
    it->second->bytes += size;
    bytes_ += size;
  }
  it->second->shape = shape;
  order_.splice(order_.begin(), order_, it->second);
  evict();
}

void SessionCache::put(const std::string& id, std::vector<providers::ChatMessage> history,
                       HistoryShape shape) {
  erase(id);
  Entry entry{id, std::move(history), 0, shape};
  for (const auto& m : entry.history) entry.bytes += size_of(m);
  bytes_ += entry.bytes;
  order_.push_front(std::move(entry));
  index_.emplace(id, order_.begin());
  evict();
}

void SessionCache::append(const std::string& id, providers::ChatMessage message) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  const auto size = size_of(message);
  it->second->history.push_back(std::move(message));
  it->second->bytes += size;
  ++it->second->shape.rows;
  bytes_ += size;
  order_.splice(order_.begin(), order_, it->second);
  evict();
}

void SessionCache::erase(const std::string& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  bytes_ -= it->second->bytes;
  order_.erase(it->second);
  index_.erase(it);
}

void SessionCache::evict() {
  // The newest entry stays even when it alone is over the byte bound: it is in use. With
  // max_sessions 0 nothing stays (another gateway may add to any session).
  const std::size_t keep = limits_.max_sessions == 0 ? 0 : 1;
  while (order_.size() > keep &&
         (order_.size() > limits_.max_sessions || bytes_ > limits_.max_bytes)) {
    bytes_ -= order_.back().bytes;
    index_.erase(order_.back().id);
    order_.pop_back();
  }
}

}  // namespace hermes::daemon
