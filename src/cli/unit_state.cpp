#include "cli/unit_state.hpp"

#include <charconv>
#include <cstdio>

namespace hermes::cli {

namespace {

template <typename Int>
Int number(std::string_view value) {
  Int out = 0;
  std::from_chars(value.data(), value.data() + value.size(), out);  // "[not set]" stays 0
  return out;
}

}  // namespace

UnitState parse_unit_state(std::string_view text) {
  UnitState state;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const auto line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const auto key = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (key == "LoadState")
      state.load_state = value;
    else if (key == "ActiveState")
      state.active_state = value;
    else if (key == "SubState")
      state.sub_state = value;
    else if (key == "MainPID")
      state.main_pid = number<int>(value);
    else if (key == "NRestarts")
      state.restarts = number<long>(value);
    else if (key == "StatusText")
      state.status_text = value;
    else if (key == "ExecMainStatus")
      state.exec_main_status = number<int>(value);
    else if (key == "ExecMainStartTimestampMonotonic")
      state.started_monotonic_usec = number<unsigned long long>(value);
    else if (key == "MemoryCurrent")
      state.memory_bytes = number<unsigned long long>(value);
    else if (key == "FragmentPath")
      state.fragment_path = value;
    else if (key == "Result")
      state.result = value;
  }
  return state;
}

std::string format_duration(unsigned long long seconds) {
  const auto days = seconds / 86400, hours = seconds % 86400 / 3600, minutes = seconds % 3600 / 60,
             secs = seconds % 60;
  if (days > 0) return std::to_string(days) + "d " + std::to_string(hours) + "h";
  if (hours > 0) return std::to_string(hours) + "h " + std::to_string(minutes) + "m";
  if (minutes > 0) return std::to_string(minutes) + "m " + std::to_string(secs) + "s";
  return std::to_string(secs) + "s";
}

std::string format_bytes(unsigned long long bytes) {
  char buffer[32];
  if (bytes >= 1024ULL * 1024 * 1024) {
    std::snprintf(buffer, sizeof(buffer), "%.1f GiB",
                  static_cast<double>(bytes) / (1024.0 * 1024 * 1024));
  } else if (bytes >= 1024ULL * 1024) {
    std::snprintf(buffer, sizeof(buffer), "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  }
  return buffer;
}

}  // namespace hermes::cli
