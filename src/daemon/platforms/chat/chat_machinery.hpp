#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/runtime_status.hpp"
#include "daemon/platforms/chat/chat_adapter.hpp"
#include "daemon/platforms/chat/chat_store.hpp"
#include "daemon/platforms/chat/platform_context.hpp"

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

// What a chat platform's config says, for the machinery.
struct ChatSettings {
  std::vector<std::string> allowed_users;  // user ids or @usernames
  bool allow_all_users = false;
  bool streaming = true;
  bool busy_interrupt = false;  // display.busy_input_mode: interrupt
  ToolProgress tool_progress = ToolProgress::changed;
  std::string model;     // for /status
  std::string provider;  // for /status
};

// The chat machinery every chat platform shares: the durable inbox (an event recorded before
// the platform's offset or acknowledgement moves), one worker per chat answering in arrival
// order, busy-input modes, the command table, streamed replies edited in place, tool progress
// lines, approvals with buttons, the outbox with retries and `abandoned`. A platform supplies
// its wire format (ChatAdapter) and hands over what arrives (receive).
class ChatMachinery {
 public:
  struct Context {
    SessionStore& sessions;
    ChatStore& store;  // inbox, outbox, offset
    Conversation& conversation;
    Metrics& metrics;
    std::function<std::string()> gateway_state;  // "serving", "draining"
    usage::UsageLedger& ledger;                  // read for /usage
    std::function<void(long)> count_abandoned;   // the platform's abandoned-replies gauge
  };

  ChatMachinery(boost::asio::io_context& io, ChatAdapter& adapter, Context context,
                ChatSettings settings);
  ~ChatMachinery();

  // Opened while this gateway takes the platform's events: workers and deliveries run only
  // then. Closing stops new work; what runs finishes (idle() says when).
  void open();
  void close();
  // Sends what others queued in this platform's outbox (a job's result), while this gateway
  // takes the platform's events; else the one that does sends it.
  void send_queued();
  // Deliveries stop at once: another gateway owns the outbox now.
  void stop_delivering();
  bool idle() const;
  // Records what one poll (or one batch of events) brought, with the platform's new offset,
  // in one transaction, then answers: commands that cannot wait at once, a stop or a busy
  // interrupt within the poll's latency, each chat's worker. False: nothing was recorded
  // (the platform keeps the events and sends them again).
  boost::asio::awaitable<bool> receive(std::vector<Inbound> messages,
                                       std::vector<ButtonPress> presses, long long offset,
                                       bool offset_moved);
  // At the start of taking events: unanswered messages and undelivered replies from before.
  boost::asio::awaitable<void> resume_pending();
  // The platform answers again: replies given up on are sent now.
  boost::asio::awaitable<void> revive_abandoned();

  // Whether the user may talk to the model (allowed_users, or allow_all_users): the check
  // messages and button presses get, for platforms that must answer before recording.
  bool allows(long long user_id, const std::string& username) const;
  // The platform's line for status and /health: its own state and detail, with the replies
  // given up on (`shown_name`: "Discord" in "until Discord answers again") and deliveries.
  PlatformStatus platform_status(std::string state, std::string detail, double last_event_at,
                                 double silence_limit_seconds, std::string_view shown_name) const;
  long busy() const;                // turns running, replies being sent, a resume
  long abandoned() const;           // reply parts given up on since the platform last answered
  double last_delivery_at() const;  // unix seconds; 0: none yet
  void reconfigure(ChatSettings settings);
  void set_jobs(JobHooks jobs);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace chat
}  // namespace hermes::daemon
