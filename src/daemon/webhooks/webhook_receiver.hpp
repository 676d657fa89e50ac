#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

#include "common/config.hpp"
#include "daemon/platforms/http_types.hpp"

namespace hermes::daemon {

class Metrics;
namespace state {
class StoreWorker;
}
namespace cron {
class JobTables;
}

namespace webhooks {

// POST /webhooks/<name>: checks the route's signature over the raw body, records the run
// (once per delivery id) and answers 202 with its id at once; the scheduler runs it.
class WebhookReceiver {
 public:
  WebhookReceiver(state::StoreWorker& worker, cron::JobTables& jobs, Metrics& metrics,
                  std::function<void()> wake_scheduler, const Config& config)
      : worker_(worker),
        jobs_(jobs),
        metrics_(metrics),
        wake_(std::move(wake_scheduler)),
        config_(config) {}

  boost::asio::awaitable<HttpResponse> handle(HttpRequest request, std::string route);
  void reconfigure(const Config& config) { config_ = config; }

 private:
  boost::asio::awaitable<HttpResponse> accept(const HttpRequest& request, const std::string& name,
                                              const WebhookRoute& route);

  state::StoreWorker& worker_;
  cron::JobTables& jobs_;
  Metrics& metrics_;
  std::function<void()> wake_;
  Config config_;
};

// The prompt a route's run is given: the template filled from the payload, after a line that
// tells the model the quoted values are an outside sender's data, not instructions.
std::string webhook_prompt(const std::string& route, const std::string& filled);

}  // namespace webhooks
}  // namespace hermes::daemon
