#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/state/sql_connection.hpp"

struct pg_conn;

namespace hermes::daemon::state {

// The parts of a PostgreSQL URL a message may show: host:port/database, never the password.
std::string describe_postgres_url(const std::string& url);
// The password in a PostgreSQL URL or conninfo string ("" without one), to be masked in logs.
std::string postgres_url_password(const std::string& url);

// One PostgreSQL connection (libpq, blocking: only the store worker's thread uses it, never
// the event loop) with a cache of server-side prepared statements. A connection that drops
// is opened again at the next transaction: for up to `reconnect_wait` (a database restart
// then costs a wait, not an error); after a failed attempt, transactions fail at once with
// its error for a second, so a backlog is not retried one by one against a dead server.
class PgConnection final : public SqlConnection {
 public:
  struct Options {
    std::chrono::milliseconds reconnect_wait{3000};
    bool transactions = true;  // false: every statement commits alone (the lock connection)
  };
  // Throws std::runtime_error naming host:port/database when it cannot connect.
  explicit PgConnection(std::string url, Options options);
  PgConnection(std::string url) : PgConnection(std::move(url), Options{}) {}
  ~PgConnection() override;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  Dialect dialect() const override { return Dialect::postgres; }
  Statement prepare(std::string_view sql) override;
  void exec(const char* sql) override;
  std::string name() const override { return name_; }
  int schema_version() override;
  void set_schema_version(int version) override;
  void lock_schema() override;
  void begin() override;
  void commit() override;
  void rollback() noexcept override;

  // Counts the sessions this connection had with the server: it grows at each reconnect,
  // so whoever holds session-level locks knows they went with the old one.
  unsigned long long generation() const { return generation_; }
  // Connects again now if the connection dropped; throws when it cannot.
  void ensure_connected();
  void close() override;

  pg_conn* native() const { return conn_; }
  [[noreturn]] void fail(const std::string& what);

 private:
  class PgCursor;
  bool connect_once(std::string& error);
  void run(const char* sql);  // on the connection as it is

  std::string url_;
  std::string name_;
  Options options_;
  pg_conn* conn_ = nullptr;
  unsigned long long generation_ = 0;
  unsigned long long next_statement_ = 0;
  std::chrono::steady_clock::time_point retry_at_{};
  std::string last_error_;
  std::unordered_map<std::string_view, std::unique_ptr<PgCursor>> statements_;
};

}  // namespace hermes::daemon::state
