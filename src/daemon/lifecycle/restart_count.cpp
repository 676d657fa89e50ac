#include "daemon/lifecycle/restart_count.hpp"

#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "daemon/lifecycle/notifier.hpp"

namespace hermes::daemon {

long bump_counter(int fd) {
  std::int64_t value = 0;
  if (::pread(fd, &value, sizeof value, 0) != static_cast<ssize_t>(sizeof value) || value < 0) {
    value = 0;
  }
  const std::int64_t next = value + 1;
  if (::pwrite(fd, &next, sizeof next, 0) != static_cast<ssize_t>(sizeof next)) {
    spdlog::debug("restart counter: cannot write it");
  }
  return static_cast<long>(value);
}

long count_restarts(std::vector<InheritedSocket>& inherited, SystemdNotifier& notifier) {
  const auto it = std::find_if(inherited.begin(), inherited.end(),
                               [](const InheritedSocket& s) { return s.name == kRestartsFdName; });
  if (it != inherited.end()) {
    // Each start adds one: the first process of the service found no counter and stored 1.
    const long restarts = bump_counter(it->fd);
    ::close(it->fd);  // systemd keeps its copy of the same file
    inherited.erase(it);
    return restarts;
  }
  if (!notifier.enabled()) return 0;
  const int fd = ::memfd_create("hermes-restarts", MFD_CLOEXEC);
  if (fd < 0) return 0;
  bump_counter(fd);
  notifier.store_fd(fd, kRestartsFdName);
  ::close(fd);
  return 0;
}

}  // namespace hermes::daemon
