#pragma once

#include <string>

namespace hermes::testing {

// The private test PostgreSQL server started by scripts/pg-test-server.sh (the ctest fixture
// postgres_start). Its directory is $HERMES_TEST_POSTGRES_DIR when set, else the compile
// definition HERMES_TEST_POSTGRES_DIR.

// postgresql://postgres:PASSWORD@127.0.0.1:PORT/postgres, read from DIR/url. Throws
// std::runtime_error naming the missing file when the server has not been started.
std::string postgres_server_url();

// Restarts the server in place (same port, same url) and returns once it accepts connections;
// open connections are cut. Throws std::runtime_error when the script fails.
void restart_postgres_server();

// A fresh, empty database on the test server for one test: created by the constructor, dropped
// (with its connections) by the destructor. Every test gets its own, so tests run in parallel.
class TestDatabase {
 public:
  TestDatabase() : TestDatabase(postgres_server_url()) {}
  // On another server than the fixture's (a PrivatePostgres).
  explicit TestDatabase(std::string server_url);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  // The server url with this database as its path: what the code under test is given.
  const std::string& url() const { return url_; }
  // The server's password, for checking that it reaches no log.
  std::string password() const;

  // Run SQL (one or more statements) on this database over a short-lived connection; throw
  // std::runtime_error with the server's message on failure.
  void exec(const std::string& sql) const;
  // The first column of the first row; "" for NULL or no rows.
  std::string scalar(const std::string& sql) const;

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

// A server of one test's own (the same script, another directory and port), for tests that
// restart or stop it: the fixture's is shared by tests running in parallel.
class PrivatePostgres {
 public:
  PrivatePostgres();   // throws std::runtime_error when the script fails
  ~PrivatePostgres();  // stops it and removes its files
  PrivatePostgres(const PrivatePostgres&) = delete;
  PrivatePostgres& operator=(const PrivatePostgres&) = delete;

  std::string url() const;
  void restart();  // same port and url; open connections are cut

 private:
  std::string dir_;
};

}  // namespace hermes::testing
