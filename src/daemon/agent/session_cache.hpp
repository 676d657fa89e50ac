#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "daemon/agent/history_shape.hpp"
#include "daemon/providers/openai_chat.hpp"

namespace hermes::daemon {

// The histories of recently used sessions, so a continued session is not re-read from the
// database every turn. Bounded by sessions and by bytes; the least recently used go first.
// Single-threaded (the event loop).
class SessionCache {
 public:
  struct Limits {  // max_sessions 0: caches nothing
    std::size_t max_sessions = 4096;
    std::size_t max_bytes = 16u << 20;
  };
  explicit SessionCache(Limits limits) : limits_(limits) {}

  // The cached history, or null; a hit makes the session the most recent.
  const std::vector<providers::ChatMessage>* find(const std::string& id);
  // `shape`: what the rows were in the database (kept for gateways sharing one; append
  // counts a row).
  void put(const std::string& id, std::vector<providers::ChatMessage> history,
           HistoryShape shape = {});
  // The shape of a cached history, or none when it is not cached (not a use: the order stays).
  std::optional<HistoryShape> shape(const std::string& id) const;
  // Rows another gateway appended: the cached history grows to `shape`.
  void extend(const std::string& id, std::vector<providers::ChatMessage> tail, HistoryShape shape);
  // Appends to a cached history; a session not cached stays so (it is read whole later).
  void append(const std::string& id, providers::ChatMessage message);
  void erase(const std::string& id);

  std::size_t sessions() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  struct Entry {
    std::string id;
    std::vector<providers::ChatMessage> history;
    std::size_t bytes = 0;
    HistoryShape shape;
  };
  using Order = std::list<Entry>;
  static std::size_t size_of(const providers::ChatMessage& m);
  void evict();

  Limits limits_;
  Order order_;  // most recent first
  std::unordered_map<std::string, Order::iterator> index_;
  std::size_t bytes_ = 0;
};

}  // namespace hermes::daemon
