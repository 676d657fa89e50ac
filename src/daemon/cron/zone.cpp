#include "daemon/cron/zone.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace hermes::daemon::cron {

namespace {

using namespace std::chrono;

long long days_from_civil(int year, unsigned month, unsigned day) {
  return sys_days(std::chrono::year(year) / std::chrono::month(month) / std::chrono::day(day))
      .time_since_epoch()
      .count();
}

int year_of(long long unix_seconds) {
  const sys_days day{
      days(unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400)};
  return static_cast<int>(year_month_day(day).year());
}

bool leap(int year) {
  return std::chrono::year(year).is_leap();
}

// The day (days since 1970) a rule's end falls on in `year`.
long long rule_day(const RuleDay& rule, int year) {
  const long long jan1 = days_from_civil(year, 1, 1);
  switch (rule.form) {
    case RuleDay::Form::julian_no_leap:
      return jan1 + rule.day - 1 + (leap(year) && rule.day >= 60 ? 1 : 0);
    case RuleDay::Form::zero_based:
      return jan1 + rule.day;
    case RuleDay::Form::month_week_day:
      break;
  }
  const long long first = days_from_civil(year, static_cast<unsigned>(rule.month), 1);
  const int first_weekday = static_cast<int>(weekday(sys_days(days(first))).c_encoding());
  long long day = first + (rule.weekday - first_weekday + 7) % 7 + (rule.week - 1) * 7LL;
  const auto length = static_cast<long long>(static_cast<unsigned>(
      (std::chrono::year(year) / std::chrono::month(static_cast<unsigned>(rule.month)) / last)
          .day()));
  while (day >= first + length) day -= 7;  // week 5: the last such day of the month
  return day;
}

bool in_daylight_time(const PosixRule& rule, long long t) {
  const int year = year_of(t + rule.standard_offset);
  const long long start =
      rule_day(rule.start, year) * 86400 + rule.start.seconds - rule.standard_offset;
  const long long end = rule_day(rule.end, year) * 86400 + rule.end.seconds - *rule.daylight_offset;
  return start < end ? (t >= start && t < end) : !(t >= end && t < start);
}

// A small reader over the rule text.
struct Reader {
  std::string_view text;
  std::size_t at = 0;
  bool done() const { return at >= text.size(); }
  char peek() const { return done() ? '\0' : text[at]; }
  bool take(char c) {
    if (peek() != c) return false;
    ++at;
    return true;
  }
  std::optional<long> number(int max_digits) {
    long value = 0;
    int count = 0;
    while (!done() && std::isdigit(static_cast<unsigned char>(peek())) && count < max_digits) {
      value = value * 10 + (text[at++] - '0');
      ++count;
    }
    return count ? std::optional<long>(value) : std::nullopt;
  }
  // A zone abbreviation: letters, or anything in <…>.
  bool name() {
    if (take('<')) {
      while (!done() && peek() != '>') ++at;
      return take('>');
    }
    const std::size_t begin = at;
    while (!done() && std::isalpha(static_cast<unsigned char>(peek()))) ++at;
    return at - begin >= 3;
  }
  // [+-]hh[:mm[:ss]], in seconds.
  std::optional<long> clock(long max_hours) {
    const long sign = take('-') ? -1 : (take('+'), 1);
    const auto hours = number(3);
    if (!hours || *hours > max_hours) return std::nullopt;
    long seconds = *hours * 3600;
    for (long unit : {60L, 1L}) {
      if (!take(':')) break;
      const auto part = number(2);
      if (!part || *part > 59) return std::nullopt;
      seconds += *part * unit;
    }
    return sign * seconds;
  }
  std::optional<RuleDay> rule_day() {
    RuleDay day;
    if (take('M')) {
      const auto m = number(2);
      if (!m || !take('.')) return std::nullopt;
      const auto w = number(1);
      if (!w || !take('.')) return std::nullopt;
      const auto d = number(1);
      if (!d || *m < 1 || *m > 12 || *w < 1 || *w > 5 || *d > 6) return std::nullopt;
      day.month = static_cast<int>(*m);
      day.week = static_cast<int>(*w);
      day.weekday = static_cast<int>(*d);
    } else {
      const bool julian = take('J');
      const auto n = number(3);
      if (!n || (julian ? (*n < 1 || *n > 365) : *n > 365)) return std::nullopt;
      day.form = julian ? RuleDay::Form::julian_no_leap : RuleDay::Form::zero_based;
      day.day = static_cast<int>(*n);
    }
    if (take('/')) {
      const auto seconds = clock(167);
      if (!seconds) return std::nullopt;
      day.seconds = *seconds;
    }
    return day;
  }
};

// Big-endian integers of a TZif file.
long long read_be(std::string_view bytes, std::size_t at, int size) {
  unsigned long long value = 0;
  for (int i = 0; i < size; ++i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  if (size == 4) return static_cast<int>(static_cast<unsigned>(value));
  return static_cast<long long>(value);
}

struct TzifCounts {
  long long isut, isstd, leap, time, type, chars;
  std::size_t data_size(int time_size) const {
    return static_cast<std::size_t>(time * time_size + time + type * 6 + chars +
                                    leap * (time_size + 4) + isstd + isut);
  }
};

std::optional<TzifCounts> tzif_header(std::string_view bytes, std::size_t at) {
  if (bytes.size() < at + 44 || bytes.substr(at, 4) != "TZif") return std::nullopt;
  TzifCounts c{};
  long long* fields[] = {&c.isut, &c.isstd, &c.leap, &c.time, &c.type, &c.chars};
  for (int i = 0; i < 6; ++i) {
    *fields[i] = read_be(bytes, at + 20 + 4 * static_cast<std::size_t>(i), 4);
    if (*fields[i] < 0 || *fields[i] > 100000) return std::nullopt;
  }
  if (c.type < 1) return std::nullopt;
  return c;
}

}  // namespace

Zone Zone::utc() {
  Zone zone;
  zone.name_ = "UTC";
  return zone;
}

long Zone::offset_at(long long unix_seconds) const {
  if (rule_ && (transitions_.empty() || unix_seconds >= transitions_.back().first)) {
    return rule_->daylight_offset && in_daylight_time(*rule_, unix_seconds)
               ? *rule_->daylight_offset
               : rule_->standard_offset;
  }
  const auto after =
      std::upper_bound(transitions_.begin(), transitions_.end(), unix_seconds,
                       [](long long t, const std::pair<long long, long>& transition) {
                         return t < transition.first;
                       });
  return after == transitions_.begin() ? initial_offset_ : std::prev(after)->second;
}

std::variant<PosixRule, std::string> parse_posix_rule(std::string_view text) {
  const std::string bad = "'" + std::string(text) + "' is not a POSIX time zone rule";
  Reader in{text};
  PosixRule rule;
  if (!in.name()) return bad;
  const auto standard = in.clock(24);
  if (!standard) return bad;
  rule.standard_offset = -*standard;  // POSIX counts west of Greenwich
  if (in.done()) return rule;
  if (!in.name()) return bad;
  rule.daylight_offset = rule.standard_offset + 3600;
  if (!in.done() && in.peek() != ',') {
    const auto daylight = in.clock(24);
    if (!daylight) return bad;
    rule.daylight_offset = -*daylight;
  }
  if (in.done()) {  // no dates: the United States' rule, as POSIX leaves it to the system
    rule.start = {RuleDay::Form::month_week_day, 3, 2, 0, 0, 7200};
    rule.end = {RuleDay::Form::month_week_day, 11, 1, 0, 0, 7200};
    return rule;
  }
  if (!in.take(',')) return bad;
  const auto start = in.rule_day();
  if (!start || !in.take(',')) return bad;
  const auto end = in.rule_day();
  if (!end || !in.done()) return bad;
  rule.start = *start;
  rule.end = *end;
  return rule;
}

std::variant<Zone, std::string> zone_from_rule(std::string_view name, std::string_view text) {
  auto rule = parse_posix_rule(text);
  if (auto* error = std::get_if<std::string>(&rule)) return std::move(*error);
  Zone zone;
  zone.name_ = std::string(name);
  zone.rule_ = std::get<PosixRule>(rule);
  zone.initial_offset_ = zone.rule_->standard_offset;
  return zone;
}

std::variant<Zone, std::string> zone_from_tzif(std::string_view name, std::string_view bytes) {
  const std::string bad = "the time zone file of " + std::string(name) + " is not a TZif file";
  auto counts = tzif_header(bytes, 0);
  if (!counts) return bad;
  std::size_t at = 44;
  int time_size = 4;
  if (bytes[4] >= '2') {  // skip the 32-bit data for the 64-bit block that follows
    at += counts->data_size(4);
    counts = tzif_header(bytes, at);
    if (!counts) return bad;
    at += 44;
    time_size = 8;
  }
  if (bytes.size() < at + counts->data_size(time_size)) return bad;
  const std::size_t types_at = at + static_cast<std::size_t>(counts->time * (time_size + 1));
  auto type_offset = [&](long long index) -> std::optional<long> {
    if (index < 0 || index >= counts->type) return std::nullopt;
    return static_cast<long>(read_be(bytes, types_at + static_cast<std::size_t>(index) * 6, 4));
  };
  Zone zone;
  zone.name_ = std::string(name);
  zone.initial_offset_ = *type_offset(0);
  for (long long i = 0; i < counts->time; ++i) {
    const long long when = read_be(bytes, at + static_cast<std::size_t>(i * time_size), time_size);
    const auto index = static_cast<unsigned char>(
        bytes[at + static_cast<std::size_t>(counts->time * time_size + i)]);
    const auto offset = type_offset(index);
    if (!offset) return bad;
    zone.transitions_.emplace_back(when, *offset);
  }
  if (time_size == 8) {  // the footer: "\n<POSIX rule>\n"
    const std::size_t footer = at + counts->data_size(8);
    if (footer < bytes.size() && bytes[footer] == '\n') {
      const auto close = bytes.find('\n', footer + 1);
      if (close != std::string_view::npos && close > footer + 1) {
        auto rule = parse_posix_rule(bytes.substr(footer + 1, close - footer - 1));
        if (auto* parsed = std::get_if<PosixRule>(&rule)) zone.rule_ = *parsed;
      }
    }
  }
  return zone;
}

std::variant<Zone, std::string> load_zone(std::string_view name, std::string_view zoneinfo_dir) {
  std::string path;
  std::string shown(name);
  if (name.empty()) {
    const char* tz = std::getenv("TZ");
    std::string_view from_env = tz ? tz : "";
    if (from_env.starts_with(':')) from_env.remove_prefix(1);
    if (!from_env.empty() && from_env.find('/') == std::string_view::npos &&
        std::isalpha(static_cast<unsigned char>(from_env[0])) &&
        std::any_of(from_env.begin(), from_env.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      return zone_from_rule(from_env, from_env);  // TZ=CET-1CEST,…
    }
    if (!from_env.empty()) return load_zone(from_env, zoneinfo_dir);
    std::ifstream local("/etc/localtime", std::ios::binary);
    if (!local) return Zone::utc();
    shown = "the system's time zone";
    path = "/etc/localtime";
  } else {
    if (name == "UTC" || name == "Etc/UTC") return Zone::utc();
    if (name.find("..") != std::string_view::npos || name.starts_with('/')) {
      return "cron.timezone '" + shown + "' is not a time zone name like Europe/Berlin";
    }
    path = std::string(zoneinfo_dir) + "/" + shown;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return "cron.timezone '" + shown + "' is not a known time zone (no " + path +
           "; names look like Europe/Berlin or America/New_York, and the tzdata package "
           "provides them)";
  }
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return zone_from_tzif(shown, bytes.str());
}

}  // namespace hermes::daemon::cron
