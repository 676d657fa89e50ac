#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/config.hpp"
#include "daemon/state/sql_connection.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace hermes::daemon::state {

// The state store cannot be used as it is (missing directory, read-only, damaged, newer
// schema): a refused start (exit 78), with the file and what to do in the message.
struct StoreUnusable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What to do with a state.db SQLite cannot read: appended to its error.
std::string damaged_store_hint(const std::filesystem::path& file);

// One SQLite connection with the settings of the state store (WAL, foreign keys, the chosen
// durability) and a cache of prepared statements: SQL is parsed once per connection, not per
// request. Not thread-safe: one thread uses it at a time (the store worker, or the opener
// before the worker starts).
class SqliteConnection final : public SqlConnection {
 public:
  // Throws std::runtime_error naming the file and what to do when it cannot be opened.
  SqliteConnection(const std::filesystem::path& file, Durability durability);
  ~SqliteConnection() override;
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Dialect dialect() const override { return Dialect::sqlite; }
  Statement prepare(std::string_view sql) override;
  void exec(const char* sql) override;
  std::string name() const override { return file_.string(); }
  int schema_version() override;  // PRAGMA user_version
  void set_schema_version(int version) override;
  void lock_schema() override {}  // BEGIN IMMEDIATE took the file's write lock already
  void begin() override;
  void commit() override;
  void rollback() noexcept override;
  void set_durability(Durability durability);
  // Throws StoreUnusable when the file cannot take writes (opened read-only, or the write
  // lock cannot be had): found before READY, not at the first answered turn.
  void check_writable();
  // Throws StoreUnusable when SQLite's quick check finds damaged pages (it reads every page:
  // ~80 ms for 120 MB; worth it before READY rather than a 500 on the first damaged turn).
  void check_pages();
  // Called after each commit with the WAL's size in pages (on the committing thread). Setting
  // it turns SQLite's own checkpoint-on-commit off: the Checkpointer does that work instead.
  void on_wal_commit(std::function<void(int pages)> hook);
  // Copies what it can of the WAL into the file without blocking writers; false when it was
  // busy (try again later); throws on a real error.
  bool checkpoint_passive();
  // Checkpoints the WAL into the main file and closes; later calls are no-ops.
  void close() override;
  const std::filesystem::path& file() const { return file_; }
  // Why the path no longer holds the file opened (removed, or replaced), "" while it does.
  // Any thread: it reads only what the constructor set.
  std::string file_problem() const;

 private:
  [[noreturn]] void fail(const std::string& what) const;
  // Throws StoreUnavailable when file_ is no longer the file opened (removed or replaced).
  void check_file_in_place() const;
  struct FileIdentity {
    dev_t device;
    ino_t inode;
  };
  std::filesystem::path file_;
  std::optional<FileIdentity> opened_;  // unset when the path could not be stat'ed
  sqlite3* db_ = nullptr;
  class SqliteCursor;
  std::unordered_map<std::string_view, std::unique_ptr<SqliteCursor>> statements_;
  std::function<void(int)> wal_hook_;
};

}  // namespace hermes::daemon::state
