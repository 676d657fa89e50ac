#pragma once

#include <optional>
#include <vector>

#include "daemon/cron/schedule.hpp"
#include "daemon/cron/zone.hpp"

// When a schedule fires, and what a scheduler does with the firings it finds due: pure
// functions over unix seconds, table-tested across DST changes, month ends and leap years.
namespace hermes::daemon::cron {

// A local wall-clock time (as unix seconds would count it in UTC) as an instant in `zone`:
// a time that occurs twice (the hour repeated when clocks go back) is its first occurrence; a
// time that does not exist (skipped when clocks go forward) is the first instant after the gap.
long long instant_of_local(long long local_seconds, const Zone& zone);

// The first firing strictly after `after`; none when the schedule will not fire again (a
// one-shot that has, a cron expression with no matching day in eight years). `created_at`
// anchors `30m` and `every 30m`. Cron firings are whole minutes of `zone`.
std::optional<long long> next_fire(const Schedule& schedule, long long created_at, long long after,
                                   const Zone& zone);

enum class CatchUp { once, skip };

// A parsed schedule with the test clock applied (HERMES_TEST_HOOKS=1 and
// HERMES_TEST_CRON_MINUTE_SECONDS=N: a minute of `every` and `30m` lasts N seconds).
std::variant<Schedule, std::string> parse_schedule_for_run(std::string_view text);

// What to do with a job whose next firing (`due`) is not in the future (`now`).
struct FiringPlan {
  std::vector<long long> runs;     // the scheduled times to run now (at most two)
  std::vector<long long> skipped;  // scheduled times recorded as skipped (oldest first)
  long long more_skipped = 0;      // at least this many more missed (not recorded one by one)
  std::optional<long long> next;   // the next firing after now; none: the job is finished
};

// Firings due since `running_since` (when this gateway started) were due while it ran: the
// newest runs. Older ones were missed while no gateway ran: with `once` the newest of them runs
// too, late; the rest (all of them with `skip`) are recorded as skipped. At most `max_listed`
// skipped times are listed.
FiringPlan plan_firings(const Schedule& schedule, long long created_at, long long due,
                        long long now, CatchUp catch_up, const Zone& zone, long long running_since,
                        std::size_t max_listed = 100);

}  // namespace hermes::daemon::cron
