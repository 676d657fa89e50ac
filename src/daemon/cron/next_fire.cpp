#include "daemon/cron/next_fire.hpp"

#include <algorithm>
#include <chrono>

#include "common/test_hooks.hpp"

namespace hermes::daemon::cron {

namespace {

using namespace std::chrono;

constexpr long long kDay = 86400;
constexpr long long kScanDays = 8 * 366;  // 29 February on a given weekday comes back within

long long floor_div(long long a, long long b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

bool day_matches(const CronFields& fields, const year_month_day& date) {
  if (!fields.months[static_cast<unsigned>(date.month())]) return false;
  const bool by_day = fields.days[static_cast<unsigned>(date.day())];
  const bool by_weekday = fields.weekdays[weekday(sys_days(date)).c_encoding()];
  if (fields.every_day && fields.every_weekday) return true;
  if (fields.every_day) return by_weekday;
  if (fields.every_weekday) return by_day;
  return by_day || by_weekday;  // both restricted: either, as cron has always read it
}

std::optional<long long> next_cron_fire(const CronFields& fields, long long after,
                                        const Zone& zone) {
  // Local times map to instants in order (a gap's times all land on its end, a repeated hour's
  // on their first occurrence), so the first candidate past `after` is the answer. Starting a
  // few hours early covers the local clock having been set back or forward around `after`.
  const long long local_start = after + zone.offset_at(after) - 3 * 3600;
  long long day = floor_div(local_start, kDay);
  const long long first_minute = floor_div(local_start - day * kDay, 60);
  for (long long scanned = 0; scanned < kScanDays; ++scanned, ++day) {
    const year_month_day date{sys_days(days(day))};
    if (!day_matches(fields, date)) continue;
    for (int hour = 0; hour < 24; ++hour) {
      if (!fields.hours[static_cast<std::size_t>(hour)]) continue;
      for (int minute = 0; minute < 60; ++minute) {
        if (!fields.minutes[static_cast<std::size_t>(minute)]) continue;
        if (scanned == 0 && hour * 60 + minute < first_minute) continue;
        const long long at = instant_of_local(day * kDay + hour * 3600 + minute * 60, zone);
        if (at > after) return at;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

long long instant_of_local(long long local, const Zone& zone) {
  // The offsets in force a day either side bound every offset the zone uses around `local`.
  const long before = zone.offset_at(local - kDay);
  const long later = zone.offset_at(local + kDay);
  std::optional<long long> best;
  for (const long offset : {before, later}) {
    const long long candidate = local - offset;
    if (zone.offset_at(candidate) == offset && (!best || candidate < *best)) best = candidate;
  }
  if (best) return *best;
  // In a gap: the first instant whose local time is past `local` is where the clocks jumped;
  // binary search between the two readings of `local`.
  long long low = local - std::max(before, later);
  long long high = local - std::min(before, later);
  while (low < high) {
    const long long middle = low + (high - low) / 2;
    if (middle + zone.offset_at(middle) > local) {
      high = middle;
    } else {
      low = middle + 1;
    }
  }
  return low;
}

std::optional<long long> next_fire(const Schedule& schedule, long long created_at, long long after,
                                   const Zone& zone) {
  const long long interval = schedule.interval.count() * schedule.minute_seconds;
  switch (schedule.kind) {
    case Schedule::Kind::once_after: {
      const long long at = created_at + interval;
      return at > after ? std::optional<long long>(at) : std::nullopt;
    }
    case Schedule::Kind::every: {
      if (interval <= 0) return std::nullopt;
      if (after < created_at) return created_at + interval;
      return created_at + (floor_div(after - created_at, interval) + 1) * interval;
    }
    case Schedule::Kind::once_at: {
      const LocalTime& t = schedule.at;
      const long long local = sys_days(year(t.year) / month(static_cast<unsigned>(t.month)) /
                                       std::chrono::day(static_cast<unsigned>(t.day)))
                                      .time_since_epoch()
                                      .count() *
                                  kDay +
                              t.hour * 3600LL + t.minute * 60LL + t.second;
      const long long at =
          t.offset_minutes ? local - *t.offset_minutes * 60LL : instant_of_local(local, zone);
      return at > after ? std::optional<long long>(at) : std::nullopt;
    }
    case Schedule::Kind::cron:
      break;
  }
  return next_cron_fire(schedule.cron, after, zone);
}

FiringPlan plan_firings(const Schedule& schedule, long long created_at, long long due,
                        long long now, CatchUp catch_up, const Zone& zone, long long running_since,
                        std::size_t max_listed) {
  FiringPlan plan;
  // Every firing from `due` to now, oldest first; only the newest few hundred are kept.
  std::vector<long long> firings;
  long long dropped = 0;
  long long walked = 0;
  for (std::optional<long long> at = due; at && *at <= now;
       at = next_fire(schedule, created_at, *at, zone)) {
    firings.push_back(*at);
    if (firings.size() > max_listed + 1) {
      firings.erase(firings.begin());
      ++dropped;
    }
    // Down for months with an every-minute job: jump to the last day instead of walking on.
    if (++walked > 10000 && now - *at > 2 * 86400) {
      const auto near = next_fire(schedule, created_at, now - 86400, zone);
      if (near && *near > *at) {
        const long long interval = schedule.interval.count() * schedule.minute_seconds;
        const bool counted = schedule.kind == Schedule::Kind::every && interval > 0;
        dropped +=
            static_cast<long long>(firings.size()) + (counted ? (*near - *at) / interval - 1 : 0);
        firings.assign(1, *near);
        at = *near;
      }
    }
  }
  plan.next = next_fire(schedule, created_at, now, zone);
  if (firings.empty()) return plan;
  // Due while a gateway ran: the newest runs (older ones found with it were crowded out).
  if (firings.back() >= running_since) {
    plan.runs.push_back(firings.back());
    firings.pop_back();
  }
  // Due while none ran: with `once` the newest of those runs too, late.
  const auto missed_end = std::lower_bound(firings.begin(), firings.end(), running_since);
  if (catch_up == CatchUp::once && missed_end != firings.begin()) {
    plan.runs.insert(plan.runs.begin(), *std::prev(missed_end));
    firings.erase(std::prev(missed_end));
  }
  plan.skipped = std::move(firings);
  if (plan.skipped.size() > max_listed) {
    dropped += static_cast<long long>(plan.skipped.size() - max_listed);
    plan.skipped.erase(plan.skipped.begin(),
                       plan.skipped.end() - static_cast<std::ptrdiff_t>(max_listed));
  }
  plan.more_skipped = dropped;
  return plan;
}

std::variant<Schedule, std::string> parse_schedule_for_run(std::string_view text) {
  auto parsed = parse_schedule(text);
  if (auto* schedule = std::get_if<Schedule>(&parsed)) {
    if (auto minute = test_hook_millis("HERMES_TEST_CRON_MINUTE_SECONDS", 1, 60)) {
      schedule->minute_seconds = minute->count();  // the hook's number, read as seconds
    }
  }
  return parsed;
}

}  // namespace hermes::daemon::cron
