#include "daemon/state/sql_connection.hpp"
#include "daemon/usage/usage_tables.hpp"

namespace hermes::daemon::usage {

void SqlUsageTables::insert(const UsageRecord& r) {
  auto insert = db_.prepare(
      "INSERT INTO usage(at, provider, model, key_index, prompt_tokens, completion_tokens, "
      "total_tokens, cost_usd, session_id, platform, chat, kind, cache_write_tokens, "
      "cache_read_tokens, cache_saved_usd) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  insert.bind(1, r.at).bind(2, r.provider).bind(3, r.model);
  insert.bind(4, static_cast<long long>(r.key_index));
  insert.bind(5, static_cast<long long>(r.prompt_tokens));
  insert.bind(6, static_cast<long long>(r.completion_tokens));
  insert.bind(7, static_cast<long long>(r.total_tokens));
  if (r.cost_usd) insert.bind(8, *r.cost_usd);  // unbound: NULL, unpriced
  if (!r.session_id.empty()) insert.bind(9, r.session_id);
  insert.bind(10, r.platform).bind(11, r.chat).bind(12, r.kind);
  insert.bind(13, static_cast<long long>(r.cache_write_tokens));
  insert.bind(14, static_cast<long long>(r.cache_read_tokens));
  insert.bind(15, r.cache_saved_usd).step();
}

namespace {

// One literal per grouping: statements are prepared once and cached by their text.
#define HERMES_USAGE_TOTALS(GROUP, ORDER)                                               \
  "SELECT " GROUP                                                                       \
  ", COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens), "         \
  "COALESCE(SUM(cost_usd), 0), SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END), "     \
  "SUM(cache_write_tokens), SUM(cache_read_tokens), COALESCE(SUM(cache_saved_usd), 0) " \
  "FROM usage "                                                                         \
  "WHERE at >= ?1 AND "                                                                 \
  "(?2 = '' OR chat = ?2) GROUP BY 1 ORDER BY " ORDER

const char* totals_sql(UsageGrouping by, state::Dialect dialect) {
  switch (by) {
    case UsageGrouping::none:
      return HERMES_USAGE_TOTALS("''", "1");
    case UsageGrouping::provider:
      return HERMES_USAGE_TOTALS("provider", "6 DESC, 1");
    case UsageGrouping::model:
      return HERMES_USAGE_TOTALS("model", "6 DESC, 1");
    case UsageGrouping::session:
      return HERMES_USAGE_TOTALS("COALESCE(session_id, '')", "6 DESC, 1");
    case UsageGrouping::day:
      if (dialect == state::Dialect::postgres) {
        return HERMES_USAGE_TOTALS("to_char(to_timestamp(at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
                                   "1");
      }
      return HERMES_USAGE_TOTALS("strftime('%Y-%m-%d', at, 'unixepoch')", "1");
  }
  return HERMES_USAGE_TOTALS("''", "1");
}
#undef HERMES_USAGE_TOTALS

}  // namespace

std::vector<UsageTotal> SqlUsageTables::totals(double since, UsageGrouping by,
                                               const std::string& chat) {
  auto query = db_.prepare(totals_sql(by, db_.dialect()));
  query.bind(1, since).bind(2, chat);
  std::vector<UsageTotal> totals;
  while (query.step()) {
    totals.push_back({query.text(0), query.integer(1), query.integer(2), query.integer(3),
                      query.integer(4), query.real(5), query.integer(6), query.integer(7),
                      query.integer(8), query.real(9)});
  }
  return totals;
}

std::vector<DailySpend> SqlUsageTables::daily_spend(double since) {
  // The UTC day: SQLite's CAST truncates, PostgreSQL's rounds (hence FLOOR there).
  auto query = db_.prepare(
      db_.dialect() == state::Dialect::postgres
          ? "SELECT chat, provider, key_index, FLOOR(at / 86400)::BIGINT, SUM(cost_usd) FROM usage "
            "WHERE at >= ? AND cost_usd IS NOT NULL GROUP BY 1, 2, 3, 4"
          : "SELECT chat, provider, key_index, CAST(at / 86400 AS INTEGER), SUM(cost_usd) FROM "
            "usage WHERE at >= ? AND cost_usd IS NOT NULL GROUP BY 1, 2, 3, 4");
  query.bind(1, since);
  std::vector<DailySpend> spends;
  while (query.step()) {
    spends.push_back({query.text(0), query.text(1), static_cast<int>(query.integer(2)),
                      query.integer(3), query.real(4)});
  }
  return spends;
}

std::vector<DayUsage> SqlUsageTables::usage_by_day(double since) {
  auto query = db_.prepare(
      db_.dialect() == state::Dialect::postgres
          ? "SELECT FLOOR(at / 86400)::BIGINT, provider, model, COUNT(*), SUM(total_tokens), "
            "COALESCE(SUM(cost_usd), 0) FROM usage WHERE at >= ? GROUP BY 1, 2, 3"
          : "SELECT CAST(at / 86400 AS INTEGER), provider, model, COUNT(*), SUM(total_tokens), "
            "COALESCE(SUM(cost_usd), 0) FROM usage WHERE at >= ? GROUP BY 1, 2, 3");
  query.bind(1, since);
  std::vector<DayUsage> days;
  while (query.step()) {
    days.push_back({query.integer(0), query.text(1), query.text(2), query.integer(3),
                    query.integer(4), query.real(5)});
  }
  return days;
}

}  // namespace hermes::daemon::usage
