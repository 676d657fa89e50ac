#include "daemon/state/shared_locks.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

namespace hermes::daemon::state {

namespace asio = boost::asio;

long long advisory_key(std::string_view name) {
  // FNV-1a: stable across builds and gateways, which must agree on the key.
  unsigned long long hash = 0xcbf29ce484222325ULL;
  for (const char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return static_cast<long long>(hash);
}

SharedLocks::SharedLocks(asio::io_context& io, const std::string& url)
    : connection_(url, PgConnection::Options{std::chrono::milliseconds(1000), false}),
      worker_(io, connection_) {}

SharedLocks::~SharedLocks() {
  stop();
}

void SharedLocks::stop() {
  worker_.stop();
  connection_.close();  // the server lets go of every lock this gateway held
}

void SharedLocks::forget_if_reconnected() {
  if (connection_.generation() != generation_) {
    held_.clear();
    generation_ = connection_.generation();
  }
}

std::optional<long long> SharedLocks::take(long long key) {
  forget_if_reconnected();
  // Held once per gateway: asking twice must not stack it (nor count a generation).
  if (const auto held = held_.find(key); held != held_.end()) return held->second;
  // One statement: the lock and its new generation, or neither (no row: another holds it).
  auto taking = connection_.prepare(
      "WITH taken AS (SELECT pg_try_advisory_lock(?1) AS ok) "
      "INSERT INTO lock_fences(lock_key, generation) SELECT ?1, 1 FROM taken WHERE ok "
      "ON CONFLICT(lock_key) DO UPDATE SET generation = lock_fences.generation + 1 "
      "RETURNING generation");
  if (!taking.bind(1, key).step()) return std::nullopt;
  const long long fence = taking.integer(0);
  held_[key] = fence;
  return fence;
}

asio::awaitable<bool> SharedLocks::try_hold(std::string name) {
  const long long key = advisory_key(name);
  bool taken = false;
  std::function<void()> job = [this, key, &taken] { taken = take(key).has_value(); };
  co_await worker_.run(std::move(job));
  co_return taken;
}

asio::awaitable<long long> SharedLocks::hold(std::string name) {
  const long long key = advisory_key(name);
  asio::steady_timer wait(co_await asio::this_coro::executor);
  auto pause = std::chrono::milliseconds(5);
  while (true) {
    std::optional<long long> fence;
    std::function<void()> job = [this, key, &fence] { fence = take(key); };
    co_await worker_.run(std::move(job));
    if (fence) co_return *fence;
    wait.expires_after(pause);
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

void SharedLocks::release(const std::string& name) {
  const long long key = advisory_key(name);
  worker_.post(
      [this, key] {
        forget_if_reconnected();
        if (!held_.erase(key)) return;
        connection_.prepare("SELECT pg_advisory_unlock(?)").bind(1, key).step();
      },
      "releasing a shared lock");
}

asio::awaitable<bool> SharedLocks::holds(std::string name) {
  const long long key = advisory_key(name);
  bool held = false;
  std::function<void()> job = [this, key, &held] {
    // A round trip proves the connection (and with it the lock) is still there.
    connection_.prepare("SELECT 1").step();
    forget_if_reconnected();
    held = held_.contains(key);
  };
  try {
    co_await worker_.run(std::move(job));
  } catch (const std::exception&) {
    held = false;
  }
  co_return held;
}

void check_fence(SqlConnection& db, long long key, long long fence) {
  auto newest = db.prepare("SELECT generation FROM lock_fences WHERE lock_key = ? FOR UPDATE");
  newest.bind(1, key);
  if (newest.step() && newest.integer(0) == fence) return;
  throw StoreUnavailable(
      "this gateway lost its lock on the session (its lock connection to the database "
      "dropped) and another gateway has taken it since; this turn's rows are not stored");
}

}  // namespace hermes::daemon::state
