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

// The Discord platform: one Gateway connection (WebSocket, API v10) whose session survives
// dropped connections and restarts (RESUME with the stored session id and sequence, so
// messages sent meanwhile are replayed), feeding the shared chat machinery, which answers
// through the REST adapter. One connection per bot token across gateways.
class DiscordPlatform {
 public:
  using Context = chat::PlatformContext;

  DiscordPlatform(boost::asio::io_context& io, const Config& config, Context context);
  ~DiscordPlatform();

  void start();
  // Drain or stop: the connection closes without ending the Discord session (never 1000 or
  // 1001), so the next process resumes it and nothing sent meanwhile is lost.
  void stop_polling();
  // Uninstall: the next stop ends the Discord session (close 1000) and forgets it, so no
  // later process resumes it.
  void end_session_at_stop();
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
