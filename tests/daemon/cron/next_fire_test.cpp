#include "daemon/cron/next_fire.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace hermes::daemon::cron {
namespace {

// Unix seconds of a UTC date and time.
long long utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  using namespace std::chrono;
  return sys_days(year(y) / month(mo) / day(d)).time_since_epoch().count() * 86400LL + h * 3600LL +
         mi * 60LL;
}

Zone rule_zone(const char* rule) {
  auto zone = zone_from_rule(rule, rule);
  EXPECT_TRUE(std::holds_alternative<Zone>(zone)) << std::get<std::string>(zone);
  return std::get<Zone>(zone);
}

Schedule schedule(const char* text) {
  auto parsed = parse_schedule(text);
  EXPECT_TRUE(std::holds_alternative<Schedule>(parsed)) << text;
  return std::get<Schedule>(parsed);
}

const char* const kBerlin = "CET-1CEST,M3.5.0,M10.5.0/3";
const char* const kNewYork = "EST5EDT,M3.2.0,M11.1.0";

struct NextRow {
  const char* zone;
  const char* schedule;
  long long after;
  std::optional<long long> expected;
  const char* why;
};

TEST(NextFire, CronTable) {
  const NextRow rows[] = {
      {"UTC0", "0 8 * * 1-5", utc(2026, 12, 4, 9), utc(2026, 12, 7, 8), "Friday after 8: Monday"},
      {"UTC0", "0 0 31 * *", utc(2026, 4, 15), utc(2026, 5, 31), "April has no 31st"},
      {"UTC0", "0 12 29 2 *", utc(2026, 3, 1), utc(2028, 2, 29, 12), "the next leap year"},
      {"UTC0", "59 23 31 12 *", utc(2026, 12, 31, 23, 59), utc(2027, 12, 31, 23, 59),
       "strictly after: a year later"},
      {"UTC0", "*/20 * * * *", utc(2026, 1, 1, 10, 5), utc(2026, 1, 1, 10, 20), "a step"},
      {"UTC0", "0 0 1 * 1", utc(2026, 6, 1, 0, 0), utc(2026, 6, 8), "both days: either matches"},
      {kBerlin, "30 2 * * *", utc(2026, 3, 28, 12), utc(2026, 3, 29, 1),
       "02:30 does not exist on 29 March: 03:00 CEST, the next valid minute"},
      {kBerlin, "30 2 * * *", utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30),
       "the day after the gap: 02:30 CEST"},
      {kBerlin, "*/15 2 * * *", utc(2026, 3, 29, 1), utc(2026, 3, 30, 0),
       "a gap's four times fire once"},
      {kBerlin, "30 2 * * *", utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30),
       "02:30 occurs twice on 25 October: the first, CEST"},
      {kBerlin, "30 2 * * *", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30),
       "and not the second: next is 26 October, CET"},
      {kBerlin, "0 * * * *", utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 2, 0),
       "hourly through the repeated hour: 02:00 CET comes once, after the second 02:00"},
      {kNewYork, "30 2 * * *", utc(2026, 3, 8, 0), utc(2026, 3, 8, 7),
       "New York's gap: 02:30 runs at 03:00 EDT"},
      {kNewYork, "30 1 * * *", utc(2026, 11, 1, 0), utc(2026, 11, 1, 5, 30),
       "New York's repeated 01:30: the first, EDT"},
      {kNewYork, "30 1 * * *", utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30),
       "then the next day, EST"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(next_fire(schedule(row.schedule), 0, row.after, rule_zone(row.zone)), row.expected)
        << row.why;
  }
}

TEST(NextFire, IntervalsAndOneShots) {
  const Zone zone = Zone::utc();
  const long long created = utc(2026, 12, 6, 10);
  EXPECT_EQ(next_fire(schedule("every 30m"), created, created, zone), created + 1800);
  EXPECT_EQ(next_fire(schedule("every 30m"), created, created + 1799, zone), created + 1800);
  EXPECT_EQ(next_fire(schedule("every 30m"), created, created + 1800, zone), created + 3600);
  EXPECT_EQ(next_fire(schedule("30m"), created, created, zone), created + 1800);
  EXPECT_EQ(next_fire(schedule("30m"), created, created + 1800, zone), std::nullopt);
  EXPECT_EQ(next_fire(schedule("2026-12-24T08:00+01:00"), created, created, zone),
            utc(2026, 12, 24, 7));
  EXPECT_EQ(next_fire(schedule("2026-12-24T08:00"), created, created, rule_zone(kBerlin)),
            utc(2026, 12, 24, 7));
  EXPECT_EQ(next_fire(schedule("2027-03-28T02:30"), created, created, rule_zone(kBerlin)),
            utc(2027, 3, 28, 1))
      << "a one-shot in the gap runs when the clocks have jumped";
  EXPECT_EQ(next_fire(schedule("2026-12-01T08:00Z"), created, created, zone), std::nullopt)
      << "a one-shot in the past never fires";
}

