#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/config.hpp"
#include "common/runtime_status.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

class Conversation;
class Metrics;
class SessionStore;
namespace usage {
class UsageLedger;
}
namespace chat {
class ChatStore;
}
namespace state {
class SharedLocks;
}

// The Discord platform: one Gateway connection (WebSocket, API v10) whose session survives
// dropped connections and restarts (RESUME with the stored session id and sequence, so
// messages sent meanwhile are replayed), feeding the shared chat machinery, which answers
// through the REST adapter. One connection per bot token across gateways.
class DiscordPlatform {
 public:
  struct Context {
    SessionStore& sessions;
    chat::ChatStore& store;  // inbox, outbox, the Gateway session and its sequence
    Conversation& conversation;
    Metrics& metrics;
    std::function<std::string()> gateway_state;  // "serving", "draining"
    usage::UsageLedger& ledger;                  // read for /usage
    // Several gateways on one PostgreSQL: only the holder of the bot token's lock connects.
    state::SharedLocks* shared = nullptr;
  };

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
  PlatformStatus status() const;
  void reconfigure(const Config& config);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
