#pragma once

#include <chrono>

#include "cli/output.hpp"
#include "cli/scope.hpp"
#include "cli/service_control.hpp"

namespace hermes::cli {

struct RestartOptions {
  Scope scope = Scope::user;
  std::chrono::seconds drain_timeout{90};
  std::chrono::seconds start_timeout{60};
  std::chrono::milliseconds poll_interval{100};
};

// Prints how to install the unit and returns true when `state` says it is not installed
// (the verb then exits 4).
bool report_if_not_installed(const UnitState& state, Scope scope, Output& output);

// Where phase 2 stands after one look at the unit.
enum class StartVerdict { waiting, restarted, failed };
StartVerdict judge_restart(const UnitState& state, int old_pid);

// `hermes gateway restart`: SIGUSR1, wait for the old PID to die (phase 1), wait for systemd
// to report the unit active under a new PID (phase 2). Never says "restarted" before that is
// true; stops waiting at once when systemd reports the unit failed. Returns the exit code.
int run_restart(const RestartOptions& options, ServiceControl& control, Output& output);

// Waits for the unit to become active (a new PID when `old_pid` is set); shared by start.
// Returns the exit code after printing the outcome with `what` ("restart", "start").
int wait_until_active(const RestartOptions& options, ServiceControl& control, Output& output,
                      int old_pid, const std::string& what);

}  // namespace hermes::cli
