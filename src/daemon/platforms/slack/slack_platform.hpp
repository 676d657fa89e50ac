#pragma once

#include <memory>

#include "common/config.hpp"
#include "common/runtime_status.hpp"
#include "daemon/platforms/chat/platform_context.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

// The Slack platform: a Socket Mode connection (no public URL) whose envelopes are
// acknowledged only once their event is in the inbox, so a crash in between makes Slack send
// it again and the inbox drops the repeat; a `disconnect` is answered by opening the next
// connection before the old one closes. It feeds the shared chat machinery, which answers
// through the Web API adapter. One connection per app token across gateways.
class SlackPlatform {
 public:
  using Context = chat::PlatformContext;

  SlackPlatform(boost::asio::io_context& io, const Config& config, Context context);
  ~SlackPlatform();

  void start();
  // Drain or stop: the connection closes; envelopes not yet acknowledged are sent again by
  // Slack to the next process.
  void stop_polling();
  long busy() const;
  PlatformStatus status() const;
  void reconfigure(const Config& config);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
