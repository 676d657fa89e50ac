#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

// One periodic timer for the chores that must run from the event loop itself (the systemd
// watchdog ping, the loop lag probe), so the loop wakes once per period for all of them. Each
// tick tells its listeners how late the loop ran it. The timer runs while someone listens; 40
// wake-ups a second at the default cost next to nothing. Must outlive its listeners.
class LoopTicker {
 public:
  using Listener = std::function<void(std::chrono::steady_clock::duration late)>;
  using ListenerId = std::uint64_t;

  explicit LoopTicker(boost::asio::io_context& io,
                      std::chrono::milliseconds period = std::chrono::milliseconds(25));
  ~LoopTicker();
  LoopTicker(const LoopTicker&) = delete;
  LoopTicker& operator=(const LoopTicker&) = delete;

  // Calls `listener` on every tick from the next one on, until unsubscribed.
  ListenerId subscribe(Listener listener);
  void unsubscribe(ListenerId id);
  std::chrono::milliseconds period() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared with the pending wait, which may outlive us
};

}  // namespace hermes::daemon
