#include "cli/restart_flow.hpp"

#include <signal.h>

#include "cli/messages.hpp"
#include "common/exit_codes.hpp"

namespace hermes::cli {

namespace {

int fail_with_hints(Output& output, Scope scope, const std::string& headline) {
  output.line(headline);
  for (const auto& hint : where_to_look(scope)) output.line(hint);
  return kExitFailure;
}

}  // namespace

bool report_if_not_installed(const UnitState& state, Scope scope, Output& output) {
  if (!state.reachable()) {
    for (const auto& line : unreachable_manager_lines(scope, state.manager_error)) {
      output.line(line);
    }
    return true;
  }
  if (state.installed()) return false;
  for (const auto& line : not_installed_lines(scope)) output.line(line);
  return true;
}

StartVerdict judge_restart(const UnitState& state, int old_pid) {
  if (state.failed()) return StartVerdict::failed;
  if (state.active() && state.main_pid > 0 && state.main_pid != old_pid) {
    return StartVerdict::restarted;
  }
  return StartVerdict::waiting;
}

int wait_until_active(const RestartOptions& options, ServiceControl& control, Output& output,
                      int old_pid, const std::string& what) {
  const auto deadline = control.now() + options.start_timeout;
  while (true) {
    const UnitState state = control.show();
    switch (judge_restart(state, old_pid)) {
      case StartVerdict::restarted:
        output.line(what == "restart" ? restarted_line(options.scope, state.main_pid)
                                      : "✓ " + service_label(options.scope) + " " + what +
                                            "ed (PID " + std::to_string(state.main_pid) + ")");
        return kExitOk;
      case StartVerdict::failed:
        return fail_with_hints(output, options.scope,
                               failed_line(options.scope, what, state.exec_main_status));
      case StartVerdict::waiting:
        break;
    }
    if (control.now() >= deadline) {
      return fail_with_hints(output, options.scope,
                             not_active_within_line(options.scope, options.start_timeout));
    }
    control.sleep(options.poll_interval);
  }
}

int run_restart(const RestartOptions& options, ServiceControl& control, Output& output) {
  const UnitState before = control.show();
  if (report_if_not_installed(before, options.scope, output)) {
    return before.reachable() ? kExitNotInstalled : kExitFailure;
  }
  const int old_pid = before.main_pid;
  if (!before.active() || old_pid <= 0 || !control.send_signal(old_pid, SIGUSR1)) {
    // Nothing to drain: let systemd (re)start it; reload-or-restart blocks until done.
    output.progress("⏳ Starting " + service_label(options.scope) + " (it was not running)...");
    const auto result = control.systemctl({"reload-or-restart", kUnitName});
    if (result.exit_code != 0 && control.show().failed()) {
      return fail_with_hints(
          output, options.scope,
          failed_line(options.scope, "restart", control.show().exec_main_status));
    }
    return wait_until_active(options, control, output, 0, "restart");
  }

  // Phase 1: the old process drains its active work and exits.
  const auto drain_deadline = control.now() + options.drain_timeout;
  while (control.process_alive(old_pid)) {
    const std::string detail =
        output.tty() ? drain_progress_suffix(control.show().status_text) : std::string();
    output.progress(draining_line(options.scope), detail);
    if (control.now() >= drain_deadline) {
      return fail_with_hints(output, options.scope,
                             not_drained_within_line(options.scope, options.drain_timeout));
    }
    control.sleep(options.poll_interval);
  }
  output.progress(draining_line(options.scope));

  // Phase 2: systemd starts the new process; it is up once it reported READY=1.
  output.progress(waiting_line());
  return wait_until_active(options, control, output, old_pid, "restart");
}

}  // namespace hermes::cli
