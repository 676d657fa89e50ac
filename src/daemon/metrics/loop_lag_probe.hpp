#pragma once

#include <optional>

#include "daemon/lifecycle/loop_ticker.hpp"

namespace hermes::daemon {

class Metrics;

// Records how late the event loop runs the ticker's timer: work that holds the loop (a big
// request parsed in one go, a slow synchronous call) shows up as lag, in
// hermes_event_loop_lag_seconds.
class LoopLagProbe {
 public:
  LoopLagProbe(LoopTicker& ticker, Metrics& metrics);
  ~LoopLagProbe();
  LoopLagProbe(const LoopLagProbe&) = delete;
  LoopLagProbe& operator=(const LoopLagProbe&) = delete;
  void start();
  void stop();

 private:
  LoopTicker& ticker_;
  Metrics& metrics_;
  std::optional<LoopTicker::ListenerId> listener_;
};

}  // namespace hermes::daemon
