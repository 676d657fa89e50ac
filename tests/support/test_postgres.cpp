#include "support/test_postgres.hpp"

#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>

#ifndef HERMES_SOURCE_DIR
#error "HERMES_SOURCE_DIR (the source tree, for scripts/pg-test-server.sh) must be defined"
#endif

namespace hermes::testing {

namespace {

std::string postgres_dir() {
  if (const char* env = std::getenv("HERMES_TEST_POSTGRES_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef HERMES_TEST_POSTGRES_DIR
  return HERMES_TEST_POSTGRES_DIR;
#else
  throw std::runtime_error(
      "test PostgreSQL: neither $HERMES_TEST_POSTGRES_DIR nor the compile definition "
      "HERMES_TEST_POSTGRES_DIR names the server directory");
#endif
}

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// Errors name the database, never the url: it carries the password.
Connection connect(const std::string& url, const std::string& what) {
  // connect_timeout: a wedged or restarting server fails the test instead of hanging it.
  const char* keys[] = {"dbname", "connect_timeout", nullptr};
  const char* values[] = {url.c_str(), "10", nullptr};
  Connection conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1), &PQfinish);
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("test PostgreSQL: connecting to " + what + ": " +
                             (conn ? PQerrorMessage(conn.get()) : "out of memory"));
  }
  // Keep NOTICEs ("... does not exist, skipping") out of the test output.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

Result run(PGconn* conn, const std::string& sql, const std::string& what) {
  Result result(PQexec(conn, sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("test PostgreSQL: on " + what + ": " + PQerrorMessage(conn) +
                             "  in: " + sql);
  }
  return result;
}

std::string unique_database_name() {
  static std::atomic<unsigned> counter{0};
  std::ostringstream name;
  // pid and counter keep parallel test processes apart; the random part, reused pids.
  name << "hermes_test_" << ::getpid() << '_' << counter++ << '_' << std::hex
       << std::random_device{}();
  return name.str();
}

std::string shell_quote(const std::string& word) {
  std::string quoted = "'";
  for (const char c : word) {
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return quoted + "'";
}

}  // namespace

std::string postgres_server_url() {
  const std::string dir = postgres_dir();
  const std::string file = dir + "/url";
  std::ifstream in(file);
  std::string url;
  if (!in || !std::getline(in, url) || url.empty()) {
    throw std::runtime_error("test PostgreSQL is not running: " + file +
                             " is missing; the ctest fixture postgres_start starts it: "
                             "scripts/pg-test-server.sh start " +
                             dir);
  }
  while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) url.pop_back();
  return url;
}

void restart_postgres_server() {
  const std::string command =
      shell_quote(std::string(HERMES_SOURCE_DIR) + "/scripts/pg-test-server.sh") + " restart " +
      shell_quote(postgres_dir());
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("test PostgreSQL: `" + command + "` failed (status " +
                             std::to_string(status) + ")");
  }
}

TestDatabase::TestDatabase(std::string server_url)
    : server_url_(std::move(server_url)), name_(unique_database_name()) {
  const std::string suffix = "/postgres";
  if (server_url_.size() < suffix.size() ||
      server_url_.compare(server_url_.size() - suffix.size(), suffix.size(), suffix) != 0) {
    throw std::runtime_error("test PostgreSQL: the server url does not end in " + suffix);
  }
  url_ = server_url_.substr(0, server_url_.size() - suffix.size()) + "/" + name_;
  const Connection conn = connect(server_url_, "the test server");
  run(conn.get(), "CREATE DATABASE " + name_, "the test server");
}

TestDatabase::~TestDatabase() {
  // Best effort: a failed drop must not turn into a crash in a destructor; the server and its
  // data go away with the ctest fixture postgres_stop anyway.
  try {
    const Connection conn = connect(server_url_, "the test server");
    PQclear(PQexec(conn.get(), ("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)").c_str()));
  } catch (...) {
  }
}

std::string TestDatabase::password() const {
  const auto at = server_url_.find('@');
  const auto colon = server_url_.rfind(':', at);
  if (at == std::string::npos || colon == std::string::npos || colon < 13) return "";
  return server_url_.substr(colon + 1, at - colon - 1);
}

namespace {

void run_script(const std::string& verb, const std::string& dir) {
  const std::string command =
      shell_quote(std::string(HERMES_SOURCE_DIR) + "/scripts/pg-test-server.sh") + " " + verb +
      " " + shell_quote(dir) + " >/dev/null";
  const int status = std::system(command.c_str());
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("test PostgreSQL: `" + command + "` failed (status " +
                             std::to_string(status) + ")");
  }
}

}  // namespace

PrivatePostgres::PrivatePostgres() {
  char pattern[] = "/tmp/hermes-private-pg.XXXXXX";
  if (!::mkdtemp(pattern)) throw std::runtime_error("test PostgreSQL: mkdtemp failed");
  dir_ = pattern;
  run_script("start", dir_);
}

PrivatePostgres::~PrivatePostgres() {
  try {
    run_script("stop", dir_);
  } catch (...) {
  }
}

std::string PrivatePostgres::url() const {
  std::ifstream in(dir_ + "/url");
  std::string url;
  std::getline(in, url);
  return url;
}

void PrivatePostgres::restart() {
  run_script("restart", dir_);
}

void TestDatabase::exec(const std::string& sql) const {
  const Connection conn = connect(url_, "database " + name_);
  run(conn.get(), sql, "database " + name_);
}

std::string TestDatabase::scalar(const std::string& sql) const {
  const Connection conn = connect(url_, "database " + name_);
  const Result result = run(conn.get(), sql, "database " + name_);
  if (PQntuples(result.get()) == 0 || PQnfields(result.get()) == 0 ||
      PQgetisnull(result.get(), 0, 0)) {
    return "";
  }
  return PQgetvalue(result.get(), 0, 0);
}

}  // namespace hermes::testing
