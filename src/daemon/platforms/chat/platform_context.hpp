#pragma once

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

}  // namespace chat
}  // namespace hermes::daemon
