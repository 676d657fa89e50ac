#include "daemon/providers/retry_after.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "daemon/providers/error_body.hpp"
#include "daemon/providers/text_util.hpp"

namespace hermes::providers {

namespace {

using std::chrono::milliseconds;

constexpr double kMaxSeconds = 7 * 24 * 3600.0;  // anything longer is not a reset time

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<double> unit_millis(std::string_view unit) {
  const auto u = ascii_lower(unit);
  if (u == "ms" || u == "millisecond" || u == "milliseconds") return 1.0;
  if (u == "s" || u == "sec" || u == "secs" || u == "second" || u == "seconds") return 1e3;
  if (u == "m" || u == "min" || u == "mins" || u == "minute" || u == "minutes") return 60e3;
  if (u == "h" || u == "hr" || u == "hrs" || u == "hour" || u == "hours") return 3600e3;
  if (u == "d" || u == "day" || u == "days") return 86400e3;
  return std::nullopt;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

struct DurationScan {
  double millis = 0;
  std::size_t consumed = 0;
  int parts = 0;  // number+unit pairs read
};

// Reads "1h2m3.5s", "20 ms", "3 minutes" from the front of `text`.
DurationScan scan_duration(std::string_view text) {
  DurationScan scan;
  std::size_t pos = 0;
  while (true) {
    std::size_t p = pos;
    while (p < text.size() && text[p] == ' ') ++p;
    const std::size_t number_start = p;
    while (p < text.size() && (is_digit(text[p]) || text[p] == '.')) ++p;
    if (p == number_start) break;
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data() + number_start, text.data() + p, value);
    if (ec != std::errc{} || ptr != text.data() + p) break;
    while (p < text.size() && text[p] == ' ') ++p;
    const std::size_t unit_start = p;
    while (p < text.size() && is_alpha(text[p])) ++p;
    const auto factor = unit_millis(text.substr(unit_start, p - unit_start));
    if (!factor) break;
    scan.millis += value * *factor;
    scan.consumed = p;
    ++scan.parts;
    pos = p;
  }
  return scan;
}

std::optional<double> plain_number(std::string_view text) {
  text = trim(text);
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<milliseconds> from_seconds(double seconds) {
  if (!std::isfinite(seconds) || seconds > kMaxSeconds) return std::nullopt;
  return milliseconds(static_cast<long long>(std::llround(std::max(0.0, seconds) * 1000)));
}

std::optional<milliseconds> until_epoch(double epoch_seconds,
                                        std::chrono::system_clock::time_point now) {
  const double now_seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
  return from_seconds(epoch_seconds - now_seconds);
}

std::string_view header(const std::vector<std::pair<std::string, std::string>>& headers,
                        std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && contains_ci(key, name)) return value;
  }
  return {};
}

// `x-ratelimit-reset-requests: 6m0s`, `x-ratelimit-reset: 1732723200` (epoch),
// `anthropic-ratelimit-requests-reset: 2026-11-27T20:00:00Z`: the latest of them.
std::optional<milliseconds> ratelimit_reset_headers(
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::system_clock::time_point now) {
  std::optional<milliseconds> latest;
  for (const auto& [key, value] : headers) {
    const auto name = ascii_lower(key);
    const bool is_reset_header =
        name.find("ratelimit") != std::string::npos &&
        (name.ends_with("reset") || name.find("reset-") != std::string::npos);
    if (!is_reset_header) continue;
    std::optional<milliseconds> wait;
    if (auto n = plain_number(value)) {
      wait = *n > 1e9 ? until_epoch(*n, now) : from_seconds(*n);
    } else if (auto t = parse_iso8601_utc(trim(value))) {
      wait = until_epoch(static_cast<double>(*t), now);
    } else {
      wait = parse_duration_text(value);
    }
    if (wait && (!latest || *wait > *latest)) latest = wait;
  }
  return latest;
}

std::optional<milliseconds> from_message(std::string_view haystack) {
  for (std::string_view lead :
       {"try again in ", "retry after ", "resets in ", "reset in ", "available in ", "retry in "}) {
    const auto at = haystack.find(lead);
    if (at == std::string_view::npos) continue;
    const auto scan = scan_duration(haystack.substr(at + lead.size()));
    if (scan.parts > 0) return from_seconds(scan.millis / 1000.0);
  }
  return std::nullopt;
}

}  // namespace

std::optional<milliseconds> parse_duration_text(std::string_view text) {
  text = trim(text);
  if (auto n = plain_number(text)) return from_seconds(*n);
  const auto scan = scan_duration(text);
  if (scan.parts == 0 || trim(text.substr(scan.consumed)).size() != 0) return std::nullopt;
  return from_seconds(scan.millis / 1000.0);
}

std::optional<std::time_t> parse_iso8601_utc(std::string_view text) {
  std::string s(trim(text));
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) rest = strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  std::time_t t = timegm(&tm);
  if (*rest == '.') {
    ++rest;
    while (is_digit(*rest)) ++rest;
  }
  if (*rest == '+' || *rest == '-') {
    const int sign = *rest == '+' ? 1 : -1;
    int hh = 0, mm = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hh, &mm) < 1) return std::nullopt;
    t -= sign * (hh * 3600 + mm * 60);
  } else if (*rest != 'Z' && *rest != 'z' && *rest != '\0') {
    return std::nullopt;
  }
  return t;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  std::string s(trim(text));
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!rest || *rest != '\0') return std::nullopt;
  return timegm(&tm);
}

std::optional<milliseconds> find_retry_after(
    const std::vector<std::pair<std::string, std::string>>& headers, const ErrorBody& body,
    std::chrono::system_clock::time_point now) {
  if (auto ms = plain_number(header(headers, "retry-after-ms"))) {
    return from_seconds(*ms / 1000.0);
  }
  if (auto value = header(headers, "retry-after"); !value.empty()) {
    if (auto seconds = plain_number(value)) return from_seconds(*seconds);
    if (auto date = parse_http_date(value)) return until_epoch(static_cast<double>(*date), now);
  }
  if (body.resets_in_seconds) return from_seconds(*body.resets_in_seconds);
  if (body.reset_at_epoch) return until_epoch(*body.reset_at_epoch, now);
  if (auto reset = ratelimit_reset_headers(headers, now)) return reset;
  return from_message(body.haystack);
}

}  // namespace hermes::providers
