#pragma once

#include <map>
#include <string>
#include <string_view>

namespace hermes::cli {

// The properties of `systemctl show` the CLI decides on.
inline constexpr const char* kShowProperties =
    "LoadState,ActiveState,SubState,MainPID,NRestarts,StatusText,ExecMainStatus,"
    "ExecMainStartTimestampMonotonic,MemoryCurrent,FragmentPath,Result";

struct UnitState {
  std::string load_state;    // loaded | not-found | …
  std::string active_state;  // active | activating | deactivating | inactive | failed
  std::string sub_state;     // running | auto-restart | dead | …
  int main_pid = 0;
  long restarts = 0;
  std::string status_text;   // the daemon's STATUS=
  int exec_main_status = 0;  // exit status of the last main process
  unsigned long long started_monotonic_usec = 0;
  unsigned long long memory_bytes = 0;  // 0 when unknown
  std::string fragment_path;
  std::string result;
  // Set when systemctl could not answer at all (no service manager reachable): then nothing
  // above is known, and "not installed" would be a lie.
  std::string manager_error;

  bool reachable() const { return manager_error.empty(); }
  bool installed() const { return load_state != "not-found" && !load_state.empty(); }
  bool active() const { return active_state == "active"; }
  bool failed() const { return active_state == "failed"; }
};

// Parses `systemctl show -p …` output (Key=Value lines); unknown keys are ignored, values
// like "[not set]" read as 0.
UnitState parse_unit_state(std::string_view show_output);

// "3m 12s", "2h 5m", "4d 1h".
std::string format_duration(unsigned long long seconds);
// "9.1 MiB".
std::string format_bytes(unsigned long long bytes);

}  // namespace hermes::cli
