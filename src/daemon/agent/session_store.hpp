#pragma once

#include <boost/asio/awaitable.hpp>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "daemon/agent/session_cache.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/providers/openai_chat.hpp"
#include "daemon/state/transaction.hpp"

namespace hermes::daemon {

namespace state {
class StoreWorker;
}

// Sessions and their messages, as the event loop sees them: reads come from the cache when
// they can, every database access runs on the store worker, and a turn's rows are written in
// one transaction that the caller awaits before it replies.
class SessionStore {
 public:
  // `shared`: other gateways write to the same database (PostgreSQL). The cache is then
  // checked against the stored history's shape before each use (one small query instead of
  // the whole history), and only rows another gateway appended are read.
  SessionStore(state::StoreWorker& worker, SessionTables& tables, long long stored_sessions,
               SessionCache::Limits limits = {}, bool shared = false);

  // Sessions stored, plus those created and not yet committed.
  long count_sessions() const {
    return static_cast<long>(stored_sessions_ + static_cast<long long>(unstored_.size()));
  }

  // A fresh id ("hs_" + 32 hex digits: creation time, then 80 bits from one seeded generator).
  std::string new_session_id();
  boost::asio::awaitable<bool> exists(std::string id);
  boost::asio::awaitable<std::vector<providers::ChatMessage>> history(std::string id);
  // The newest session of a chat; a new one (stored before this returns) when it has none.
  boost::asio::awaitable<std::string> chat_session(std::string platform, std::string chat_key);

  // Rows for `tx`. The session exists (for exists() and the cache) from this call on, and is
  // forgotten again if the transaction fails.
  void add_session(state::Transaction& tx, const std::string& id, const std::string& platform,
                   const std::string& chat_key = "");
  // `status` empty: complete; "interrupted": cut short (kept, but sent upstream again only
  // when it says something).
  void add_message(state::Transaction& tx, const std::string& session_id, std::string role,
                   std::string content, std::string status = {});
  void add_message(state::Transaction& tx, const std::string& session_id,
                   providers::ChatMessage message, std::string status = {});
  // A summary for the session's first `covers` messages ("" = dropped); the cached history is
  // forgotten once it is stored, so the next read has the summary in place.
  void add_summary(state::Transaction& tx, const std::string& session_id, long long covers,
                   std::string content);
  boost::asio::awaitable<long long> summary_covers(std::string id);
  // Marks a continued session as used now (a new one is, by its creation).
  void touch(state::Transaction& tx, const std::string& session_id);
  // The platform user a session belongs to (session_search reads only theirs).
  void set_owner(state::Transaction& tx, const std::string& session_id,
                 const std::string& user_key);
  // session_search, on the store worker (MessageHit; `words` already split).
  boost::asio::awaitable<std::vector<MessageHit>> search(std::string user_key,
                                                         std::vector<std::string> words,
                                                         std::string except_session, int limit);
  // A turn the drain cut after complete tool rounds, to finish at the next start (or not).
  void mark_resumable(state::Transaction& tx, const std::string& session_id,
                      const std::string& platform);
  void clear_resumable(state::Transaction& tx, const std::string& session_id);
  // `tx` commits only while `fence` is the newest of the session's shared lock.
  void check_fence(state::Transaction& tx, const std::string& session_id, long long fence);
  boost::asio::awaitable<std::vector<std::string>> resumable_sessions(std::string platform);
  // Stores `tx`; rethrows (after forgetting what the cache learnt from it) when that fails.
  boost::asio::awaitable<void> commit(state::Transaction tx);

  const SessionCache& cache() const { return cache_; }

 private:
  boost::asio::awaitable<std::vector<providers::ChatMessage>> checked_history(std::string id);

  state::StoreWorker& worker_;
  SessionTables& tables_;
  long long stored_sessions_;
  SessionCache cache_;
  std::unordered_set<std::string> unstored_;  // created, their transaction not yet committed
  std::mt19937_64 ids_;
  bool shared_;
};

}  // namespace hermes::daemon
