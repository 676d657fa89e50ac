#pragma once

#include <filesystem>
#include <string>

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
  // Checkpoints the WAL and closes; later calls are no-ops.
  void close();
  bool is_open() const { return db_ != nullptr; }

 private:
  void exec(const char* sql) const;
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace hermes::daemon
