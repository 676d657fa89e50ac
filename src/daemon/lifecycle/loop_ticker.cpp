#include "daemon/lifecycle/loop_ticker.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <utility>
#include <vector>

namespace hermes::daemon {

struct LoopTicker::Impl : std::enable_shared_from_this<LoopTicker::Impl> {
  Impl(boost::asio::io_context& io, std::chrono::milliseconds p) : timer(io), period(p) {}

  void arm() {
    armed = true;
    // From now, not from the last due time: a late tick does not pull the next ones earlier.
    due = std::chrono::steady_clock::now() + period;
    timer.expires_at(due);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->armed = false;
      if (!ec) self->tick();
    });
  }

  void tick() {
    const auto late = std::chrono::steady_clock::now() - due;
    // By index, on a copy: a listener may subscribe or unsubscribe (itself too) while it runs.
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      const Listener listener = listeners[i].second;
      listener(late);
    }
    if (!listeners.empty() && !armed) arm();
  }

  boost::asio::steady_timer timer;
  std::chrono::milliseconds period;
  std::chrono::steady_clock::time_point due;
  std::vector<std::pair<ListenerId, Listener>> listeners;
  ListenerId next_id = 1;
  bool armed = false;
};

LoopTicker::LoopTicker(boost::asio::io_context& io, std::chrono::milliseconds period)
    : impl_(std::make_shared<Impl>(io, period)) {}

LoopTicker::~LoopTicker() {
  impl_->listeners.clear();
  impl_->timer.cancel();
}

LoopTicker::ListenerId LoopTicker::subscribe(Listener listener) {
  const ListenerId id = impl_->next_id++;
  impl_->listeners.emplace_back(id, std::move(listener));
  if (!impl_->armed) impl_->arm();
  return id;
}

void LoopTicker::unsubscribe(ListenerId id) {
  std::erase_if(impl_->listeners, [id](const auto& entry) { return entry.first == id; });
  // The last one gone: the pending wait still fires once, finds nobody and does not re-arm.
}

std::chrono::milliseconds LoopTicker::period() const {
  return impl_->period;
}

}  // namespace hermes::daemon
