#include "daemon/lifecycle/watchdog.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/lifecycle/notifier.hpp"

namespace hermes::daemon {

struct Watchdog::Impl : std::enable_shared_from_this<Watchdog::Impl> {
  Impl(boost::asio::io_context& io, SystemdNotifier& n, std::chrono::microseconds i)
      : timer(io), notifier(n), interval(i) {}

  void tick() {
    notifier.watchdog();
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec && !self->stopped) self->tick();
    });
  }

  boost::asio::steady_timer timer;
  SystemdNotifier& notifier;
  std::chrono::microseconds interval;
  bool stopped = false;
};

Watchdog::Watchdog(boost::asio::io_context& io, SystemdNotifier& notifier,
                   std::chrono::microseconds interval)
    : impl_(std::make_shared<Impl>(io, notifier, interval)) {}

Watchdog::~Watchdog() {
  stop();
}

void Watchdog::start() {
  impl_->tick();
}

void Watchdog::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

}  // namespace hermes::daemon
