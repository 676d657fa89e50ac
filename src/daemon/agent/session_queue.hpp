#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace hermes::daemon {

namespace state {
class SharedLocks;
}

// One turn at a time per session: later messages wait their turn, in arrival order, and are
// never dropped. Single-threaded (the event loop), so no mutexes. With `shared` locks (several
// gateways on one PostgreSQL) a session's line also holds its lock in the database while it
// is busy, so a turn on another gateway waits for ours (and ours for theirs).
class SessionQueue {
 public:
  explicit SessionQueue(boost::asio::io_context& io, state::SharedLocks* shared = nullptr)
      : io_(io), shared_(shared) {}

  class Turn {
   public:
    Turn(SessionQueue* queue, std::string id, std::optional<long long> fence)
        : queue_(queue), id_(std::move(id)), fence_(fence) {}
    Turn(Turn&& other) noexcept
        : queue_(other.queue_), id_(std::move(other.id_)), fence_(other.fence_) {
      other.queue_ = nullptr;
    }
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    Turn& operator=(Turn&&) = delete;
    ~Turn() {
      if (queue_) queue_->release(id_);
    }
    // With shared locks: the session lock's fence, for the turn's commit to check
    // (SessionStore::check_fence); none with one gateway.
    std::optional<long long> fence() const { return fence_; }

   private:
    SessionQueue* queue_;
    std::string id_;
    std::optional<long long> fence_;
  };

  // Resolves when it is this caller's turn on `session_id`; the Turn releases it.
  boost::asio::awaitable<Turn> wait_turn(std::string session_id);

 private:
  struct Line {
    bool busy = false;
    std::deque<std::shared_ptr<boost::asio::steady_timer>> waiters;
  };
  void release(const std::string& id);

  boost::asio::io_context& io_;
  state::SharedLocks* shared_;
  std::map<std::string, Line> lines_;
};

}  // namespace hermes::daemon