TEST(NextFire, ACronExpressionThatNeverFiresIsRefused) {
  const auto parsed = parse_cron("0 0 30 2 *");
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_NE(std::get<std::string>(parsed).find("never fires"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<CronFields>(parse_cron("0 0 29 2 *")));
  EXPECT_TRUE(std::holds_alternative<CronFields>(parse_cron("0 0 30 2 1")))
      << "with a weekday too, Mondays in February fire";
}

TEST(NextFire, MissedFiringsRunOnceOrAreSkipped) {
  const Zone zone = Zone::utc();
  const long long created = utc(2026, 12, 6, 10);
  const Schedule every10 = schedule("every 10m");
  // Due at +10, +20, +30, +40; the gateway came back at +42: all four were missed.
  const long long now = created + 45 * 60, back = created + 42 * 60;
  const auto once = plan_firings(every10, created, created + 600, now, CatchUp::once, zone, back);
  EXPECT_EQ(once.runs, (std::vector<long long>{created + 2400}));
  EXPECT_EQ(once.skipped, (std::vector<long long>{created + 600, created + 1200, created + 1800}));
  EXPECT_EQ(once.next, created + 3000);
  const auto skip = plan_firings(every10, created, created + 600, now, CatchUp::skip, zone, back);
  EXPECT_TRUE(skip.runs.empty());
  EXPECT_EQ(skip.skipped.size(), 4u);
  EXPECT_EQ(skip.next, created + 3000);
  // Back at +35: +40 was due while it ran (runs, late only by the scheduler); with `once` the
  // newest missed one (+30) runs too.
  const long long earlier = created + 35 * 60;
  const auto both =
      plan_firings(every10, created, created + 600, now, CatchUp::once, zone, earlier);
  EXPECT_EQ(both.runs, (std::vector<long long>{created + 1800, created + 2400}));
  EXPECT_EQ(both.skipped, (std::vector<long long>{created + 600, created + 1200}));
  const auto on_time =
      plan_firings(every10, created, created + 600, created + 605, CatchUp::skip, zone, created);
  EXPECT_EQ(on_time.runs, (std::vector<long long>{created + 600}))
      << "due while the gateway ran: 5 s late is the scheduler, not downtime";
  EXPECT_TRUE(on_time.skipped.empty());
  const auto one_shot = plan_firings(schedule("30m"), created, created + 1800, created + 1801,
                                     CatchUp::once, zone, created);
  EXPECT_EQ(one_shot.runs, (std::vector<long long>{created + 1800}));
  EXPECT_EQ(one_shot.next, std::nullopt) << "a one-shot is finished once run";
}

TEST(NextFire, AYearDownWithAnEveryMinuteJobIsPlannedQuickly) {
  const Zone zone = Zone::utc();
  const long long created = utc(2025, 1, 1);
  const long long now = utc(2026, 1, 1, 0, 0) + 30;
  const auto plan = plan_firings(schedule("every 1m"), created, created + 60, now, CatchUp::once,
                                 zone, now - 5, 100);
  EXPECT_EQ(plan.runs, (std::vector<long long>{utc(2026, 1, 1)}));
  EXPECT_EQ(plan.skipped.size(), 100u);
  EXPECT_EQ(static_cast<long long>(plan.skipped.size()) + plan.more_skipped + 1, 365LL * 24 * 60)
      << "every missed minute counted";
  EXPECT_EQ(plan.next, utc(2026, 1, 1, 0, 1));
}

TEST(Zone, PosixRulesAndTheirMistakes) {
  const Zone berlin = rule_zone(kBerlin);
  EXPECT_EQ(berlin.offset_at(utc(2026, 1, 15)), 3600);
  EXPECT_EQ(berlin.offset_at(utc(2026, 7, 15)), 7200);
  EXPECT_EQ(berlin.offset_at(utc(2026, 3, 29, 0, 59)), 3600);
  EXPECT_EQ(berlin.offset_at(utc(2026, 3, 29, 1, 0)), 7200);
  EXPECT_EQ(berlin.offset_at(utc(2026, 10, 25, 0, 59)), 7200);
  EXPECT_EQ(berlin.offset_at(utc(2026, 10, 25, 1, 0)), 3600);
  const Zone sydney = rule_zone("AEST-10AEDT,M10.1.0,M4.1.0/3");
  EXPECT_EQ(sydney.offset_at(utc(2026, 1, 15)), 11 * 3600) << "southern summer";
  EXPECT_EQ(sydney.offset_at(utc(2026, 7, 15)), 10 * 3600);
  EXPECT_EQ(rule_zone("<+0530>-5:30").offset_at(utc(2026, 7, 15)), 5 * 3600 + 1800);
  for (const char* bad : {"", "CET", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0", "C-1"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_posix_rule(bad))) << bad;
  }
}

TEST(Zone, LoadsTheSystemsZoneFiles) {
  // tzdata is installed by scripts/setup.sh.
  auto loaded = load_zone("Europe/Berlin");
  ASSERT_TRUE(std::holds_alternative<Zone>(loaded)) << std::get<std::string>(loaded);
  const Zone& berlin = std::get<Zone>(loaded);
  EXPECT_EQ(berlin.offset_at(utc(1990, 7, 1)), 7200);
  EXPECT_EQ(berlin.offset_at(utc(2026, 1, 15)), 3600);
  EXPECT_EQ(berlin.offset_at(utc(2040, 7, 1)), 7200) << "past the file's transitions: its rule";
  EXPECT_EQ(berlin.offset_at(utc(2040, 1, 1)), 3600);
  auto unknown = load_zone("Mars/Olympus_Mons");
  ASSERT_TRUE(std::holds_alternative<std::string>(unknown));
  EXPECT_NE(std::get<std::string>(unknown).find("Europe/Berlin"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<std::string>(load_zone("../../etc/passwd")));
  EXPECT_TRUE(
      std::holds_alternative<std::string>(zone_from_tzif("x", std::string_view("TZif2\0\0\0", 8))));
}

}  // namespace
}  // namespace hermes::daemon::cron
