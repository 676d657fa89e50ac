#include "daemon/usage/budget_rules.hpp"

#include <cstdio>
#include <ctime>

namespace hermes::daemon::usage {

namespace {

constexpr std::int64_t kDay = 86400;

std::int64_t utc_midnight_of(int year, int month, int day) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string dollars(double usd) {
  char text[32];
  std::snprintf(text, sizeof(text), "$%.2f", usd);
  return text;
}

const char* per(BudgetPeriod period) {
  return period == BudgetPeriod::day ? "a day" : "a month";
}

}  // namespace

std::int64_t unix_seconds_now() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

PeriodWindow period_window(BudgetPeriod period, std::int64_t now) {
  if (period == BudgetPeriod::day) {
    const std::int64_t start = now - ((now % kDay) + kDay) % kDay;
    return {start, start + kDay};
  }
  const std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  const int year = tm.tm_year + 1900, month = tm.tm_mon + 1;
  return {utc_midnight_of(year, month, 1),
          month == 12 ? utc_midnight_of(year + 1, 1, 1) : utc_midnight_of(year, month + 1, 1)};
}

BudgetCheck check_budgets(const std::vector<BudgetConfig>& budgets,
                          const std::function<double(const BudgetConfig&, PeriodWindow)>& spent,
                          std::int64_t now) {
  BudgetCheck worst;
  for (const auto& budget : budgets) {
    const auto window = period_window(budget.period, now);
    const double used = spent(budget, window);
    BudgetVerdict verdict = BudgetVerdict::ok;
    if (used >= budget.limit_usd) {
      verdict = BudgetVerdict::refuse;
    } else if (used >= kWarnShare * budget.limit_usd) {
      verdict = BudgetVerdict::warn;
    }
    if (verdict > worst.verdict) {
      worst = {verdict, budget.name, budget.period, used, budget.limit_usd, window.end};
    }
  }
  return worst;
}

std::string utc_time(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M UTC", &tm);
  return text;
}

std::string refusal_sentence(const BudgetCheck& check) {
  return "The " + check.budget + " budget (" + dollars(check.limit_usd) + " " + per(check.period) +
         ") is used up: " + dollars(check.spent_usd) + " spent. It resets at " +
         utc_time(check.resets_at) + ".";
}

std::string warning_sentence(const BudgetCheck& check) {
  return "Note: " + dollars(check.spent_usd) + " of the " + check.budget + " budget (" +
         dollars(check.limit_usd) + " " + per(check.period) + ") is spent; it resets at " +
         utc_time(check.resets_at) + ".";
}

}  // namespace hermes::daemon::usage
