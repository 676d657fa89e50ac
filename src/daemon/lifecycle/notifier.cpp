#include "daemon/lifecycle/notifier.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

namespace hermes::daemon {

bool SystemdNotifier::enabled() const {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket && *socket;
}

void SystemdNotifier::send(const std::string& message) {
  if (!enabled()) return;
  if (int rc = sd_notify(0, message.c_str()); rc < 0) {
    spdlog::warn("sd_notify failed: {}", std::strerror(-rc));
  }
}

void SystemdNotifier::ready(std::string_view status) {
  last_status_ = std::string(status);
  send("READY=1\nSTATUS=" + last_status_);
}

void SystemdNotifier::status(std::string_view status) {
  if (status == last_status_) return;  // STATUS is kept current, not re-sent every tick
  last_status_ = std::string(status);
  send("STATUS=" + last_status_);
}

void SystemdNotifier::stopping(std::string_view status) {
  last_status_ = std::string(status);
  send("STOPPING=1\nSTATUS=" + last_status_);
}

void SystemdNotifier::reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=Reloading config");
}

void SystemdNotifier::watchdog() {
  send("WATCHDOG=1");
}

void SystemdNotifier::store_fd(int fd, std::string_view name) {
  if (!enabled()) return;
  const std::string message = "FDSTORE=1\nFDNAME=" + std::string(name);
  if (int rc = sd_pid_notify_with_fds(0, 0, message.c_str(), &fd, 1); rc < 0) {
    spdlog::warn("cannot put the {} socket in the systemd fd store: {}", name, std::strerror(-rc));
  }
}

void SystemdNotifier::remove_fd(std::string_view name) {
  send("FDSTOREREMOVE=1\nFDNAME=" + std::string(name));
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_ping_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(static_cast<long long>(usec / 2));
}

}  // namespace hermes::daemon
