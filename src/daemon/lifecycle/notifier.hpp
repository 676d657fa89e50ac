#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace hermes::daemon {

// sd_notify(3) messages to the service manager. Every call is a no-op without NOTIFY_SOCKET,
// so the daemon runs the same in a terminal.
class SystemdNotifier {
 public:
  bool enabled() const;

  void ready(std::string_view status);
  void status(std::string_view status);
  void stopping(std::string_view status);
  void reloading();  // RELOADING=1 with MONOTONIC_USEC, as systemd 253+ expects
  void watchdog();

  // Keeps a listening socket in the manager's fd store under `name`, so it outlives us.
  void store_fd(int fd, std::string_view name);
  void remove_fd(std::string_view name);

  // Half the interval systemd expects pings at, or nothing when the watchdog is off.
  static std::optional<std::chrono::microseconds> watchdog_ping_interval();

 private:
  void send(const std::string& message);
  std::string last_status_;
};

}  // namespace hermes::daemon
