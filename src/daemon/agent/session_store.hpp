#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "daemon/providers/openai_chat.hpp"

struct sqlite3;

namespace hermes::daemon {

// $HERMES_HOME/state.db (SQLite, WAL): sessions, messages, platform offsets. Opened before
// READY; closed (with a WAL checkpoint) as the last step of a drain.
class SessionStore {
 public:
  // Opens or creates the database and its schema. Throws std::runtime_error with the path
  // and SQLite's message when that fails.
  explicit SessionStore(const std::filesystem::path& file);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  long count_sessions() const;

  // A new session; returns its id ("hs_" + 32 hex digits).
  std::string create_session(const std::string& platform, const std::string& chat_key = "");
  bool session_exists(const std::string& id) const;
  // Durable when this returns (WAL, synchronous=NORMAL): written before any reply is sent.
  void append_message(const std::string& session_id, const std::string& role,
                      const std::string& content);
  std::vector<providers::ChatMessage> load_messages(const std::string& session_id) const;

  std::optional<long long> platform_offset(const std::string& platform) const;
  void set_platform_offset(const std::string& platform, long long value);
  // Checkpoints the WAL and closes; later calls are no-ops.
  void close();
  bool is_open() const { return db_ != nullptr; }

 private:
  void exec(const char* sql) const;
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace hermes::daemon
