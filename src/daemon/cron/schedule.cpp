#include "daemon/cron/schedule.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <vector>

#include "common/ascii_case.hpp"

namespace hermes::daemon::cron {

namespace {

constexpr std::string_view kForms =
    "use 30m, 2h or 1d (once, after that delay), every 30m, a cron expression like "
    "'0 8 * * 1-5', or a time like 2026-12-24T08:00";
constexpr long long kMaxMinutes = 366LL * 24 * 60;  // a year and a day

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A whole number (digits only, no sign) of at most 9 digits.
std::optional<int> number(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// `30m`, `2h`, `1d`: minutes, within a year and a day.
std::optional<std::chrono::minutes> duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  const auto count = number(text.substr(0, text.size() - 1));
  if (!count || *count <= 0) return std::nullopt;
  long long unit = 0;
  switch (std::tolower(static_cast<unsigned char>(text.back()))) {
    case 'm':
      unit = 1;
      break;
    case 'h':
      unit = 60;
      break;
    case 'd':
      unit = 24 * 60;
      break;
    default:
      return std::nullopt;
  }
  const long long minutes = *count * unit;
  if (minutes > kMaxMinutes) return std::nullopt;
  return std::chrono::minutes(minutes);
}

// One cron field: its name in messages, its range, and the names its values may have.
struct FieldSpec {
  const char* name;
  int low;
  int high;
  const std::array<const char*, 12>* names;  // names[i] is low + i (months) or i (weekdays)
  int name_base;
};

constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<const char*, 12> kWeekdayNames = {"sun", "mon", "tue", "wed", "thu", "fri",
                                                       "sat", "",    "",    "",    "",    ""};
constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day of month", 1, 31, nullptr, 0},
    {"month", 1, 12, &kMonthNames, 1},
    {"day of week", 0, 7, &kWeekdayNames, 0},
};

std::optional<int> field_value(std::string_view text, const FieldSpec& spec) {
  if (auto n = number(text)) return n;
  if (!spec.names || text.size() != 3) return std::nullopt;
  const auto name = lower(text);
  for (std::size_t i = 0; i < spec.names->size(); ++i) {
    if (name == (*spec.names)[i]) return spec.name_base + static_cast<int>(i);
  }
  return std::nullopt;
}

std::string field_error(const FieldSpec& spec, std::string_view item, const std::string& why) {
  return "the " + std::string(spec.name) + " field has '" + std::string(item) + "': " + why;
}

// Sets in `out` the values one item (`*`, `5`, `1-5`, `*/15`, `10-50/10`) stands for; an error
// sentence when it stands for none.
std::optional<std::string> add_item(std::string_view item, const FieldSpec& spec,
                                    std::vector<bool>& out) {
  const auto slash = item.find('/');
  const auto range = item.substr(0, slash);
  int step = 1;
  if (slash != std::string_view::npos) {
    const auto parsed = number(item.substr(slash + 1));
    if (!parsed || *parsed <= 0 || *parsed > spec.high - spec.low + 1) {
      return field_error(
          spec, item, "a step is a number from 1 to " + std::to_string(spec.high - spec.low + 1));
    }
    step = *parsed;
  }
  int first = spec.low;
  int last = spec.high;
  if (range != "*") {
    const auto dash = range.find('-');
    const auto a = field_value(range.substr(0, dash), spec);
    const auto b = dash == std::string_view::npos ? a : field_value(range.substr(dash + 1), spec);
    const std::string bounds = std::to_string(spec.low) + "-" + std::to_string(spec.high) +
                               (spec.names ? " or a name" : "");
    if (!a || !b) return field_error(spec, item, "values are " + bounds);
    if (*a < spec.low || *a > spec.high || *b < spec.low || *b > spec.high) {
      return field_error(spec, item, "values are " + bounds);
    }
    if (*a > *b) return field_error(spec, item, "a range goes from low to high");
    first = *a;
    // `5/15` is 5, 20, 35, 50 (to the end of the field), as cron reads it.
    last = dash == std::string_view::npos && slash != std::string_view::npos ? spec.high : *b;
  }
  for (int v = first; v <= last; v += step) out[static_cast<std::size_t>(v)] = true;
  return std::nullopt;
}

std::optional<std::string> parse_field(std::string_view text, const FieldSpec& spec,
                                       std::vector<bool>& out) {
  out.assign(static_cast<std::size_t>(spec.high) + 1, false);
  while (true) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    if (item.empty()) return field_error(spec, text, "an empty item in its list");
    if (auto error = add_item(item, spec, out)) return error;
    if (comma == std::string_view::npos) return std::nullopt;
    text.remove_prefix(comma + 1);
  }
}

template <std::size_t N>
void copy_bits(const std::vector<bool>& values, int low, std::bitset<N>& bits) {
  for (std::size_t v = static_cast<std::size_t>(low); v < values.size() && v < N; ++v) {
    bits[v] = values[v];
  }
}

std::optional<std::string_view> named_expression(std::string_view text) {
  static constexpr std::pair<std::string_view, std::string_view> kNamed[] = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  };
  const auto name = lower(text);
  for (const auto& [named, fields] : kNamed) {
    if (name == named) return fields;
  }
  return std::nullopt;
}

bool leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap(year) ? 29 : kDays[month - 1];
}

