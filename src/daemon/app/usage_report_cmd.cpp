#include "daemon/app/usage_report_cmd.hpp"

#include <filesystem>
#include <ostream>

#include "common/exit_codes.hpp"
#include "common/paths.hpp"
#include "daemon/state/sqlite_connection.hpp"
#include "daemon/usage/budget_rules.hpp"
#include "daemon/usage/usage_report.hpp"
#include "daemon/usage/usage_tables.hpp"

namespace hermes::daemon {

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
  if (!std::filesystem::exists(paths.state_db)) {
    err << "No usage recorded: " << paths.state_db.string()
        << " does not exist yet (the gateway has not run with this home).\n";
    return kExitFailure;
  }
  try {
    state::SqliteConnection db(paths.state_db, Durability::normal);
    usage::SqliteUsageTables tables(db);
    const auto all = tables.totals(since, usage::UsageGrouping::none, "");
    const usage::UsageTotal total = all.empty() ? usage::UsageTotal{} : all.front();
    const usage::UsageSection section{by, tables.totals(since, by, "")};
    out << (options.usage_json ? usage::usage_json(since, total, {section}) + "\n"
                               : usage::usage_text(since, total, section));
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
