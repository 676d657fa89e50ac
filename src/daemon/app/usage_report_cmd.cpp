#include "daemon/app/usage_report_cmd.hpp"

#include <filesystem>
#include <ostream>

#include "common/config_loader.hpp"
#include "common/exit_codes.hpp"
#include "common/paths.hpp"
#include "daemon/state/pg_connection.hpp"
#include "daemon/state/sqlite_connection.hpp"
#include "daemon/usage/budget_rules.hpp"
#include "daemon/usage/usage_report.hpp"
#include "daemon/usage/usage_tables.hpp"

namespace hermes::daemon {

namespace {

// The database section of the config (an unreadable config: the default, state.db).
DatabaseConfig configured_database(const HomePaths& paths) {
  std::vector<std::string> warnings;
  const Environment env = Environment::from_process(paths.env_file, warnings);
  auto loaded = load_config_file(paths.config_file, env);
  return loaded.config ? loaded.config->database : DatabaseConfig{};
}

void print_report(state::SqlConnection& db, double since, usage::UsageGrouping by, bool as_json,
                  std::ostream& out) {
  usage::SqlUsageTables tables(db);
  const auto all = tables.totals(since, usage::UsageGrouping::none, "");
  const usage::UsageTotal total = all.empty() ? usage::UsageTotal{} : all.front();
  const usage::UsageSection section{by, tables.totals(since, by, "")};
  out << (as_json ? usage::usage_json(since, total, {section}) + "\n"
                  : usage::usage_text(since, total, section));
}

}  // namespace

int run_usage_report(const Options& options, std::ostream& out, std::ostream& err) {
  const auto now = usage::unix_seconds_now();
  double since = static_cast<double>(usage::period_window(BudgetPeriod::month, now).start);
  if (options.usage_since) {
    const auto parsed = usage::parse_since(*options.usage_since, now);
    if (!parsed) {
      err << "error: --since '" << *options.usage_since
          << "' is not a time; use e.g. 24h, 7d, 2026-12-01 or 2026-12-01T10:00:00Z\n";
      return kExitUsage;
    }
    since = *parsed;
  }
  auto by = usage::UsageGrouping::model;
  if (options.usage_by) {
    const auto parsed = usage::parse_grouping(*options.usage_by);
    if (!parsed) {
      err << "error: --by '" << *options.usage_by << "' must be provider, model, session or day\n";
      return kExitUsage;
    }
    by = *parsed;
  }
  const HomePaths paths = resolve_home(options.home, options.config);
  if (const auto database = configured_database(paths); database.backend == "postgres") {
    const auto where = state::describe_postgres_url(database.url);
    try {
      state::PgConnection db(database.url, state::PgConnection::Options{std::chrono::seconds(2)});
      print_report(db, since, by, options.usage_json, out);
    } catch (const std::exception& e) {
      err << "error: cannot read usage from PostgreSQL " << where << ": " << e.what() << '\n';
      return kExitFailure;
    }
    return kExitOk;
  }
  if (!std::filesystem::exists(paths.state_db)) {
    err << "No usage recorded: " << paths.state_db.string()
        << " does not exist yet (the gateway has not run with this home).\n";
    return kExitFailure;
  }
  try {
    state::SqliteConnection db(paths.state_db, Durability::normal);
    print_report(db, since, by, options.usage_json, out);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    err << "error: cannot read usage from " << paths.state_db.string() << ": " << what
        << (what.find("no such table") != std::string::npos
                ? " (state.db is from an older gateway: start the gateway once to upgrade it)"
                : "")
        << '\n';
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace hermes::daemon
