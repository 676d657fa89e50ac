#include "daemon/agent/context_window.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/state/shared_locks.hpp"
#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon {

namespace {

// The rows a history shows, in order (shown_in_history): every message but interrupted ones
// that said nothing and those left out. One filter for the three reads that must agree on it
// (pasted as literals: statements are cached by their text, which must outlive the connection).
#define HERMES_VISIBLE_ROWS                                    \
  "FROM messages WHERE session_id = ? AND (status IS NULL OR " \
  "(content != '' AND status != 'left_out'))"
#define HERMES_VISIBLE_MESSAGES \
  "SELECT role, content, tool_calls, tool_call_id " HERMES_VISIBLE_ROWS
constexpr const char* kVisibleMessages = HERMES_VISIBLE_MESSAGES " ORDER BY id";
// LIMIT with the largest value, as both dialects take an OFFSET only after a LIMIT or alone.
constexpr const char* kVisibleMessagesAfter =
    HERMES_VISIBLE_MESSAGES " ORDER BY id LIMIT 9223372036854775807 OFFSET ?";
constexpr const char* kVisibleCount = "SELECT COUNT(*) " HERMES_VISIBLE_ROWS;
#undef HERMES_VISIBLE_MESSAGES
#undef HERMES_VISIBLE_ROWS

providers::ChatMessage message_at(state::Statement& row) {
  return {row.text(0), row.text(1), row.text(2), row.text(3)};
}

}  // namespace

long long SqlSessionTables::count_sessions() {
  auto query = db_.prepare("SELECT COUNT(*) FROM sessions");
  return query.step() ? query.integer(0) : 0;
}

bool SqlSessionTables::session_exists(const std::string& id) {
  return db_.prepare("SELECT 1 FROM sessions WHERE id = ?").bind(1, id).step();
}

void SqlSessionTables::insert_session(const std::string& id, const std::string& platform,
                                      const std::string& chat_key, double now) {
  db_.prepare(
         "INSERT INTO sessions(id, platform, chat_key, created_at, updated_at) "
         "VALUES(?,?,?,?,?)")
      .bind(1, id)
      .bind(2, platform)
      .bind(3, chat_key)
      .bind(4, now)
      .bind(5, now)
      .step();
}

void SqlSessionTables::insert_message(const std::string& session_id,
                                      const providers::ChatMessage& message, double now,
                                      const std::string& status) {
  auto insert = db_.prepare(
      "INSERT INTO messages(session_id, role, content, created_at, status, tool_calls, "
      "tool_call_id) VALUES(?,?,?,?,?,?,?)");
  insert.bind(1, session_id).bind(2, message.role).bind(3, message.content).bind(4, now);
  // Unbound: NULL (a complete message; no tool calls; not a tool result).
  if (!status.empty()) insert.bind(5, status);
  if (!message.tool_calls.empty()) insert.bind(6, message.tool_calls);
  if (!message.tool_call_id.empty()) insert.bind(7, message.tool_call_id);
  insert.step();
}

void SqlSessionTables::touch_session(const std::string& id, double now) {
  db_.prepare("UPDATE sessions SET updated_at = ? WHERE id = ?").bind(1, now).bind(2, id).step();
}

void SqlSessionTables::set_session_owner(const std::string& id, const std::string& user_key) {
  db_.prepare("UPDATE sessions SET user_key = ? WHERE id = ? AND user_key IS NULL")
      .bind(1, user_key)
      .bind(2, id)
      .step();
}

namespace {

// FTS5's query language from plain words: each quoted (a quote doubled), so nothing the model
// writes is read as an operator; the words must all occur.
std::string fts5_all_of(const std::vector<std::string>& words) {
  std::string query;
  for (const auto& word : words) {
    if (!query.empty()) query += ' ';
    query += '"';
    for (char c : word) {
      if (c == '"') query += '"';
      query += c;
    }
    query += '"';
  }
  return query;
}

std::string joined_words(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
  return text;
}

}  // namespace

std::vector<MessageHit> SqlSessionTables::search_messages(const std::string& user_key,
                                                          const std::vector<std::string>& words,
                                                          const std::string& except_session,
                                                          int limit) {
  const bool postgres = db_.dialect() == state::Dialect::postgres;
  // SQLite's index catches up with the messages stored since the last search (PostgreSQL
  // keeps its expression index itself).
  if (!postgres) {
    db_.prepare(
           "INSERT INTO messages_fts(rowid, content) SELECT id, content FROM messages "
           "WHERE id > (SELECT last_id FROM search_progress WHERE name = 'messages') "
           "AND role IN ('user', 'assistant') AND content != ''")
        .step();
    db_.prepare(
           "UPDATE search_progress SET last_id = (SELECT COALESCE(MAX(id), 0) FROM messages) "
           "WHERE name = 'messages'")
        .step();
  }
  auto query = db_.prepare(
      postgres ? "SELECT m.session_id, m.created_at, m.role, ts_headline('simple', m.content, q, "
                 "'MaxWords=24, MinWords=8, StartSel=«, StopSel=»') "
                 "FROM messages m JOIN sessions s ON s.id = m.session_id, "
                 "plainto_tsquery('simple', ?) q "
                 "WHERE m.role IN ('user', 'assistant') AND to_tsvector('simple', m.content) @@ q "
                 "AND s.user_key = ? AND s.id != ? "
                 "ORDER BY ts_rank(to_tsvector('simple', m.content), q) DESC, m.id DESC LIMIT ?"
               : "SELECT m.session_id, m.created_at, m.role, "
                 "snippet(messages_fts, 0, '«', '»', '…', 16) "
                 "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                 "JOIN sessions s ON s.id = m.session_id "
                 "WHERE messages_fts MATCH ? AND s.user_key = ? AND s.id != ? "
                 "ORDER BY bm25(messages_fts), m.id DESC LIMIT ?");
  const std::string matched = postgres ? joined_words(words) : fts5_all_of(words);  // outlives step
  query.bind(1, matched)
      .bind(2, user_key)
      .bind(3, except_session)
      .bind(4, static_cast<long long>(limit));
  std::vector<MessageHit> hits;
  while (query.step()) {
    hits.push_back({query.text(0), query.real(1), query.text(2), query.text(3)});
  }
  return hits;
}

