#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

namespace hermes::daemon {

// The sessions turns were last taken on, newest first, at most `capacity`: what the dashboard
// lists as recent without sorting the sessions table (an index on its last-use column would
// cost every turn its upkeep). Each use is O(1).
class RecentSessions {
 public:
  explicit RecentSessions(std::size_t capacity) : capacity_(capacity) {}
  void used(const std::string& id);
  // Sessions known from before this process (the store's newest), behind every one used since.
  void add_older(const std::vector<std::string>& ids);
  std::vector<std::string> newest(std::size_t count) const;
  std::size_t size() const { return order_.size(); }

 private:
  void drop_oldest_beyond_capacity();
  std::size_t capacity_;
  std::list<std::string> order_;  // newest first
  std::unordered_map<std::string, std::list<std::string>::iterator> where_;
};

}  // namespace hermes::daemon
