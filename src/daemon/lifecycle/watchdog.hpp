#pragma once

#include <chrono>
#include <optional>

#include "daemon/lifecycle/loop_ticker.hpp"

namespace hermes::daemon {

class SystemdNotifier;

// Pings systemd's watchdog from the event loop itself (on the loop's ticker): if the loop
// wedges, the pings stop and systemd kills and restarts us (WatchdogSec=).
class Watchdog {
 public:
  Watchdog(LoopTicker& ticker, SystemdNotifier& notifier, std::chrono::microseconds interval);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;
  void start();
  void stop();

 private:
  void on_tick();
  void ping();

  LoopTicker& ticker_;
  SystemdNotifier& notifier_;
  std::chrono::microseconds interval_;
  std::chrono::steady_clock::time_point last_ping_;
  std::optional<LoopTicker::ListenerId> listener_;
};

}  // namespace hermes::daemon
