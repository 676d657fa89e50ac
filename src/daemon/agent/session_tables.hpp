#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/agent/history_shape.hpp"
#include "daemon/providers/openai_chat.hpp"

namespace hermes::daemon {

// The name of a session's shared lock, with several gateways (its advisory key and its fence
// are this name's).
inline std::string session_lock_name(const std::string& session_id) {
  return "session:" + session_id;
}

// The status of a message that can never fit the context window: stored, never sent again.
inline constexpr std::string_view kLeftOutStatus = "left_out";

// Whether a stored message is part of the history sent upstream: complete ones, and those cut
// short (stopped, interrupted) that said something; never one left out. The SQL reads in
// sql_session_tables.cpp say the same.
inline bool shown_in_history(std::string_view status, std::string_view content) {
  return status.empty() || (!content.empty() && status != kLeftOutStatus);
}

// A message session_search found: its session, when it was said, by whom, and the words
// around the match.
struct MessageHit {
  std::string session_id;
  double created_at = 0;
  std::string role;
  std::string snippet;
};

// The rows of sessions and their messages, as one backend stores them. Called only on the
// store worker's thread, inside its transactions; a second backend (PostgreSQL) implements
// the same.
class SessionTables {
 public:
  virtual ~SessionTables() = default;
  virtual long long count_sessions() = 0;
  virtual bool session_exists(const std::string& id) = 0;
  virtual void insert_session(const std::string& id, const std::string& platform,
                              const std::string& chat_key, double now) = 0;
  // `status` empty: a complete message; otherwise how it ended ("interrupted").
  virtual void insert_message(const std::string& session_id, const providers::ChatMessage& message,
                              double now, const std::string& status) = 0;
  virtual void touch_session(const std::string& id, double now) = 0;
  // The platform user the session belongs to ("telegram-42"), set by its first turn.
  virtual void set_session_owner(const std::string& id, const std::string& user_key) = 0;
  // session_search: `user_key`'s messages (user and assistant) matching every word of
  // `words`, best first, outside `except_session`; at most `limit`. Writes (SQLite brings its
  // index up to date first): call it in a transaction.
  virtual std::vector<MessageHit> search_messages(const std::string& user_key,
                                                  const std::vector<std::string>& words,
                                                  const std::string& except_session, int limit) = 0;
  // The history sent upstream: every message but interrupted ones that said nothing; past a
  // compaction, the newest summary in place of the messages it covers (leading system
  // messages stay).
  virtual std::vector<providers::ChatMessage> load_messages(const std::string& session_id) = 0;
  virtual HistoryShape history_shape(const std::string& session_id) = 0;
  // The visible rows after the first `skip` (rows past every summary: appended as they are).
  virtual std::vector<providers::ChatMessage> load_messages_after(const std::string& session_id,
                                                                  long long skip) = 0;
  // A summary standing for the session's first `covers` messages (as load_messages counts
  // them before summaries); "" when they were dropped instead.
  virtual void insert_summary(const std::string& session_id, long long covers,
                              const std::string& content, double now) = 0;
  // How many messages the newest summary covers; 0 without one.
  virtual long long summary_covers(const std::string& session_id) = 0;
  // The newest session of a chat, if it has one.
  virtual std::optional<std::string> newest_chat_session(const std::string& platform,
                                                         const std::string& chat_key) = 0;
  // Sessions whose turn the drain cut after complete tool rounds, to finish at the next start.
  virtual void mark_resumable(const std::string& session_id, const std::string& platform,
                              double now) = 0;
  virtual void clear_resumable(const std::string& session_id) = 0;
  virtual std::vector<std::string> resumable_sessions(const std::string& platform) = 0;
  // Several gateways: throws StoreUnavailable unless `fence` is still the newest generation of
  // the session's shared lock (state::check_fence), holding it to the transaction.
  virtual void check_fence(const std::string& session_id, long long fence) = 0;
};

namespace state {
class SqlConnection;
}

class SqlSessionTables final : public SessionTables {
 public:
  explicit SqlSessionTables(state::SqlConnection& db) : db_(db) {}
  long long count_sessions() override;
  bool session_exists(const std::string& id) override;
  void insert_session(const std::string& id, const std::string& platform,
                      const std::string& chat_key, double now) override;
  void insert_message(const std::string& session_id, const providers::ChatMessage& message,
                      double now, const std::string& status) override;
  void touch_session(const std::string& id, double now) override;
  void set_session_owner(const std::string& id, const std::string& user_key) override;
  std::vector<MessageHit> search_messages(const std::string& user_key,
                                          const std::vector<std::string>& words,
                                          const std::string& except_session, int limit) override;
  std::vector<providers::ChatMessage> load_messages(const std::string& session_id) override;
  HistoryShape history_shape(const std::string& session_id) override;
  std::vector<providers::ChatMessage> load_messages_after(const std::string& session_id,
                                                          long long skip) override;
  void insert_summary(const std::string& session_id, long long covers, const std::string& content,
                      double now) override;
  long long summary_covers(const std::string& session_id) override;
  std::optional<std::string> newest_chat_session(const std::string& platform,
                                                 const std::string& chat_key) override;
  void mark_resumable(const std::string& session_id, const std::string& platform,
                      double now) override;
  void clear_resumable(const std::string& session_id) override;
  std::vector<std::string> resumable_sessions(const std::string& platform) override;
  void check_fence(const std::string& session_id, long long fence) override;

 private:
  state::SqlConnection& db_;
};

}  // namespace hermes::daemon
