#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "cli/command_runner.hpp"
#include "cli/scope.hpp"
#include "cli/unit_state.hpp"

namespace hermes::cli {

// What the lifecycle verbs ask of the machine. The real one runs systemctl and kill(2);
// the restart flow's table tests script one.
class ServiceControl {
 public:
  virtual ~ServiceControl() = default;
  virtual UnitState show() = 0;
  virtual CommandResult systemctl(const std::vector<std::string>& args) = 0;
  virtual bool process_alive(int pid) = 0;  // kill(pid, 0) until ESRCH
  virtual bool send_signal(int pid, int signal) = 0;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep(std::chrono::milliseconds interval) = 0;
};

class SystemdServiceControl final : public ServiceControl {
 public:
  explicit SystemdServiceControl(Scope scope) : scope_(scope) {}
  UnitState show() override;
  CommandResult systemctl(const std::vector<std::string>& args) override;
  bool process_alive(int pid) override;
  bool send_signal(int pid, int signal) override;
  std::chrono::steady_clock::time_point now() override;
  void sleep(std::chrono::milliseconds interval) override;

 private:
  Scope scope_;
};

}  // namespace hermes::cli
