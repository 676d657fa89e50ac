#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "daemon/state/transaction.hpp"

namespace hermes::daemon::state {

// The store's server cannot be reached now (PostgreSQL down or restarting): worth sending the
// request again in a moment, unlike a refused row.
struct StoreUnavailable : std::runtime_error {
  explicit StoreUnavailable(const std::string& what, bool at_commit = false)
      : std::runtime_error(what), lost_at_commit(at_commit) {}
  // Lost while committing: the rows may be stored or not, so they are not run again.
  bool lost_at_commit;
};

// The SQL a backend speaks where the two differ (upserts, dates, row order).
enum class Dialect { sqlite, postgres };

// One prepared statement of a backend, kept by its connection and reused: bound, stepped and
// read by one user at a time, then reset for the next.
class Cursor {
 public:
  virtual ~Cursor() = default;
  virtual void bind_text(int index, std::string_view text) = 0;
  virtual void bind_real(int index, double value) = 0;
  virtual void bind_integer(int index, long long value) = 0;
  // True while there is a row; false when done. Throws with the backend's message on an error.
  virtual bool step() = 0;
  virtual std::string text(int column) const = 0;
  virtual long long integer(int column) const = 0;
  virtual double real(int column) const = 0;
  virtual bool is_null(int column) const = 0;
  // Unbinds (unbound parameters are NULL) and forgets the rows.
  virtual void reset() noexcept = 0;
};

// A statement from a connection's cache, reset when this handle goes away, so the next user
// finds it clean. Bound strings must outlive the step (SQLite does not copy them).
class Statement {
 public:
  explicit Statement(Cursor& cursor) : cursor_(&cursor) {}
  ~Statement() {
    if (cursor_) cursor_->reset();
  }
  Statement(Statement&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& bind(int index, std::string_view text) {
    cursor_->bind_text(index, text);
    return *this;
  }
  Statement& bind(int index, double value) {
    cursor_->bind_real(index, value);
    return *this;
  }
  Statement& bind(int index, long long value) {
    cursor_->bind_integer(index, value);
    return *this;
  }
  bool step() { return cursor_->step(); }
  std::string text(int column) const { return cursor_->text(column); }
  long long integer(int column) const { return cursor_->integer(column); }
  double real(int column) const { return cursor_->real(column); }
  bool is_null(int column) const { return cursor_->is_null(column); }

 private:
  Cursor* cursor_;
};

// What the tables of every backend are written against: one connection, used by one thread at
// a time (the store worker, or the opener before the worker starts).
class SqlConnection : public TransactionScope {
 public:
  virtual Dialect dialect() const = 0;
  // `sql` (string literals: the cache is keyed by their address and text) takes `?` or `?N`
  // parameters; it is prepared on first use and kept.
  virtual Statement prepare(std::string_view sql) = 0;
  // Runs statements that return no rows (several, separated by semicolons).
  virtual void exec(const char* sql) = 0;
  // The store as messages name it: the file, or host:port/database (never a password).
  virtual std::string name() const = 0;
  // Ends the connection (SQLite first checkpoints its WAL into the file); later calls are
  // no-ops.
  virtual void close() = 0;

  // The schema version migrate() reads and writes (inside its transactions).
  virtual int schema_version() = 0;
  virtual void set_schema_version(int version) = 0;
  // Inside a migration's transaction: gateways starting together migrate one at a time.
  virtual void lock_schema() = 0;
};

}  // namespace hermes::daemon::state
