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
namespace usage {
class UsageLedger;
}

class SessionStore;
namespace chat {
class ChatStore;
}
namespace state {
class SharedLocks;
}
class Metrics;

// The Telegram platform: long polling (getUpdates with a stored offset, one poller per bot
// token across gateways) feeding the shared chat machinery (platforms/chat), which answers
// through the Telegram adapter. Every update is recorded before the offset moves past it.
class TelegramPlatform {
 public:
  struct Context {
    SessionStore& sessions;
    chat::ChatStore& store;  // inbox, outbox, poll offset
    Conversation& conversation;
    Metrics& metrics;
    std::function<std::string()> gateway_state;  // "serving", "draining"
    usage::UsageLedger& ledger;                  // read for /usage
    // Several gateways on one PostgreSQL: only the one holding the bot token's lock polls
    // (and answers, and delivers); the others stand by. Null: this gateway alone.
    state::SharedLocks* shared = nullptr;
  };

  TelegramPlatform(boost::asio::io_context& io, const Config& config, Context context);
  ~TelegramPlatform();

  void start();
  // Drain: no more polling and no new turns; updates wait at Telegram (or in our store).
  void stop_polling();
  // Turns running or replies being sent now.
  long busy() const;
  PlatformStatus status() const;
  void reconfigure(const Config& config);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
