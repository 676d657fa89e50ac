#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"

// Spending budgets as pure functions of the budgets, what was spent and the time (UTC).
namespace hermes::daemon::usage {

// Now, in unix seconds (UTC).
std::int64_t unix_seconds_now();

// A budget's current period, in unix seconds: [start, end).
struct PeriodWindow {
  std::int64_t start = 0;
  std::int64_t end = 0;
};
PeriodWindow period_window(BudgetPeriod period, std::int64_t now);

enum class BudgetVerdict { ok, warn, refuse };

struct BudgetCheck {
  BudgetVerdict verdict = BudgetVerdict::ok;
  std::string budget;  // the one that decided
  BudgetPeriod period = BudgetPeriod::day;
  double spent_usd = 0;
  double limit_usd = 0;
  std::int64_t resets_at = 0;  // unix seconds
};

// At or past this share of a limit, the chat is warned (once per period).
inline constexpr double kWarnShare = 0.8;

// The verdict of the worst budget among `budgets` (of the scopes a turn touches): refuse once
// spent ≥ limit, warn from 80 %. `spent(budget, window)` says what that budget's subject spent
// in the window.
BudgetCheck check_budgets(const std::vector<BudgetConfig>& budgets,
                          const std::function<double(const BudgetConfig&, PeriodWindow)>& spent,
                          std::int64_t now);

// "The daily-chat budget ($2.00 a day) is used up: $2.05 spent. It resets at 2026-12-03 00:00
// UTC." / the 80 % warning.
std::string refusal_sentence(const BudgetCheck& check);
std::string warning_sentence(const BudgetCheck& check);
// "2026-12-03 00:00 UTC"
std::string utc_time(std::int64_t unix_seconds);

}  // namespace hermes::daemon::usage
