#include "daemon/lifecycle/watchdog.hpp"

#include "daemon/lifecycle/notifier.hpp"

namespace hermes::daemon {

Watchdog::Watchdog(LoopTicker& ticker, SystemdNotifier& notifier,
                   std::chrono::microseconds interval)
    : ticker_(ticker), notifier_(notifier), interval_(interval) {}

Watchdog::~Watchdog() {
  stop();
}

void Watchdog::start() {
  if (listener_) return;
  ping();
  listener_ = ticker_.subscribe([this](std::chrono::steady_clock::duration) { on_tick(); });
}

void Watchdog::stop() {
  if (listener_) ticker_.unsubscribe(*listener_);
  listener_.reset();
}

void Watchdog::on_tick() {
  // Ping on the last tick before the interval runs out, not the first one after it: a loop
  // that keeps up then pings at least every interval, at most one tick early.
  if (std::chrono::steady_clock::now() + ticker_.period() >= last_ping_ + interval_) ping();
}

void Watchdog::ping() {
  notifier_.watchdog();
  last_ping_ = std::chrono::steady_clock::now();
}

}  // namespace hermes::daemon
