#include "daemon/usage/usage_report.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "daemon/usage/budget_rules.hpp"

namespace hermes::daemon::usage {

double start_of_today(std::int64_t now) {
  return static_cast<double>(period_window(BudgetPeriod::day, now).start);
}

double start_of_month(std::int64_t now) {
  return static_cast<double>(period_window(BudgetPeriod::month, now).start);
}

std::int64_t report_time_now() {
  return unix_seconds_now();
}

namespace {

using nlohmann::json;

std::string with_commas(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string dollars(double usd) {
  char text[32];
  std::snprintf(text, sizeof(text), "$%.4f", usd);
  return text;
}

json total_json(const UsageTotal& t) {
  return {{"calls", t.calls},
          {"prompt_tokens", t.prompt_tokens},
          {"completion_tokens", t.completion_tokens},
          {"total_tokens", t.total_tokens},
          {"cost_usd", t.cost_usd},
          {"unpriced_calls", t.unpriced},
          {"cache_write_tokens", t.cache_write_tokens},
          {"cache_read_tokens", t.cache_read_tokens},
          {"cache_saved_usd", t.cache_saved_usd}};
}

}  // namespace

std::optional<double> parse_since(std::string_view text, std::int64_t now) {
  if (text.empty()) return std::nullopt;
  const char unit = text.back();
  if (unit == 'm' || unit == 'h' || unit == 'd') {
    long long n = 0;
    const auto digits = text.substr(0, text.size() - 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || n < 0 || n > 100000) {
      return std::nullopt;
    }
    const long long seconds = unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
    return static_cast<double>(now - n * seconds);
  }
  std::tm tm{};
  const std::string s(text);
  for (const char* format : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"}) {
    tm = {};
    const char* end = strptime(s.c_str(), format, &tm);
    if (end && *end == '\0') return static_cast<double>(timegm(&tm));
  }
  double seconds = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
  if (ec == std::errc{} && ptr == s.data() + s.size() && seconds >= 0) return seconds;
  return std::nullopt;
}

std::optional<UsageGrouping> parse_grouping(std::string_view name) {
  for (auto by : {UsageGrouping::provider, UsageGrouping::model, UsageGrouping::session,
                  UsageGrouping::day}) {
    if (grouping_name(by) == name) return by;
  }
  return std::nullopt;
}

std::string_view grouping_name(UsageGrouping by) {
  switch (by) {
    case UsageGrouping::provider:
      return "provider";
    case UsageGrouping::model:
      return "model";
    case UsageGrouping::session:
      return "session";
    case UsageGrouping::day:
      return "day";
    case UsageGrouping::none:
      break;
  }
  return "total";
}

std::string usage_json(double since, const UsageTotal& total,
                       const std::vector<UsageSection>& sections) {
  json out = {{"object", "usage"},
              {"since", static_cast<std::int64_t>(since)},
              {"total", total_json(total)}};
  for (const auto& section : sections) {
    json rows = json::array();
    for (const auto& t : section.totals) {
      json row = total_json(t);
      row[std::string(grouping_name(section.by))] = t.group;
      rows.push_back(std::move(row));
    }
    out["by_" + std::string(grouping_name(section.by))] = std::move(rows);
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string usage_line(const UsageTotal& t) {
  std::string line = with_commas(t.total_tokens) + " tokens (" + with_commas(t.prompt_tokens) +
                     " in, " + with_commas(t.completion_tokens) + " out) in " +
                     with_commas(t.calls) + " call" + (t.calls == 1 ? "" : "s") + ", " +
                     dollars(t.cost_usd);
  if (t.unpriced > 0) line += " (" + with_commas(t.unpriced) + " unpriced: add them to pricing:)";
  if (t.cache_read_tokens > 0 || t.cache_write_tokens > 0) {
    line += "; prompt cache: " + with_commas(t.cache_read_tokens) + " read, " +
            with_commas(t.cache_write_tokens) + " written, saved " + dollars(t.cache_saved_usd);
  }
  return line;
}

std::string usage_text(double since, const UsageTotal& total, const UsageSection& section) {
  std::string out =
      "Usage since " + utc_time(static_cast<std::int64_t>(since)) + ": " + usage_line(total) + "\n";
  if (section.totals.empty()) return out + "  no provider calls in this time\n";
  std::size_t width = grouping_name(section.by).size();
  for (const auto& t : section.totals) width = std::max(width, t.group.size());
  char line[512];
  std::snprintf(line, sizeof(line), "  %-*s %8s %14s %14s %14s %12s\n", static_cast<int>(width),
                std::string(grouping_name(section.by)).c_str(), "calls", "prompt", "completion",
                "total", "cost");
  out += line;
  for (const auto& t : section.totals) {
    std::snprintf(line, sizeof(line), "  %-*s %8s %14s %14s %14s %12s\n", static_cast<int>(width),
                  (t.group.empty() ? std::string("-") : t.group).c_str(),
                  with_commas(t.calls).c_str(), with_commas(t.prompt_tokens).c_str(),
                  with_commas(t.completion_tokens).c_str(), with_commas(t.total_tokens).c_str(),
                  (dollars(t.cost_usd) + (t.unpriced ? "*" : "")).c_str());
    out += line;
  }
  if (total.unpriced > 0) out += "  * some calls are of models without a price in pricing:\n";
  return out;
}

}  // namespace hermes::daemon::usage
