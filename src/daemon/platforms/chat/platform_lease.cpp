#include "daemon/platforms/chat/platform_lease.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/logging.hpp"
#include "daemon/platforms/chat/chat_machinery.hpp"
#include "daemon/state/shared_locks.hpp"

namespace hermes::daemon::chat {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kLeaseCheck = 1000ms;  // a dead holder's lock is taken over within ~1 s

asio::awaitable<void> pause(asio::io_context& io, std::chrono::milliseconds wait) {
  asio::steady_timer timer(io, wait);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

LeaseHooks connection_hooks(ConnectionState& connection, ChatMachinery& machinery,
                            std::string waiting, std::function<void()> start,
                            std::function<void()> close_connection) {
  LeaseHooks hooks;
  hooks.waiting = std::move(waiting);
  hooks.standby = [&connection](std::string why) {
    connection.state = "standby";
    connection.detail = std::move(why);
  };
  hooks.start = std::move(start);
  hooks.active = [&connection] { return connection.connecting; };
  hooks.lose = [&connection, &machinery, close = std::move(close_connection)] {
    connection.connecting = false;
    machinery.close();
    machinery.stop_delivering();  // the outbox is another gateway's now
    close();
  };
  hooks.settled = [&connection, &machinery] {
    return !connection.loop_running && machinery.idle();
  };
  hooks.drained = [&connection] { return connection.drained; };
  return hooks;
}

void begin_connection(asio::io_context& io, ConnectionState& connection, ChatMachinery& machinery,
                      asio::awaitable<void> loop, const std::string& platform) {
  connection.connecting = true;
  machinery.open();
  connection.state = "connecting";
  connection.detail.clear();
  connection.loop_running = true;
  asio::co_spawn(io, std::move(loop),
                 [platform](std::exception_ptr e) { log_exception(e, platform + " connection"); });
  asio::co_spawn(io, machinery.resume_pending(),
                 [platform](std::exception_ptr e) { log_exception(e, platform + " resume"); });
}

void end_connection(ConnectionState& connection, ChatMachinery& machinery) {
  connection.drained = true;
  connection.connecting = false;
  machinery.close();
}

asio::awaitable<void> lead_platform(asio::io_context& io, state::SharedLocks& shared,
                                    std::string lock_name, std::string held_line,
                                    std::string lost_line, LeaseHooks hooks) {
  while (!hooks.drained()) {
    bool mine = false;
    try {
      mine = co_await shared.try_hold(lock_name);
      if (!mine) hooks.standby(hooks.waiting);
    } catch (const std::exception& e) {
      hooks.standby(std::string("cannot ask the database who holds the bot: ") + e.what());
    }
    if (!mine) {
      co_await pause(io, kLeaseCheck);
      continue;
    }
    if (hooks.drained()) break;
    spdlog::info("{}", held_line);
    hooks.start();
    while (hooks.active()) {
      co_await pause(io, kLeaseCheck);
      if (!hooks.active() || co_await shared.holds(lock_name)) continue;
      spdlog::error("{}", lost_line);
      hooks.lose();
    }
    // Nothing of this turn at the bot runs on when another gateway may take over.
    while (!hooks.settled()) co_await pause(io, 50ms);
    if (!hooks.drained()) shared.release(lock_name);
  }
}

}  // namespace hermes::daemon::chat
