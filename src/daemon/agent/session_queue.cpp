#include "daemon/agent/session_queue.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "daemon/agent/session_tables.hpp"
#include "daemon/state/shared_locks.hpp"

namespace hermes::daemon {

boost::asio::awaitable<SessionQueue::Turn> SessionQueue::wait_turn(std::string session_id) {
  Line& line = lines_[session_id];
  if (!line.busy) {
    line.busy = true;
  } else {
    // A timer that never expires by itself: release() cancels it to wake exactly this waiter.
    auto wake = std::make_shared<boost::asio::steady_timer>(
        io_, boost::asio::steady_timer::time_point::max());
    line.waiters.push_back(wake);
    co_await wake->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    // busy stays true: handed over by release()
  }
  std::optional<long long> fence;
  if (shared_) {
    // Taken by the line's first turn and let go when the line empties (release()); a turn
    // handed the line finds it held already (one round trip).
    std::exception_ptr failed;
    const std::string lock_name = session_lock_name(session_id);  // named: GCC 12
    try {
      fence = co_await shared_->hold(lock_name);
    } catch (...) {
      failed = std::current_exception();
    }
    if (failed) {
      release(session_id);
      std::rethrow_exception(failed);
    }
  }
  co_return Turn(this, session_id, fence);
}

void SessionQueue::release(const std::string& id) {
  auto it = lines_.find(id);
  if (it == lines_.end()) return;
  Line& line = it->second;
  if (line.waiters.empty()) {
    lines_.erase(it);
    if (shared_) shared_->release(session_lock_name(id));
    return;
  }
  auto next = line.waiters.front();
  line.waiters.pop_front();
  next->cancel();
}

}  // namespace hermes::daemon