// Whether any chosen month has one of the chosen days (in a leap year: 29 February counts).
bool some_month_has_a_day(const CronFields& fields) {
  for (int month = 1; month <= 12; ++month) {
    if (!fields.months[static_cast<std::size_t>(month)]) continue;
    for (int day = 1; day <= days_in_month(2024, month); ++day) {
      if (fields.days[static_cast<std::size_t>(day)]) return true;
    }
  }
  return false;
}

// Digits at `text[at]`, exactly `count` of them.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  const auto part = text.substr(at, count);
  for (const char c : part) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return number(part);
}

// YYYY-MM-DD[T| ]HH:MM[:SS][Z|±HH:MM]
std::variant<LocalTime, std::string> iso_time(std::string_view text) {
  const std::string bad = "'" + std::string(text) +
                          "' is not a time: write it as 2026-12-24T08:00 (optionally with "
                          "seconds and Z or an offset like +01:00)";
  LocalTime t;
  const auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  const auto hour = digits(text, 11, 2), minute = digits(text, 14, 2);
  if (!year || !month || !day || !hour || !minute || text.size() < 16 || text[4] != '-' ||
      text[7] != '-' || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      text[13] != ':') {
    return bad;
  }
  std::size_t at = 16;
  if (at < text.size() && text[at] == ':') {
    const auto second = digits(text, at + 1, 2);
    if (!second) return bad;
    t.second = *second;
    at += 3;
  }
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    t.offset_minutes = 0;
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const auto oh = digits(text, at + 1, 2), om = digits(text, at + 4, 2);
    if (!oh || !om || at + 3 >= text.size() || text[at + 3] != ':' || *oh > 14 || *om > 59) {
      return bad;
    }
    t.offset_minutes = (text[at] == '-' ? -1 : 1) * (*oh * 60 + *om);
    at += 6;
  }
  if (at != text.size()) return bad;
  t.year = *year;
  t.month = *month;
  t.day = *day;
  t.hour = *hour;
  t.minute = *minute;
  if (t.year < 1970 || t.month < 1 || t.month > 12 || t.day < 1 ||
      t.day > days_in_month(t.year, t.month) || t.hour > 23 || t.minute > 59 || t.second > 59) {
    return "'" + std::string(text) + "' is not a date and time that exists";
  }
  return t;
}

}  // namespace

std::variant<CronFields, std::string> parse_cron(std::string_view text) {
  text = trim_space(text);
  if (text.starts_with('@')) {
    const auto fields = named_expression(text);
    if (!fields) {
      return "'" + std::string(text) +
             "' is not a cron name: @hourly, @daily, @weekly, @monthly or @yearly";
    }
    text = *fields;
  }
  std::vector<std::string_view> fields;
  while (!text.empty()) {
    std::size_t end = 0;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    fields.push_back(text.substr(0, end));
    text = trim_space(text.substr(end));
  }
  if (fields.size() != 5) {
    return "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this "
           "has " +
           std::to_string(fields.size());
  }
  CronFields out;
  std::vector<bool> values;
  for (std::size_t i = 0; i < 5; ++i) {
    if (auto error = parse_field(fields[i], kFields[i], values)) return *error;
    switch (i) {
      case 0:
        copy_bits(values, 0, out.minutes);
        break;
      case 1:
        copy_bits(values, 0, out.hours);
        break;
      case 2:
        copy_bits(values, 1, out.days);
        break;
      case 3:
        copy_bits(values, 1, out.months);
        break;
      default:
        if (values[7]) values[0] = true;  // 7 is Sunday too
        copy_bits(values, 0, out.weekdays);
    }
  }
  // As cron reads it: a day field beginning with `*` (even `*/2`) does not restrict the day.
  out.every_day = fields[2].starts_with('*');
  out.every_weekday = fields[4].starts_with('*');
  if (!out.every_day && out.every_weekday && !some_month_has_a_day(out)) {
    return "the expression never fires: none of its months has any of its days";
  }
  return out;
}

std::variant<Schedule, std::string> parse_schedule(std::string_view text) {
  text = trim_space(text);
  Schedule schedule;
  if (text.empty()) return "the schedule is empty: " + std::string(kForms);
  if (lower(text.substr(0, 6)) == "every ") {
    const auto interval = duration(trim_space(text.substr(6)));
    if (!interval) {
      return "'" + std::string(text) + "' needs an interval from 1m to 366d, like every 30m";
    }
    schedule.kind = Schedule::Kind::every;
    schedule.interval = *interval;
    return schedule;
  }
  if (const auto delay = duration(text)) {
    schedule.kind = Schedule::Kind::once_after;
    schedule.interval = *delay;
    return schedule;
  }
  if (digits(text, 0, 4) && text.size() > 4 && text[4] == '-') {
    auto at = iso_time(text);
    if (auto* error = std::get_if<std::string>(&at)) return std::move(*error);
    schedule.kind = Schedule::Kind::once_at;
    schedule.at = std::get<LocalTime>(at);
    return schedule;
  }
  if (text.find(' ') == std::string_view::npos && !text.starts_with('@')) {
    return "'" + std::string(text) + "' is not a schedule: " + std::string(kForms);
  }
  auto cron = parse_cron(text);
  if (auto* error = std::get_if<std::string>(&cron)) return std::move(*error);
  schedule.kind = Schedule::Kind::cron;
  schedule.cron = std::get<CronFields>(cron);
  return schedule;
}

}  // namespace hermes::daemon::cron
