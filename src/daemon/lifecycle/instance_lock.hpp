#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace hermes::daemon {

// One daemon per HERMES_HOME: an flock(2) on HOME/gateway.lock, released by the kernel when
// the process dies, so it can never go stale like a PID file.
class InstanceLock {
 public:
  // Returns the lock, or nothing with `holder` set to what the lock file says (the pid).
  static std::optional<InstanceLock> acquire(const std::filesystem::path& home,
                                             std::string& holder);

  InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  InstanceLock& operator=(InstanceLock&&) = delete;
  InstanceLock(const InstanceLock&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace hermes::daemon
