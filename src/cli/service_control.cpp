#include "cli/service_control.hpp"

#include <signal.h>

#include <cerrno>
#include <thread>

namespace hermes::cli {

UnitState SystemdServiceControl::show() {
  const auto result = systemctl({"show", "-p", kShowProperties, kUnitName});
  UnitState state = parse_unit_state(result.out);
  if (result.exit_code != 0 && state.load_state.empty()) {
    const auto first_line = result.err.substr(0, result.err.find('\n'));
    state.manager_error = first_line.empty()
                              ? "systemctl exited with status " + std::to_string(result.exit_code)
                              : first_line;
  }
  return state;
}

CommandResult SystemdServiceControl::systemctl(const std::vector<std::string>& args) {
  return run_command(systemctl_command(scope_, args));
}

bool SystemdServiceControl::process_alive(int pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

bool SystemdServiceControl::send_signal(int pid, int signal) {
  return ::kill(pid, signal) == 0;
}

std::chrono::steady_clock::time_point SystemdServiceControl::now() {
  return std::chrono::steady_clock::now();
}

void SystemdServiceControl::sleep(std::chrono::milliseconds interval) {
  std::this_thread::sleep_for(interval);
}

}  // namespace hermes::cli
