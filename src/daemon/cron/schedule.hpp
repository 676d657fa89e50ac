#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

// A scheduled job's schedule as written (`hermes cron add SCHEDULE …`, `/cron add`, the cronjob
// tool): pure parsing, table-tested and fuzzed. When it fires next is another step.
namespace hermes::daemon::cron {

// A 5-field cron expression: minute hour day-of-month month day-of-week, each `*`, a number, a
// range `a-b`, a step `*/n` or `a-b/n`, or a list of those; months and weekdays also by
// English name (JAN, MON), Sunday as 0 or 7. With both days restricted, a day matching either
// one fires (as cron has always done).
struct CronFields {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;       // 1..31
  std::bitset<13> months;     // 1..12
  std::bitset<7> weekdays;    // 0 = Sunday
  bool every_day = true;      // the day-of-month field was `*`
  bool every_weekday = true;  // the day-of-week field was `*`
};

// An ISO 8601 date and time, in the cron time zone unless it names an offset.
struct LocalTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::optional<int> offset_minutes;  // `Z` is 0, `+01:00` is 60
};

struct Schedule {
  enum class Kind {
    once_after,  // `30m`, `2h`, `1d`: once, that long after it was added
    every,       // `every 30m`: again and again, that far apart
    cron,        // a cron expression (or @hourly, @daily, @weekly, @monthly, @yearly)
    once_at,     // an ISO 8601 time: once, then
  };
  Kind kind = Kind::once_after;
  std::chrono::minutes interval{0};  // once_after, every
  // Seconds a minute of `interval` lasts: 60, but for tests (HERMES_TEST_CRON_MINUTE_SECONDS)
  // that watch an `every 1m` job fire several times in a few seconds.
  long long minute_seconds = 60;
  CronFields cron;  // cron
  LocalTime at;     // once_at
};

// The schedule, or one sentence saying what is wrong with it and what forms there are.
std::variant<Schedule, std::string> parse_schedule(std::string_view text);

// The cron fields alone (five fields or an @ name), or what is wrong with them.
std::variant<CronFields, std::string> parse_cron(std::string_view text);

}  // namespace hermes::daemon::cron
