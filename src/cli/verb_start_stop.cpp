// `hermes gateway start` and `hermes gateway stop`: blocking, with progress and clear results.
#include <memory>

#include "cli/messages.hpp"
#include "cli/restart_flow.hpp"
#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"

namespace hermes::cli {

void add_scope_flag(CLI::App& verb, bool& system) {
  verb.add_flag("--system", system,
                "Use the system manager (/etc/systemd/system) instead of the user manager");
}

namespace {

struct StartStopOptions {
  bool system = false;
  int timeout = 60;
};

int run_start(const StartStopOptions& options) {
  Output output = Output::for_stdout();
  const Scope scope = options.system ? Scope::system : Scope::user;
  SystemdServiceControl control(scope);
  const UnitState state = control.show();
  if (report_if_not_installed(state, scope, output)) {
    return state.reachable() ? kExitNotInstalled : kExitFailure;
  }
  if (state.active()) {
    output.line("✓ " + service_label(scope) + " already running (PID " +
                std::to_string(state.main_pid) + ")");
    return kExitOk;
  }
  output.progress("⏳ Starting " + service_label(scope) + "...");
  // For Type=notify, `systemctl start` returns once READY=1 arrived (or the start failed).
  control.systemctl({"start", kUnitName});
  RestartOptions wait{scope, std::chrono::seconds(0), std::chrono::seconds(options.timeout)};
  return wait_until_active(wait, control, output, 0, "start");
}

int run_stop(const StartStopOptions& options) {
  Output output = Output::for_stdout();
  const Scope scope = options.system ? Scope::system : Scope::user;
  SystemdServiceControl control(scope);
  const UnitState state = control.show();
  if (report_if_not_installed(state, scope, output)) {
    return state.reachable() ? kExitNotInstalled : kExitFailure;
  }
  if (!state.active() && state.active_state != "activating") {
    output.line("✓ " + service_label(scope) + " is not running");
    return kExitOk;
  }
  output.progress("⏳ Stopping " + service_label(scope) + " (draining active work)...");
  const auto result = control.systemctl({"stop", kUnitName});
  const UnitState after = control.show();
  if (result.exit_code != 0 || after.active()) {
    output.line("⚠ " + service_label(scope) + " did not stop cleanly.");
    for (const auto& hint : where_to_look(scope)) output.line(hint);
    return kExitFailure;
  }
  output.line("✓ " + service_label(scope) + " stopped");
  return kExitOk;
}

}  // namespace

void setup_start(CLI::App& gateway) {
  auto options = std::make_shared<StartStopOptions>();
  auto* verb = gateway.add_subcommand(
      "start",
      "Start the installed gateway unit and wait until it is serving (READY).\n"
      "Example: hermes gateway start");
  add_scope_flag(*verb, options->system);
  verb->add_option("--timeout", options->timeout, "Seconds to wait for the unit to become active")
      ->capture_default_str();
  verb->callback([options] { throw CLI::RuntimeError(run_start(*options)); });
}

void setup_stop(CLI::App& gateway) {
  auto options = std::make_shared<StartStopOptions>();
  auto* verb = gateway.add_subcommand(
      "stop",
      "Stop the gateway: it finishes active runs (agent.stop_drain_timeout), then exits.\n"
      "Example: hermes gateway stop");
  add_scope_flag(*verb, options->system);
  verb->callback([options] { throw CLI::RuntimeError(run_stop(*options)); });
}

}  // namespace hermes::cli
