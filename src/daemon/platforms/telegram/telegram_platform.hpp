#pragma once

#include <memory>
#include <string>

#include "common/config.hpp"
#include "common/runtime_status.hpp"
#include "daemon/platforms/chat/platform_context.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

// The Telegram platform: long polling (getUpdates with a stored offset, one poller per bot
// token across gateways) feeding the shared chat machinery (platforms/chat), which answers
// through the Telegram adapter. Every update is recorded before the offset moves past it.
class TelegramPlatform {
 public:
  using Context = chat::PlatformContext;

  TelegramPlatform(boost::asio::io_context& io, const Config& config, Context context);
  ~TelegramPlatform();

  void start();
  // Drain: no more polling and no new turns; updates wait at Telegram (or in our store).
  void stop_polling();
  // Turns running or replies being sent now.
  long busy() const;
  // Sends what a job or a webhook queued in the outbox (when this gateway holds the platform).
  void send_queued();
  // /cron and the cronjob tool in this platform's chats.
  void set_jobs(chat::JobHooks jobs);
  PlatformStatus status() const;
  void reconfigure(const Config& config);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
