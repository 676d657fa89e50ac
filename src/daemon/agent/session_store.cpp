#include "daemon/agent/session_store.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>

#include "daemon/state/store_worker.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using providers::ChatMessage;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::mt19937_64 seeded_generator() {
  std::random_device device;
  std::seed_seq seed{device(), device(), device(), device(), device(), device()};
  return std::mt19937_64(seed);
}

}  // namespace

SessionStore::SessionStore(state::StoreWorker& worker, SessionTables& tables,
                           long long stored_sessions, SessionCache::Limits limits, bool shared)
    : worker_(worker),
      tables_(tables),
      stored_sessions_(stored_sessions),
      cache_(limits),
      ids_(seeded_generator()),
      shared_(shared) {}

// Time first (milliseconds, 12 hex digits), then 80 random bits: ids sort by creation, so a new
// session's rows land at the right edge of the indexes instead of on a random page each time.
std::string SessionStore::new_session_id() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const auto random = ids_();
  char id[3 + 32 + 1];
  std::snprintf(id, sizeof(id), "hs_%012llx%04llx%016llx",
                static_cast<unsigned long long>(ms) & 0xFFFFFFFFFFFFull,
                static_cast<unsigned long long>(ids_() & 0xFFFF),
                static_cast<unsigned long long>(random));
  return id;
}

asio::awaitable<bool> SessionStore::exists(std::string id) {
  if (unstored_.contains(id) || cache_.find(id)) co_return true;
  bool found = false;
  std::function<void()> job = [this, &id, &found] { found = tables_.session_exists(id); };
  co_await worker_.run(std::move(job));
  co_return found;
}

asio::awaitable<std::vector<ChatMessage>> SessionStore::history(std::string id) {
  if (shared_) co_return co_await checked_history(std::move(id));
  if (const auto* cached = cache_.find(id)) co_return *cached;
  std::vector<ChatMessage> loaded;
  std::function<void()> job = [this, &id, &loaded] { loaded = tables_.load_messages(id); };
  co_await worker_.run(std::move(job));
  // A write queued meanwhile already reached the cache (rows are cached when added), and the
  // worker ran this read after every write queued before it: the cache, if filled, is newer.
  if (const auto* cached = cache_.find(id)) co_return *cached;
  cache_.put(id, loaded);
  co_return loaded;
}

// The caller holds the session's lock (SessionQueue): no gateway writes to it while this runs,
// so the stored shape says exactly what the cache lacks. A history cached and still whole
// costs one small query; one another gateway added to costs its new rows; anything else (a
// summary stored elsewhere, nothing cached) is read whole.
asio::awaitable<std::vector<ChatMessage>> SessionStore::checked_history(std::string id) {
  const auto cached = cache_.shape(id);
  HistoryShape stored;
  std::vector<ChatMessage> rows;
  bool whole = false;
  std::function<void()> job = [this, &id, &cached, &stored, &rows, &whole] {
    stored = tables_.history_shape(id);
    if (cached && *cached == stored) return;
    if (cached && extends(*cached, stored)) {
      rows = tables_.load_messages_after(id, cached->rows);
      return;
    }
    rows = tables_.load_messages(id);
    whole = true;
  };
  co_await worker_.run(std::move(job));
  if (whole) {
    cache_.put(id, rows, stored);
    co_return rows;
  }
  if (cache_.shape(id) != cached) {
    // Changed meanwhile on this gateway (without the lock: never on the turn path): start over.
    cache_.erase(id);
    co_return co_await checked_history(std::move(id));
  }
  if (!rows.empty()) cache_.extend(id, std::move(rows), stored);
  co_return *cache_.find(id);
}

asio::awaitable<std::string> SessionStore::chat_session(std::string platform,
                                                        std::string chat_key) {
  std::optional<std::string> newest;
  std::function<void()> job = [this, &platform, &chat_key, &newest] {
    newest = tables_.newest_chat_session(platform, chat_key);
  };
  co_await worker_.run(std::move(job));
  if (newest) co_return *newest;
  state::Transaction tx;
  const auto id = new_session_id();
  add_session(tx, id, platform, chat_key);
  co_await commit(std::move(tx));
  co_return id;
}

