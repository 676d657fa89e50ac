#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <optional>
#include <string>

#include "daemon/state/pg_connection.hpp"
#include "daemon/state/store_worker.hpp"

namespace hermes::daemon::state {

// The 64-bit advisory lock key of a name ("session:<id>", "telegram:<bot token>"). Two names
// may share a key: they are then serialised together, never run at once.
long long advisory_key(std::string_view name);

// Locks shared by every gateway on one PostgreSQL database: session-level advisory locks, held
// by a connection of their own (on a thread of its own), so a gateway that dies, even by
// SIGKILL, lets go of all of them when the server sees its connection close. A lock is held
// once per gateway whatever asks for it again; callers in one gateway take turns themselves
// (SessionQueue, the one Telegram poller).
class SharedLocks {
 public:
  SharedLocks(boost::asio::io_context& io, const std::string& url);
  ~SharedLocks();
  SharedLocks(const SharedLocks&) = delete;
  SharedLocks& operator=(const SharedLocks&) = delete;

  // True when the lock is now this gateway's (also when it was already); false when another
  // gateway holds it. Throws when the database cannot be asked.
  boost::asio::awaitable<bool> try_hold(std::string name);
  // Waits until the lock is this gateway's (asking again every few milliseconds). Returns its
  // fence: the generation counted in lock_fences when this gateway took it, which commits
  // made under the lock check (check_fence) so a holder that lost it cannot commit.
  boost::asio::awaitable<long long> hold(std::string name);
  // Lets go; queued at once, so a later try_hold of the same name runs after it.
  void release(const std::string& name);
  // Whether this gateway still holds it: false once the connection that took it was lost
  // (the server let go of it then), or when the database cannot be asked.
  boost::asio::awaitable<bool> holds(std::string name);
  void stop();

 private:
  void forget_if_reconnected();  // worker thread
  // Worker thread: the lock of `key` taken (or held already): its fence; none when another
  // gateway holds it.
  std::optional<long long> take(long long key);

  PgConnection connection_;
  StoreWorker worker_;
  // Worker thread only: the keys held, on the connection of `generation_`, with their fences.
  std::map<long long, long long> held_;
  unsigned long long generation_ = 0;
};

// Inside a commit's transaction (PostgreSQL): throws StoreUnavailable unless `fence` is still
// the newest generation of the lock `key`, so a holder that lost the lock (its connection
// dropped, another gateway took it) stores nothing. The row stays locked to the commit: a
// gateway taking the lock meanwhile counts its generation after it, and reads after it.
void check_fence(SqlConnection& db, long long key, long long fence);

}  // namespace hermes::daemon::state
