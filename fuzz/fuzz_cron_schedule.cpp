// A schedule as a user or a model writes it (hermes cron add, /cron add, the cronjob tool):
// parsed without an exception into a schedule that can fire, or a sentence saying why not.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/cron/schedule.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hermes::daemon::cron;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_schedule(text);
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    if (error->empty()) __builtin_trap();  // a refusal always says why
    return 0;
  }
  const auto& schedule = std::get<Schedule>(parsed);
  switch (schedule.kind) {
    case Schedule::Kind::once_after:
    case Schedule::Kind::every:
      if (schedule.interval.count() < 1 || schedule.interval.count() > 366 * 24 * 60) {
        __builtin_trap();
      }
      break;
    case Schedule::Kind::cron:
      // A parsed expression fires at some minute of some hour in some month.
      if (schedule.cron.minutes.none() || schedule.cron.hours.none() ||
          schedule.cron.months.none() || schedule.cron.days.none() ||
          schedule.cron.weekdays.none()) {
        __builtin_trap();
      }
      if (schedule.cron.days[0] || schedule.cron.months[0]) __builtin_trap();
      break;
    case Schedule::Kind::once_at:
      if (schedule.at.month < 1 || schedule.at.month > 12 || schedule.at.day < 1 ||
          schedule.at.day > 31 || schedule.at.hour > 23 || schedule.at.minute > 59) {
        __builtin_trap();
      }
      break;
  }
  return 0;
}
