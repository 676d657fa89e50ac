#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {
namespace state {
class SharedLocks;
}

namespace chat {

class ChatMachinery;

// How a platform takes part in holding its connection (a bot token's poller or Gateway
// session) when several gateways share one PostgreSQL.
struct LeaseHooks {
  std::string waiting;  // what status says while another gateway holds it
  std::function<void(std::string detail)> standby;  // not held here: say why
  std::function<void()> start;                      // this gateway holds it now: connect
  std::function<bool()> active;                     // still connected (false: it stopped)
  std::function<void()> lose;     // the lock went with the database connection: stop now
  std::function<bool()> settled;  // nothing of it runs on (the lock may go)
  std::function<bool()> drained;  // the gateway stops: no more taking part
};

// Where a platform that holds one connection (Discord's Gateway, Slack's Socket Mode) stands:
// what its status line shows, and what the lease and the drain look at.
struct ConnectionState {
  std::string state = "connecting";  // connecting | running | standby | error | stopped
  std::string detail;
  double last_event_at = 0;    // unix seconds of the last thing received
  bool connecting = false;     // this gateway holds (or wants) the connection
  bool loop_running = false;   // its connection loop runs
  bool in_connection = false;  // a connection is open (or being wound up)
  bool drained = false;        // the gateway stops: no more taking part
};

// The lease hooks of such a platform: `start` connects; losing the lock stops the machinery,
// hands the outbox over and closes the connection with `close_connection`.
LeaseHooks connection_hooks(ConnectionState& connection, ChatMachinery& machinery,
                            std::string waiting, std::function<void()> start,
                            std::function<void()> close_connection);

// Starts taking events on such a platform: the machinery opens, the state says connecting,
// and `loop` (its connection loop) and the machinery's resume of what was pending run.
void begin_connection(boost::asio::io_context& io, ConnectionState& connection,
                      ChatMachinery& machinery, boost::asio::awaitable<void> loop,
                      const std::string& platform);
// The gateway stops (drain): no more connecting, and the machinery takes no new work.
void end_connection(ConnectionState& connection, ChatMachinery& machinery);

// Stands by until this gateway holds `lock_name` (hashed by SharedLocks, never stored), runs
// the platform while it does, and stands by again if the lock went with a lost database
// connection. The holder dying (even SIGKILL) closes its connection, which lets go of the lock.
// `held_line` and `lost_line` are logged when the lock is taken and when it is lost.
boost::asio::awaitable<void> lead_platform(boost::asio::io_context& io, state::SharedLocks& shared,
                                           std::string lock_name, std::string held_line,
                                           std::string lost_line, LeaseHooks hooks);

}  // namespace chat
}  // namespace hermes::daemon
