#pragma once

#include <chrono>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

class Metrics;

// Measures how late the event loop runs a timer (every `period`): work that holds the loop
// (a big request parsed in one go, a slow synchronous call) shows up as lag, in
// hermes_event_loop_lag_seconds. 40 wake-ups a second at the default cost next to nothing.
class LoopLagProbe {
 public:
  LoopLagProbe(boost::asio::io_context& io, Metrics& metrics,
               std::chrono::milliseconds period = std::chrono::milliseconds(25));
  ~LoopLagProbe();
  void start();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
