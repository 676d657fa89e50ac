#include "daemon/metrics/loop_lag_probe.hpp"

#include "daemon/metrics/metrics.hpp"

namespace hermes::daemon {

LoopLagProbe::LoopLagProbe(LoopTicker& ticker, Metrics& metrics)
    : ticker_(ticker), metrics_(metrics) {}

LoopLagProbe::~LoopLagProbe() {
  stop();
}

void LoopLagProbe::start() {
  if (listener_) return;
  listener_ = ticker_.subscribe(
      [this](std::chrono::steady_clock::duration late) { metrics_.observe_loop_lag(late); });
}

void LoopLagProbe::stop() {
  if (listener_) ticker_.unsubscribe(*listener_);
  listener_.reset();
}

}  // namespace hermes::daemon
