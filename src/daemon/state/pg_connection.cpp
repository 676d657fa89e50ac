#include "daemon/state/pg_connection.hpp"

#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace hermes::daemon::state {

namespace {

using Clock = std::chrono::steady_clock;

// Taken by migrate() in each step's transaction: one gateway migrates, the others wait.
constexpr long long kSchemaLock = 0x6865726d65730001;  // "hermes" + 1
constexpr auto kFailFastFor = std::chrono::seconds(1);

// libpq's messages end in a newline; ours are one line.
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

struct ParsedUrl {
  std::string host, port, dbname, user, password;
};

std::optional<ParsedUrl> parse_url(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return std::nullopt;
  }
  ParsedUrl parsed;
  for (auto* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    const std::string_view key = o->keyword;
    if (key == "host" || key == "hostaddr") {
      if (parsed.host.empty()) parsed.host = o->val;
    } else if (key == "port") {
      parsed.port = o->val;
    } else if (key == "dbname") {
      parsed.dbname = o->val;
    } else if (key == "user") {
      parsed.user = o->val;
    } else if (key == "password") {
      parsed.password = o->val;
    }
  }
  PQconninfoFree(options);
  return parsed;
}

// ? and ?N (SQLite's placeholders, which the tables are written in) as $N; none sit inside
// the string literals of our SQL, but quotes are skipped all the same.
std::string to_dollar_placeholders(std::string_view sql, int& parameters) {
  std::string out;
  out.reserve(sql.size() + 16);
  bool quoted = false;
  int next = 0;
  parameters = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (quoted || c != '?') {
      out += c;
      continue;
    }
    int index = 0;
    std::size_t j = i + 1;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') index = index * 10 + (sql[j++] - '0');
    if (j == i + 1) index = ++next;
    i = j - 1;
    parameters = std::max(parameters, index);
    out += '$' + std::to_string(index);
  }
  return out;
}

}  // namespace

std::string describe_postgres_url(const std::string& url) {
  const auto parsed = parse_url(url);
  if (!parsed) return "(an unreadable database.url)";
  return (parsed->host.empty() ? std::string("localhost") : parsed->host) + ":" +
         (parsed->port.empty() ? std::string("5432") : parsed->port) + "/" +
         (parsed->dbname.empty() ? parsed->user : parsed->dbname);
}

std::string postgres_url_password(const std::string& url) {
  const auto parsed = parse_url(url);
  return parsed ? parsed->password : std::string();
}

class PgConnection::PgCursor final : public Cursor {
 public:
  PgCursor(PgConnection& connection, std::string_view sql, std::string name)
      : connection_(connection), name_(std::move(name)) {
    sql_ = to_dollar_placeholders(sql, parameters_);
    values_.resize(static_cast<std::size_t>(parameters_));
  }
  ~PgCursor() override { PQclear(result_); }
  PgCursor(const PgCursor&) = delete;
  PgCursor& operator=(const PgCursor&) = delete;

  void bind_text(int index, std::string_view text) override { at(index) = std::string(text); }
  void bind_real(int index, double value) override {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);  // round-trips exactly
    at(index) = text;
  }
  void bind_integer(int index, long long value) override { at(index) = std::to_string(value); }

  bool step() override {
    if (result_) return ++row_ < PQntuples(result_);
    PGconn* conn = connection_.native();
    if (prepared_generation_ != connection_.generation()) {
      PGresult* prepared = PQprepare(conn, name_.c_str(), sql_.c_str(), parameters_, nullptr);
      const bool ok = PQresultStatus(prepared) == PGRES_COMMAND_OK;
      const std::string why = ok ? "" : PQresultErrorMessage(prepared);
      PQclear(prepared);
      if (!ok) connection_.fail(why);
      prepared_generation_ = connection_.generation();
    }
    std::vector<const char*> values(values_.size());
    for (std::size_t i = 0; i < values_.size(); ++i) {
      values[i] = values_[i] ? values_[i]->c_str() : nullptr;  // unbound: NULL
    }
    result_ = PQexecPrepared(conn, name_.c_str(), parameters_, values.data(), nullptr, nullptr, 0);
    const auto status = PQresultStatus(result_);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const std::string why = result_ ? PQresultErrorMessage(result_) : PQerrorMessage(conn);
      PQclear(result_);
      result_ = nullptr;
      connection_.fail(why);
    }
    row_ = 0;
    return row_ < PQntuples(result_);
  }
  std::string text(int column) const override {
    return std::string(PQgetvalue(result_, row_, column),
                       static_cast<std::size_t>(PQgetlength(result_, row_, column)));
  }
  long long integer(int column) const override {
    return std::strtoll(PQgetvalue(result_, row_, column), nullptr, 10);
  }
  double real(int column) const override {
    return std::strtod(PQgetvalue(result_, row_, column), nullptr);
  }
  bool is_null(int column) const override { return PQgetisnull(result_, row_, column) == 1; }
  void reset() noexcept override {
    PQclear(result_);
    result_ = nullptr;
    for (auto& value : values_) value.reset();
  }

 private:
  std::optional<std::string>& at(int index) {
    if (index < 1 || index > parameters_) {
      throw std::logic_error("parameter " + std::to_string(index) + " of " + sql_);
    }
    return values_[static_cast<std::size_t>(index - 1)];
  }

  PgConnection& connection_;
  std::string name_;
  std::string sql_;
  int parameters_ = 0;
  std::vector<std::optional<std::string>> values_;
  unsigned long long prepared_generation_ = 0;  // 0: not prepared on any connection yet
  PGresult* result_ = nullptr;
  int row_ = 0;
};

