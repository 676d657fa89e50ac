#include "daemon/agent/session_store.hpp"

#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace hermes::daemon {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  platform TEXT NOT NULL,
  chat_key TEXT,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  role TEXT NOT NULL,
  content TEXT NOT NULL,
  created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE INDEX IF NOT EXISTS sessions_by_chat ON sessions(platform, chat_key, created_at);
CREATE TABLE IF NOT EXISTS inbound_messages (
  platform TEXT NOT NULL,
  update_id INTEGER NOT NULL,
  chat_id INTEGER NOT NULL,
  chat_key TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  username TEXT,
  message_id INTEGER NOT NULL,
  text TEXT NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (platform, update_id)
);
CREATE TABLE IF NOT EXISTS pending_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  platform TEXT NOT NULL,
  chat_id INTEGER NOT NULL,
  reply_to INTEGER NOT NULL,
  text TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS platform_offsets (
  platform TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
)sql";

}  // namespace

SessionStore::SessionStore(const std::filesystem::path& file) : file_(file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot open the state store " + file.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  exec(kSchema);
}

SessionStore::~SessionStore() {
  close();
}

void SessionStore::exec(const char* sql) const {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("state store " + file_.string() + ": " + why);
  }
}

long SessionStore::count_sessions() const {
  if (!db_) return 0;
  sqlite3_stmt* statement = nullptr;
  long count = 0;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM sessions", -1, &statement, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    count = sqlite3_column_int64(statement, 0);
  }
  sqlite3_finalize(statement);
  return count;
}

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A prepared statement that finalizes itself; throws with the database's message on misuse.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("state store: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, double value) {
    sqlite3_bind_double(statement_, index, value);
    return *this;
  }
  Statement& bind(int index, long long value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("state store: ") + sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    const auto* p = sqlite3_column_text(statement_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
             : std::string();
  }
  long long integer(int column) const { return sqlite3_column_int64(statement_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

std::string random_session_id() {
  std::random_device device;
  std::string id = "hs_";
  char hex[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(hex, sizeof(hex), "%08x", device());
    id += hex;
  }
  return id;
}

}  // namespace

std::string SessionStore::create_session(const std::string& platform, const std::string& chat_key) {
  const std::string id = random_session_id();
  const double now = now_seconds();
  Statement(
      db_, "INSERT INTO sessions(id, platform, chat_key, created_at, updated_at) VALUES(?,?,?,?,?)")
      .bind(1, id)
      .bind(2, platform)
      .bind(3, chat_key)
      .bind(4, now)
      .bind(5, now)
      .step();
  return id;
}

bool SessionStore::session_exists(const std::string& id) const {
  return Statement(db_, "SELECT 1 FROM sessions WHERE id = ?").bind(1, id).step();
}

void SessionStore::append_message(const std::string& session_id, const std::string& role,
                                  const std::string& content) {
  const double now = now_seconds();
  Statement(db_, "INSERT INTO messages(session_id, role, content, created_at) VALUES(?,?,?,?)")
      .bind(1, session_id)
      .bind(2, role)
      .bind(3, content)
      .bind(4, now)
      .step();
  Statement(db_, "UPDATE sessions SET updated_at = ? WHERE id = ?")
      .bind(1, now)
      .bind(2, session_id)
      .step();
}

std::vector<providers::ChatMessage> SessionStore::load_messages(
    const std::string& session_id) const {
  std::vector<providers::ChatMessage> messages;
  Statement query(db_, "SELECT role, content FROM messages WHERE session_id = ? ORDER BY id");
  query.bind(1, session_id);
  while (query.step()) messages.push_back({query.text(0), query.text(1)});
  return messages;
}

std::string SessionStore::chat_session(const std::string& platform, const std::string& chat_key) {
  Statement query(db_,
                  "SELECT id FROM sessions WHERE platform = ? AND chat_key = ? "
                  "ORDER BY created_at DESC, rowid DESC LIMIT 1");
  query.bind(1, platform).bind(2, chat_key);
  if (query.step()) return query.text(0);
  return create_session(platform, chat_key);
}

bool SessionStore::record_inbound(const std::string& platform, const Inbound& m) {
  Statement insert(db_,
                   "INSERT OR IGNORE INTO inbound_messages(platform, update_id, chat_id, chat_key, "
                   "user_id, username, message_id, text) VALUES(?,?,?,?,?,?,?,?)");
  insert.bind(1, platform)
      .bind(2, m.update_id)
      .bind(3, m.chat_id)
      .bind(4, m.chat_key)
      .bind(5, m.user_id)
      .bind(6, m.username)
      .bind(7, m.message_id)
      .bind(8, m.text)
      .step();
  return sqlite3_changes(db_) > 0;
}

std::optional<SessionStore::Inbound> SessionStore::next_inbound(const std::string& platform,
                                                                const std::string& chat_key) const {
  Statement query(db_,
                  "SELECT update_id, chat_id, chat_key, user_id, username, message_id, text "
                  "FROM inbound_messages WHERE platform = ? AND chat_key = ? AND done = 0 "
                  "ORDER BY update_id LIMIT 1");
  query.bind(1, platform).bind(2, chat_key);
  if (!query.step()) return std::nullopt;
  return Inbound{query.integer(0), query.integer(1), query.text(2), query.integer(3),
                 query.text(4),    query.integer(5), query.text(6)};
}

std::vector<std::string> SessionStore::chats_with_inbound(const std::string& platform) const {
  std::vector<std::string> chats;
  Statement query(db_,
                  "SELECT DISTINCT chat_key FROM inbound_messages WHERE platform = ? AND done = 0");
  query.bind(1, platform);
  while (query.step()) chats.push_back(query.text(0));
  return chats;
}

void SessionStore::mark_inbound_done(const std::string& platform, long long update_id) {
  Statement(db_, "UPDATE inbound_messages SET done = 1 WHERE platform = ? AND update_id = ?")
      .bind(1, platform)
      .bind(2, update_id)
      .step();
}

void SessionStore::queue_delivery(const std::string& platform, const Delivery& d) {
  Statement(db_,
            "INSERT INTO pending_deliveries(platform, chat_id, reply_to, text) VALUES(?,?,?,?)")
      .bind(1, platform)
      .bind(2, d.chat_id)
      .bind(3, d.reply_to)
      .bind(4, d.text)
      .step();
}

std::optional<SessionStore::Delivery> SessionStore::next_delivery(
    const std::string& platform) const {
  Statement query(db_,
                  "SELECT id, chat_id, reply_to, text, attempts FROM pending_deliveries "
                  "WHERE platform = ? ORDER BY id LIMIT 1");
  query.bind(1, platform);
  if (!query.step()) return std::nullopt;
  return Delivery{query.integer(0), query.integer(1), query.integer(2), query.text(3),
                  static_cast<int>(query.integer(4))};
}

void SessionStore::delivery_done(long long id) {
  Statement(db_, "DELETE FROM pending_deliveries WHERE id = ?").bind(1, id).step();
}

void SessionStore::delivery_failed(long long id) {
  Statement(db_, "UPDATE pending_deliveries SET attempts = attempts + 1 WHERE id = ?")
      .bind(1, id)
      .step();
}

void SessionStore::in_transaction(const std::function<void()>& work) {
  exec("BEGIN IMMEDIATE");
  try {
    work();
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::optional<long long> SessionStore::platform_offset(const std::string& platform) const {
  Statement query(db_, "SELECT value FROM platform_offsets WHERE platform = ?");
  query.bind(1, platform);
  if (!query.step()) return std::nullopt;
  return query.integer(0);
}

void SessionStore::set_platform_offset(const std::string& platform, long long value) {
  Statement(db_,
            "INSERT INTO platform_offsets(platform, value) VALUES(?, ?) "
            "ON CONFLICT(platform) DO UPDATE SET value = excluded.value")
      .bind(1, platform)
      .bind(2, value)
      .step();
}

void SessionStore::close() {
  if (!db_) return;
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close(db_);
  db_ = nullptr;
}

}  // namespace hermes::daemon
