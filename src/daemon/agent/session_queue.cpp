#include "daemon/agent/session_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hermes::daemon {

boost::asio::awaitable<SessionQueue::Turn> SessionQueue::wait_turn(std::string session_id) {
  Line& line = lines_[session_id];
  if (!line.busy) {
    line.busy = true;
    co_return Turn(this, session_id);
  }
  // A timer that never expires by itself: release() cancels it to wake exactly this waiter.
  auto wake = std::make_shared<boost::asio::steady_timer>(
      io_, boost::asio::steady_timer::time_point::max());
  line.waiters.push_back(wake);
  co_await wake->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return Turn(this, session_id);  // busy stays true: handed over by release()
}

void SessionQueue::release(const std::string& id) {
  auto it = lines_.find(id);
  if (it == lines_.end()) return;
  Line& line = it->second;
  if (line.waiters.empty()) {
    lines_.erase(it);
    return;
  }
  auto next = line.waiters.front();
  line.waiters.pop_front();
  next->cancel();
}

}  // namespace hermes::daemon