std::vector<providers::ChatMessage> SqlSessionTables::load_messages(const std::string& session_id) {
  std::vector<providers::ChatMessage> messages;
  long long covers = 0;
  std::string summary;
  {
    auto newest = db_.prepare(
        "SELECT covers, content FROM session_summaries WHERE session_id = ? "
        "ORDER BY covers DESC LIMIT 1");
    if (newest.bind(1, session_id).step()) {
      covers = newest.integer(0);
      summary = newest.text(1);
    }
  }
  auto query = db_.prepare(kVisibleMessages);
  query.bind(1, session_id);
  long long index = 0;
  bool leading = true;  // still in the leading system messages
  auto place_summary = [&] {
    if (!summary.empty()) messages.push_back(context::summary_message(summary));
  };
  while (query.step()) {
    const bool system = query.text(0) == "system";
    leading = leading && system;
    if (covers > 0 && index == covers) place_summary();
    if (index >= covers || leading) messages.push_back(message_at(query));
    ++index;
  }
  if (covers > 0 && index <= covers) place_summary();
  return messages;
}

HistoryShape SqlSessionTables::history_shape(const std::string& session_id) {
  HistoryShape shape;
  shape.covers = summary_covers(session_id);
  auto rows = db_.prepare(kVisibleCount);
  if (rows.bind(1, session_id).step()) shape.rows = rows.integer(0);
  return shape;
}

std::vector<providers::ChatMessage> SqlSessionTables::load_messages_after(
    const std::string& session_id, long long skip) {
  auto query = db_.prepare(kVisibleMessagesAfter);
  query.bind(1, session_id).bind(2, skip);
  std::vector<providers::ChatMessage> messages;
  while (query.step()) messages.push_back(message_at(query));
  return messages;
}

void SqlSessionTables::insert_summary(const std::string& session_id, long long covers,
                                      const std::string& content, double now) {
  db_.prepare(
         "INSERT INTO session_summaries(session_id, covers, content, created_at) "
         "VALUES(?,?,?,?) ON CONFLICT(session_id, covers) "
         "DO UPDATE SET content = excluded.content, created_at = excluded.created_at")
      .bind(1, session_id)
      .bind(2, covers)
      .bind(3, content)
      .bind(4, now)
      .step();
}

long long SqlSessionTables::summary_covers(const std::string& session_id) {
  auto query = db_.prepare("SELECT MAX(covers) FROM session_summaries WHERE session_id = ?");
  return query.bind(1, session_id).step() ? query.integer(0) : 0;
}

std::optional<std::string> SqlSessionTables::newest_chat_session(const std::string& platform,
                                                                 const std::string& chat_key) {
  // Ties (one clock tick) go to the later row; PostgreSQL has no rowid, but ids begin with
  // their creation time.
  auto query = db_.prepare(db_.dialect() == state::Dialect::postgres
                               ? "SELECT id FROM sessions WHERE platform = ? AND chat_key = ? "
                                 "ORDER BY created_at DESC, id DESC LIMIT 1"
                               : "SELECT id FROM sessions WHERE platform = ? AND chat_key = ? "
                                 "ORDER BY created_at DESC, rowid DESC LIMIT 1");
  query.bind(1, platform).bind(2, chat_key);
  if (query.step()) return query.text(0);
  return std::nullopt;
}

void SqlSessionTables::mark_resumable(const std::string& session_id, const std::string& platform,
                                      double now) {
  db_.prepare(
         "INSERT INTO resumable_turns(session_id, platform, created_at) VALUES(?,?,?) "
         "ON CONFLICT(session_id) "
         "DO UPDATE SET platform = excluded.platform, created_at = excluded.created_at")
      .bind(1, session_id)
      .bind(2, platform)
      .bind(3, now)
      .step();
}

void SqlSessionTables::clear_resumable(const std::string& session_id) {
  db_.prepare("DELETE FROM resumable_turns WHERE session_id = ?").bind(1, session_id).step();
}

void SqlSessionTables::check_fence(const std::string& session_id, long long fence) {
  state::check_fence(db_, state::advisory_key(session_lock_name(session_id)), fence);
}

std::vector<std::string> SqlSessionTables::resumable_sessions(const std::string& platform) {
  std::vector<std::string> ids;
  auto query =
      db_.prepare("SELECT session_id FROM resumable_turns WHERE platform = ? ORDER BY created_at");
  query.bind(1, platform);
  while (query.step()) ids.push_back(query.text(0));
  return ids;
}

}  // namespace hermes::daemon
