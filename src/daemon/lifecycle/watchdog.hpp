#pragma once

#include <chrono>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

class SystemdNotifier;

// Pings systemd's watchdog from the event loop itself: if the loop wedges, the pings stop
// and systemd kills and restarts us (WatchdogSec=).
class Watchdog {
 public:
  Watchdog(boost::asio::io_context& io, SystemdNotifier& notifier,
           std::chrono::microseconds interval);
  ~Watchdog();
  void start();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