PgConnection::PgConnection(std::string url, Options options)
    : url_(std::move(url)), name_(describe_postgres_url(url_)), options_(options) {
  ensure_connected();
}

PgConnection::~PgConnection() {
  close();
}

void PgConnection::close() {
  statements_.clear();
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
}

bool PgConnection::connect_once(std::string& error) {
  if (conn_) PQfinish(conn_);
  // The URL's own settings win over these defaults: it is expanded last.
  const char* keywords[] = {"connect_timeout",           "keepalives", "keepalives_idle",
                            "fallback_application_name", "dbname",     nullptr};
  const char* values[] = {"3", "1", "10", "hermes-gateway", url_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) {
    // NOTICEs ("already exists, skipping") are not worth a line on stderr.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    return true;
  }
  error = conn_ ? one_line(PQerrorMessage(conn_)) : "out of memory";
  return false;
}

void PgConnection::ensure_connected() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) return;
  const auto now = Clock::now();
  if (generation_ > 0 && now < retry_at_) throw StoreUnavailable(last_error_);
  const auto deadline = now + options_.reconnect_wait;
  std::string error;
  while (true) {
    if (connect_once(error)) {
      if (generation_ > 0) spdlog::info("state store: connected to PostgreSQL {} again", name_);
      ++generation_;
      return;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  retry_at_ = Clock::now() + kFailFastFor;
  last_error_ = "PostgreSQL " + name_ + " is unreachable: " + error;
  if (generation_ == 0) {
    PQfinish(conn_);
    conn_ = nullptr;
    throw StoreUnavailable(last_error_ +
                           " (check database.url or HERMES_DATABASE_URL, and that the server "
                           "runs and takes connections)");
  }
  throw StoreUnavailable(last_error_);
}

void PgConnection::fail(const std::string& what) {
  if (conn_ && PQstatus(conn_) != CONNECTION_OK) {
    throw StoreUnavailable("PostgreSQL " + name_ + " connection lost: " + one_line(what));
  }
  throw std::runtime_error("PostgreSQL " + name_ + ": " + one_line(what));
}

Statement PgConnection::prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    auto cursor = std::make_unique<PgCursor>(*this, sql, "h" + std::to_string(++next_statement_));
    it = statements_.emplace(sql, std::move(cursor)).first;
  }
  return Statement(*it->second);
}

void PgConnection::exec(const char* sql) {
  ensure_connected();
  run(sql);
}

void PgConnection::run(const char* sql) {
  PGresult* result = PQexec(conn_, sql);
  const auto status = PQresultStatus(result);
  const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  const std::string why = ok ? "" : (result ? PQresultErrorMessage(result) : PQerrorMessage(conn_));
  PQclear(result);
  if (!ok) fail(why);
}

void PgConnection::begin() {
  ensure_connected();
  if (!options_.transactions) return;
  PGresult* result = PQexec(conn_, "BEGIN");
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  PQclear(result);
  if (ok) return;
  // A connection the server closed is found only now: open it again, once.
  ensure_connected();
  run("BEGIN");
}

void PgConnection::commit() {
  if (!options_.transactions) return;
  try {
    run("COMMIT");  // never on a new connection: it would commit nothing, and say so not
  } catch (const StoreUnavailable& e) {
    throw StoreUnavailable(e.what(), /*at_commit=*/true);
  }
}

void PgConnection::rollback() noexcept {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK) return;
  if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
  PQclear(PQexec(conn_, "ROLLBACK"));
}

int PgConnection::schema_version() {
  auto exists = prepare("SELECT to_regclass('hermes_schema') IS NOT NULL");
  if (!exists.step() || exists.text(0) != "t") return 0;
  auto query = prepare("SELECT COALESCE(MAX(version), 0) FROM hermes_schema");
  return query.step() ? static_cast<int>(query.integer(0)) : 0;
}

void PgConnection::set_schema_version(int version) {
  exec("CREATE TABLE IF NOT EXISTS hermes_schema (version BIGINT NOT NULL)");
  exec("DELETE FROM hermes_schema");
  prepare("INSERT INTO hermes_schema(version) VALUES(?)")
      .bind(1, static_cast<long long>(version))
      .step();
}

void PgConnection::lock_schema() {
  prepare("SELECT pg_advisory_xact_lock(?)").bind(1, kSchemaLock).step();
}

}  // namespace hermes::daemon::state
