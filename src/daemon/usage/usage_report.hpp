#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/usage/usage_tables.hpp"

// Usage reports (GET /v1/usage, `hermes gateway usage`, /usage in chat) as pure functions.
namespace hermes::daemon::usage {

// "24h", "7d", "30m", "2026-12-01", "2026-12-01T10:00:00Z" or unix seconds → unix seconds;
// nothing when it is none of these.
std::optional<double> parse_since(std::string_view text, std::int64_t now);
std::optional<UsageGrouping> parse_grouping(std::string_view name);  // provider|model|session|day
std::string_view grouping_name(UsageGrouping by);
// Where the default reports start: today's and this month's UTC start, in unix seconds.
double start_of_today(std::int64_t now);
double start_of_month(std::int64_t now);
std::int64_t report_time_now();

// One grouping's totals, as reported.
struct UsageSection {
  UsageGrouping by;
  std::vector<UsageTotal> totals;
};

// {"object":"usage","since":…,"total":{…},"by_provider":[…],…}
std::string usage_json(double since, const UsageTotal& total,
                       const std::vector<UsageSection>& sections);
// Aligned columns for a terminal, one section.
std::string usage_text(double since, const UsageTotal& total, const UsageSection& section);
// "1,234 tokens (900 in, 334 out), $0.0123" (", some calls unpriced" when so).
std::string usage_line(const UsageTotal& total);

}  // namespace hermes::daemon::usage
