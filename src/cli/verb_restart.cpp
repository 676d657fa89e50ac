// `hermes gateway restart`: the two-phase restart of the contract.
#include <memory>

#include "cli/restart_flow.hpp"
#include "cli/verbs.hpp"

namespace hermes::cli {

namespace {

struct Options {
  bool system = false;
  int drain_timeout = 90;
  int start_timeout = 60;
};

}  // namespace

void setup_restart(CLI::App& gateway) {
  auto options = std::make_shared<Options>();
  auto* verb = gateway.add_subcommand(
      "restart",
      "Restart the gateway without losing work: SIGUSR1 makes it finish active runs and exit;\n"
      "systemd starts the new process, and this waits until it is serving (new PID, READY).\n"
      "Connections made meanwhile wait in the kernel and are answered by the new process.\n"
      "Example: hermes gateway restart --drain-timeout 120");
  add_scope_flag(*verb, options->system);
  verb->add_option("--drain-timeout", options->drain_timeout,
                   "Seconds to wait for the old process to finish its work and exit")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  verb->add_option("--start-timeout", options->start_timeout,
                   "Seconds to wait for the new process to become active")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  verb->callback([options] {
    RestartOptions restart;
    restart.scope = options->system ? Scope::system : Scope::user;
    restart.drain_timeout = std::chrono::seconds(options->drain_timeout);
    restart.start_timeout = std::chrono::seconds(options->start_timeout);
    SystemdServiceControl control(restart.scope);
    Output output = Output::for_stdout();
    throw CLI::RuntimeError(run_restart(restart, control, output));
  });
}

}  // namespace hermes::cli
