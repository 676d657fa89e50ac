#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

namespace hermes::daemon {

class Conversation;
class Metrics;
class SessionStore;
namespace usage {
class UsageLedger;
}
namespace state {
class SharedLocks;
}

namespace chat {

class ChatStore;

// What the gateway gives a chat platform (Telegram, Discord): where sessions and the
// platform's inbox and outbox are kept, the conversation core that takes the turns, metrics,
// the gateway's state for /status, the usage ledger for /usage and, with several gateways on
// one PostgreSQL, the shared locks (null: this gateway alone).
struct PlatformContext {
  SessionStore& sessions;
  ChatStore& store;
  Conversation& conversation;
  Metrics& metrics;
  std::function<std::string()> gateway_state;  // "serving", "draining"
  usage::UsageLedger& ledger;
  state::SharedLocks* shared = nullptr;
};

// Scheduled jobs, when the gateway has them: /cron's reply for a chat (its origin,
// `<platform>:<chat id>`, and the words after /cron), and the cronjob tool offered in the
// chat's turns.
struct JobHooks {
  std::function<boost::asio::awaitable<std::string>(std::string origin, std::string args)> command;
  std::function<boost::asio::awaitable<std::string>(std::string origin, std::string arguments)>
      tool;
  std::string tool_name;
  std::string tool_schema;
};

}  // namespace chat
}  // namespace hermes::daemon
