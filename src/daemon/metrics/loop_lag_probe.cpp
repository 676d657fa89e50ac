#include "daemon/metrics/loop_lag_probe.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "daemon/metrics/metrics.hpp"

namespace hermes::daemon {

struct LoopLagProbe::Impl : std::enable_shared_from_this<LoopLagProbe::Impl> {
  Impl(boost::asio::io_context& io, Metrics& m, std::chrono::milliseconds p)
      : timer(io), metrics(m), period(p) {}

  void arm() {
    due = std::chrono::steady_clock::now() + period;
    timer.expires_at(due);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->metrics.observe_loop_lag(std::chrono::steady_clock::now() - self->due);
      self->arm();
    });
  }

  boost::asio::steady_timer timer;
  Metrics& metrics;
  std::chrono::milliseconds period;
  std::chrono::steady_clock::time_point due;
  bool stopped = false;
};

LoopLagProbe::LoopLagProbe(boost::asio::io_context& io, Metrics& metrics,
                           std::chrono::milliseconds period)
    : impl_(std::make_shared<Impl>(io, metrics, period)) {}

LoopLagProbe::~LoopLagProbe() {
  stop();
}

void LoopLagProbe::start() {
  impl_->arm();
}

void LoopLagProbe::stop() {
  impl_->stopped = true;
  impl_->timer.cancel();
}

}  // namespace hermes::daemon
