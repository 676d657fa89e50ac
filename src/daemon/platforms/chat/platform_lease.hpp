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

// Stands by until this gateway holds `lock_name` (hashed by SharedLocks, never stored), runs
// the platform while it does, and stands by again if the lock went with a lost database
// connection. The holder dying (even SIGKILL) closes its connection, which lets go of the lock.
// `held_line` and `lost_line` are logged when the lock is taken and when it is lost.
boost::asio::awaitable<void> lead_platform(boost::asio::io_context& io, state::SharedLocks& shared,
                                           std::string lock_name, std::string held_line,
                                           std::string lost_line, LeaseHooks hooks);

}  // namespace chat
}  // namespace hermes::daemon
