#include "daemon/cron/schedule.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hermes::daemon::cron {
namespace {

using std::chrono::minutes;

std::string error_of(std::string_view text) {
  const auto parsed = parse_schedule(text);
  const auto* error = std::get_if<std::string>(&parsed);
  return error ? *error : std::string();
}

template <std::size_t N>
std::vector<int> set_of(const std::bitset<N>& bits) {
  std::vector<int> out;
  for (std::size_t i = 0; i < N; ++i) {
    if (bits[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

TEST(CronSchedule, DelaysAndIntervalsInHermesForms) {
  struct Row {
    std::string text;
    Schedule::Kind kind;
    minutes interval;
  };
  const Row rows[] = {
      {"30m", Schedule::Kind::once_after, minutes(30)},
      {"2h", Schedule::Kind::once_after, minutes(120)},
      {" 1d ", Schedule::Kind::once_after, minutes(1440)},
      {"every 30m", Schedule::Kind::every, minutes(30)},
      {"Every 2H", Schedule::Kind::every, minutes(120)},
      {"366d", Schedule::Kind::once_after, minutes(366 * 1440)},
  };
  for (const auto& row : rows) {
    const auto parsed = parse_schedule(row.text);
    ASSERT_TRUE(std::holds_alternative<Schedule>(parsed)) << row.text << ": " << error_of(row.text);
    EXPECT_EQ(std::get<Schedule>(parsed).kind, row.kind) << row.text;
    EXPECT_EQ(std::get<Schedule>(parsed).interval, row.interval) << row.text;
  }
}

TEST(CronSchedule, CronFieldsListsRangesStepsAndNames) {
  const auto parsed = parse_cron("*/15 8-18/2 1,15,31 JAN-mar,dec mon-fri");
  ASSERT_TRUE(std::holds_alternative<CronFields>(parsed)) << std::get<std::string>(parsed);
  const auto& f = std::get<CronFields>(parsed);
  EXPECT_EQ(set_of(f.minutes), (std::vector<int>{0, 15, 30, 45}));
  EXPECT_EQ(set_of(f.hours), (std::vector<int>{8, 10, 12, 14, 16, 18}));
  EXPECT_EQ(set_of(f.days), (std::vector<int>{1, 15, 31}));
  EXPECT_EQ(set_of(f.months), (std::vector<int>{1, 2, 3, 12}));
  EXPECT_EQ(set_of(f.weekdays), (std::vector<int>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(f.every_day);
  EXPECT_FALSE(f.every_weekday);

  const auto sunday = std::get<CronFields>(parse_cron("0 0 * * 7"));
  EXPECT_EQ(set_of(sunday.weekdays), (std::vector<int>{0})) << "7 is Sunday";
  EXPECT_TRUE(sunday.every_day);
  const auto stepped = std::get<CronFields>(parse_cron("5/20 * */2 * *"));
  EXPECT_EQ(set_of(stepped.minutes), (std::vector<int>{5, 25, 45})) << "a/n runs to the end";
  EXPECT_TRUE(stepped.every_day) << "a day field beginning with * does not restrict the day";
  const auto hourly = std::get<CronFields>(parse_cron("@hourly"));
  EXPECT_EQ(set_of(hourly.minutes), (std::vector<int>{0}));
  EXPECT_EQ(hourly.hours.count(), 24u);
  EXPECT_EQ(std::get<Schedule>(parse_schedule("0 8 * * 1-5")).kind, Schedule::Kind::cron);
  EXPECT_EQ(std::get<Schedule>(parse_schedule("@daily")).kind, Schedule::Kind::cron);
}

TEST(CronSchedule, IsoTimesWithAndWithoutAnOffset) {
  const auto local = std::get<Schedule>(parse_schedule("2026-12-24T08:00"));
  EXPECT_EQ(local.kind, Schedule::Kind::once_at);
  EXPECT_EQ(local.at.year, 2026);
  EXPECT_EQ(local.at.day, 24);
  EXPECT_EQ(local.at.hour, 8);
  EXPECT_FALSE(local.at.offset_minutes.has_value()) << "in cron.timezone";
  EXPECT_EQ(std::get<Schedule>(parse_schedule("2026-12-24 08:00:30Z")).at.offset_minutes, 0);
  EXPECT_EQ(std::get<Schedule>(parse_schedule("2026-12-24T08:00+05:30")).at.offset_minutes, 330);
  EXPECT_EQ(std::get<Schedule>(parse_schedule("2026-12-24T08:00-03:00")).at.offset_minutes, -180);
  EXPECT_EQ(std::get<Schedule>(parse_schedule("2028-02-29T00:00")).at.day, 29) << "a leap day";
}

TEST(CronSchedule, EveryMistakeGetsASentenceThatSaysWhatIsWrong) {
  struct Row {
    std::string text;
    std::string says;
  };
  const Row rows[] = {
      {"", "the schedule is empty"},
      {"soon", "'soon' is not a schedule: use 30m, 2h or 1d"},
      {"0m", "'0m' is not a schedule"},
      {"367d", "'367d' is not a schedule"},
      {"every", "'every' is not a schedule"},
      {"every 0m", "needs an interval from 1m to 366d"},
      {"every day", "needs an interval"},
      {"0 8 * *",
       "a cron expression has 5 fields (minute hour day-of-month month "
       "day-of-week), this has 4"},
      {"60 * * * *", "the minute field has '60': values are 0-59"},
      {"* 24 * * *", "the hour field has '24': values are 0-23"},
      {"* * 0 * *", "the day of month field has '0': values are 1-31"},
      {"* * * 13 *", "the month field has '13': values are 1-12 or a name"},
      {"* * * * 8", "the day of week field has '8': values are 0-7 or a name"},
      {"* * * * funday", "the day of week field has 'funday'"},
      {"5-1 * * * *", "a range goes from low to high"},
      {"*/0 * * * *", "a step is a number from 1 to 60"},
      {"1,,2 * * * *", "an empty item in its list"},
      {"-5 * * * *", "values are 0-59"},
      {"@often", "'@often' is not a cron name"},
      {"2026-02-29T08:00", "'2026-02-29T08:00' is not a date and time that exists"},
      {"2026-12-24T25:00", "is not a date and time that exists"},
      {"2026-12-24", "is not a time: write it as 2026-12-24T08:00"},
      {"2026-12-24T08:00+15:00", "is not a time"},
      {"2026-12-24T08:00 tomorrow", "is not a time"},
  };
  for (const auto& row : rows) {
    const auto error = error_of(row.text);
    EXPECT_NE(error.find(row.says), std::string::npos) << "'" << row.text << "': " << error;
  }
}

}  // namespace
}  // namespace hermes::daemon::cron
