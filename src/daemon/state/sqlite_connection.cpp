#include "daemon/state/sqlite_connection.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <stdexcept>

namespace hermes::daemon::state {

std::string damaged_store_hint(const std::filesystem::path& file) {
  return " — if " + file.string() +
         " is damaged, move it away to start with an empty store (or restore a backup)";
}

class SqliteConnection::SqliteCursor final : public Cursor {
 public:
  SqliteCursor(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  ~SqliteCursor() override { sqlite3_finalize(statement_); }
  SqliteCursor(const SqliteCursor&) = delete;
  SqliteCursor& operator=(const SqliteCursor&) = delete;

  void bind_text(int index, std::string_view text) override {
    // SQLITE_STATIC: copies nothing; the bound text outlives the step (Statement's contract).
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
  }
  void bind_real(int index, double value) override {
    sqlite3_bind_double(statement_, index, value);
  }
  void bind_integer(int index, long long value) override {
    sqlite3_bind_int64(statement_, index, value);
  }
  bool step() override {
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("state store: ") + sqlite3_errmsg(db_));
  }
  std::string text(int column) const override {
    const auto* p = sqlite3_column_text(statement_, column);
    if (!p) return {};
    return std::string(reinterpret_cast<const char*>(p),
                       static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)));
  }
  long long integer(int column) const override { return sqlite3_column_int64(statement_, column); }
  double real(int column) const override { return sqlite3_column_double(statement_, column); }
  bool is_null(int column) const override {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }
  void reset() noexcept override {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
};

SqliteConnection::SqliteConnection(const std::filesystem::path& file, Durability durability)
    : file_(file) {
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StoreUnusable("cannot open the state store " + file.string() + ": " + why +
                        " (check that the directory exists and is writable)");
  }
  sqlite3_busy_timeout(db_, 5000);
  try {
    exec("PRAGMA journal_mode=WAL");  // the first read of the file: a damaged one fails here
    set_durability(durability);
    exec("PRAGMA foreign_keys=ON");
    // Up to 8 MiB of pages stay in memory (SQLite's default is 2 MiB): fewer reads per turn.
    exec("PRAGMA cache_size=-8192");
  } catch (const std::exception& e) {
    close();
    throw StoreUnusable(e.what() + damaged_store_hint(file));
  }
  struct stat opened {};
  if (::stat(file.c_str(), &opened) == 0) opened_ = FileIdentity{opened.st_dev, opened.st_ino};
}

std::string SqliteConnection::file_problem() const {
  if (!opened_) return {};
  struct stat now {};
  if (::stat(file_.c_str(), &now) != 0) {
    return file_.string() +
           " was removed while the gateway runs; nothing more is stored (turns are refused, not "
           "acknowledged and lost): restore it and restart the gateway";
  }
  if (now.st_dev != opened_->device || now.st_ino != opened_->inode) {
    return file_.string() +
           " was replaced while the gateway runs; nothing more is stored in the old file "
           "(turns are refused): restart the gateway to use the new one";
  }
  return {};
}

// SQLite goes on writing a file unlinked or renamed away under it, and those commits succeed:
// a turn acknowledged then is gone at the next start. Refused instead, before anything is
// written (one stat per transaction, on the store's thread).
void SqliteConnection::check_file_in_place() const {
  if (auto problem = file_problem(); !problem.empty()) throw StoreUnavailable(problem);
}

SqliteConnection::~SqliteConnection() {
  close();
}

void SqliteConnection::fail(const std::string& what) const {
  throw std::runtime_error("state store " + file_.string() + ": " + what);
}

Statement SqliteConnection::prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &statement, nullptr) != SQLITE_OK) {
      fail(sqlite3_errmsg(db_));
    }
    it = statements_.emplace(sql, std::make_unique<SqliteCursor>(db_, statement)).first;
  }
  return Statement(*it->second);
}

int SqliteConnection::schema_version() {
  auto query = prepare("PRAGMA user_version");
  return query.step() ? static_cast<int>(query.integer(0)) : 0;
}

void SqliteConnection::set_schema_version(int version) {
  // PRAGMA takes no bound parameters; the version is ours, not input.
  exec(("PRAGMA user_version=" + std::to_string(version)).c_str());
}

void SqliteConnection::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    fail(why);
  }
}

void SqliteConnection::begin() {
  check_file_in_place();
  prepare("BEGIN IMMEDIATE").step();
}

void SqliteConnection::commit() {
  prepare("COMMIT").step();
}

void SqliteConnection::rollback() noexcept {
  if (db_ && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

// In WAL mode NORMAL writes each commit to the WAL without an fsync (a process crash loses
// nothing committed, a power loss may lose the last commits); FULL fsyncs the WAL per commit.
void SqliteConnection::set_durability(Durability durability) {
  exec(durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

void SqliteConnection::on_wal_commit(std::function<void(int pages)> hook) {
  wal_hook_ = std::move(hook);
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<SqliteConnection*>(self)->wal_hook_(pages);
        return SQLITE_OK;
      },
      this);
}

bool SqliteConnection::checkpoint_passive() {
  const int rc =
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc == SQLITE_OK || rc == SQLITE_BUSY) return rc == SQLITE_OK;
  fail(std::string("checkpoint: ") + sqlite3_errmsg(db_));
}

void SqliteConnection::check_writable() {
  if (sqlite3_db_readonly(db_, "main") == 1) {
    throw StoreUnusable("state store " + file_.string() +
                        " is read-only for this user; make it (and its directory) writable by "
                        "the user the gateway runs as");
  }
  try {
    exec("BEGIN IMMEDIATE");
    exec("ROLLBACK");
  } catch (const std::exception& e) {
    throw StoreUnusable(std::string(e.what()) + " (the gateway needs to write " + file_.string() +
                        "; check its permissions and the free disk space)");
  }
}

void SqliteConnection::check_pages() {
  std::string verdict;
  try {
    auto check = prepare("PRAGMA quick_check(1)");
    if (check.step()) verdict = check.text(0);
  } catch (const std::exception& e) {
    verdict = e.what();
  }
  if (verdict != "ok") {
    throw StoreUnusable("state store " + file_.string() + " has damaged pages (" + verdict + ")" +
                        damaged_store_hint(file_));
  }
}

void SqliteConnection::close() {
  if (!db_) return;
  statements_.clear();  // finalizes them
  sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
  sqlite3_close(db_);
  db_ = nullptr;
}

}  // namespace hermes::daemon::state