void SessionStore::add_session(state::Transaction& tx, const std::string& id,
                               const std::string& platform, const std::string& chat_key) {
  unstored_.insert(id);
  cache_.put(id, {});
  tx.add([this, id, platform, chat_key, now = now_seconds()] {
    tables_.insert_session(id, platform, chat_key, now);
  });
  tx.on_success.push_back([this, id] {
    if (unstored_.erase(id)) ++stored_sessions_;
  });
  tx.on_failure.push_back([this, id] {
    unstored_.erase(id);
    cache_.erase(id);
  });
}

void SessionStore::add_message(state::Transaction& tx, const std::string& session_id,
                               std::string role, std::string content, std::string status) {
  add_message(tx, session_id, ChatMessage{std::move(role), std::move(content), {}, {}},
              std::move(status));
}

void SessionStore::add_message(state::Transaction& tx, const std::string& session_id,
                               ChatMessage message, std::string status) {
  // The row owns its copy; the cache takes the original, when the history shows it (as
  // SessionTables::load_messages decides).
  auto row = std::make_shared<ChatMessage>(message);
  if (shown_in_history(status, message.content)) cache_.append(session_id, std::move(message));
  tx.add([this, session_id, row, status = std::move(status), now = now_seconds()] {
    tables_.insert_message(session_id, *row, now, status);
  });
  tx.on_failure.push_back([this, session_id] { cache_.erase(session_id); });
}

asio::awaitable<std::vector<MessageHit>> SessionStore::search(std::string user_key,
                                                              std::vector<std::string> words,
                                                              std::string except_session,
                                                              int limit) {
  std::vector<MessageHit> hits;
  // A transaction: the search first brings the index up to date.
  state::Transaction tx;
  tx.add([&] { hits = tables_.search_messages(user_key, words, except_session, limit); });
  co_await worker_.commit(std::move(tx));
  co_return hits;
}

void SessionStore::touch(state::Transaction& tx, const std::string& session_id) {
  tx.add([this, session_id, now = now_seconds()] { tables_.touch_session(session_id, now); });
}

void SessionStore::set_owner(state::Transaction& tx, const std::string& session_id,
                             const std::string& user_key) {
  tx.add([this, session_id, user_key] { tables_.set_session_owner(session_id, user_key); });
}

void SessionStore::mark_resumable(state::Transaction& tx, const std::string& session_id,
                                  const std::string& platform) {
  tx.add([this, session_id, platform, now = now_seconds()] {
    tables_.mark_resumable(session_id, platform, now);
  });
}

void SessionStore::clear_resumable(state::Transaction& tx, const std::string& session_id) {
  tx.add([this, session_id] { tables_.clear_resumable(session_id); });
}

void SessionStore::check_fence(state::Transaction& tx, const std::string& session_id,
                               long long fence) {
  tx.add([this, session_id, fence] { tables_.check_fence(session_id, fence); });
}

asio::awaitable<std::vector<std::string>> SessionStore::resumable_sessions(std::string platform) {
  std::vector<std::string> ids;
  std::function<void()> job = [this, &platform, &ids] {
    ids = tables_.resumable_sessions(platform);
  };
  co_await worker_.run(std::move(job));
  co_return ids;
}

void SessionStore::add_summary(state::Transaction& tx, const std::string& session_id,
                               long long covers, std::string content) {
  tx.add([this, session_id, covers, content = std::move(content), now = now_seconds()] {
    tables_.insert_summary(session_id, covers, content, now);
  });
  tx.on_success.push_back([this, session_id] { cache_.erase(session_id); });
}

asio::awaitable<long long> SessionStore::summary_covers(std::string id) {
  long long covers = 0;
  std::function<void()> job = [this, &id, &covers] { covers = tables_.summary_covers(id); };
  co_await worker_.run(std::move(job));
  co_return covers;
}

asio::awaitable<void> SessionStore::commit(state::Transaction tx) {
  co_await worker_.commit(std::move(tx));
}

}  // namespace hermes::daemon
