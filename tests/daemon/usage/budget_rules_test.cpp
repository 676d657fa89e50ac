// Budgets: periods in UTC, verdicts at 80 % and 100 %, and the sentences a chat is told.
#include "daemon/usage/budget_rules.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::usage {
namespace {

constexpr std::int64_t kDec2_1030 = 1796207400;  // 2026-12-02 10:30:00 UTC

TEST(BudgetPeriods, DaysAndMonthsAreUtcCalendarPeriods) {
  const auto day = period_window(BudgetPeriod::day, kDec2_1030);
  EXPECT_EQ(utc_time(day.start), "2026-12-02 00:00 UTC");
  EXPECT_EQ(utc_time(day.end), "2026-12-03 00:00 UTC");
  const auto month = period_window(BudgetPeriod::month, kDec2_1030);
  EXPECT_EQ(utc_time(month.start), "2026-12-01 00:00 UTC");
  EXPECT_EQ(utc_time(month.end), "2027-01-01 00:00 UTC") << "December rolls into the next year";
  const auto february = period_window(BudgetPeriod::month, 1803902400);  // 2027-03-02 12:00
  EXPECT_EQ(utc_time(february.start), "2027-03-01 00:00 UTC");
  // The last second of a period still belongs to it; the next starts afresh.
  EXPECT_EQ(period_window(BudgetPeriod::day, day.end - 1).start, day.start);
  EXPECT_EQ(period_window(BudgetPeriod::day, day.end).start, day.end);
}

TEST(BudgetChecks, WarnFromEightyPercentRefuseAtTheLimitWorstWins) {
  const std::vector<BudgetConfig> budgets = {
      {"daily-chat", BudgetScope::chat, 2.0, BudgetPeriod::day},
      {"monthly", BudgetScope::gateway, 50.0, BudgetPeriod::month},
  };
  struct Case {
    double chat_spent, gateway_spent;
    BudgetVerdict verdict;
    const char* budget;
  };
  const Case cases[] = {
      {0.0, 0.0, BudgetVerdict::ok, ""},
      {1.59, 10.0, BudgetVerdict::ok, ""},
      {1.60, 10.0, BudgetVerdict::warn, "daily-chat"},
      {1.99, 10.0, BudgetVerdict::warn, "daily-chat"},
      {2.00, 10.0, BudgetVerdict::refuse, "daily-chat"},
      {1.70, 50.0, BudgetVerdict::refuse, "monthly"},
      {0.10, 45.0, BudgetVerdict::warn, "monthly"},
  };
  for (const auto& c : cases) {
    const auto check = check_budgets(
        budgets,
        [&c](const BudgetConfig& b, PeriodWindow) {
          return b.scope == BudgetScope::chat ? c.chat_spent : c.gateway_spent;
        },
        kDec2_1030);
    EXPECT_EQ(check.verdict, c.verdict) << c.chat_spent << " / " << c.gateway_spent;
    EXPECT_EQ(check.budget, c.budget) << c.chat_spent << " / " << c.gateway_spent;
  }
}

TEST(BudgetChecks, TheRefusalNamesTheBudgetTheSpendTheLimitAndTheReset) {
  const std::vector<BudgetConfig> budgets = {
      {"daily-chat", BudgetScope::chat, 2.0, BudgetPeriod::day}};
  const auto check = check_budgets(
      budgets, [](const BudgetConfig&, PeriodWindow) { return 2.05; }, kDec2_1030);
  EXPECT_EQ(refusal_sentence(check),
            "The daily-chat budget ($2.00 a day) is used up: $2.05 spent. It resets at "
            "2026-12-03 00:00 UTC.");
  // The window passed to `spent` is the current period: the next day spends from zero.
  const auto tomorrow = check_budgets(
      budgets,
      [](const BudgetConfig&, PeriodWindow w) {
        return w.start >= period_window(BudgetPeriod::day, kDec2_1030).end ? 0.0 : 2.05;
      },
      kDec2_1030 + 86400);
  EXPECT_EQ(tomorrow.verdict, BudgetVerdict::ok);
}

}  // namespace
}  // namespace hermes::daemon::usage
