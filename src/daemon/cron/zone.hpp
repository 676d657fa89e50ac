#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// The time zone cron expressions are read in (cron.timezone): the offset from UTC at any
// instant, from the zone's TZif file (/usr/share/zoneinfo) and, past its last transition, its
// POSIX rule ("CET-1CEST,M3.5.0,M10.5.0/3"). GCC 12 has no std::chrono::tzdb, and the process's
// TZ must stay the logs' own.
namespace hermes::daemon::cron {

// One end of daylight saving time in a POSIX rule: `Mm.w.d` (day d of week w of month m, week
// 5 the last), `Jn` (day n of 365, no 29 February) or `n` (day n from 0, leap days counted),
// at `seconds` of local time.
struct RuleDay {
  enum class Form { month_week_day, julian_no_leap, zero_based } form = Form::month_week_day;
  int month = 0, week = 0, weekday = 0, day = 0;
  long seconds = 7200;
};

struct PosixRule {
  long standard_offset = 0;             // seconds east of UTC
  std::optional<long> daylight_offset;  // none: no daylight saving time
  RuleDay start, end;
};

class Zone {
 public:
  static Zone utc();
  // Seconds east of UTC at `unix_seconds`.
  long offset_at(long long unix_seconds) const;
  const std::string& name() const { return name_; }

  std::string name_;
  long initial_offset_ = 0;                              // before the first transition
  std::vector<std::pair<long long, long>> transitions_;  // from this instant, this offset
  std::optional<PosixRule> rule_;                        // after the last transition
};

// "CET-1CEST,M3.5.0,M10.5.0/3", or what is wrong with it.
std::variant<PosixRule, std::string> parse_posix_rule(std::string_view text);
std::variant<Zone, std::string> zone_from_rule(std::string_view name, std::string_view rule);
// A TZif file's bytes (version 2 or later, or 1), or what is wrong with them.
std::variant<Zone, std::string> zone_from_tzif(std::string_view name, std::string_view bytes);
// A zone by IANA name ("Europe/Berlin") from `zoneinfo_dir`; "" is the system's zone (TZ, else
// /etc/localtime, else UTC). An error names the zone and says where it was looked for.
std::variant<Zone, std::string> load_zone(std::string_view name,
                                          std::string_view zoneinfo_dir = "/usr/share/zoneinfo");

}  // namespace hermes::daemon::cron
