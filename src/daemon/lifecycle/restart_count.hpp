#pragma once

#include <vector>

#include "daemon/lifecycle/listen_sockets.hpp"

namespace hermes::daemon {

class SystemdNotifier;

// How many times this service has restarted since systemd started it: a counter in a memfd
// the gateway keeps in its fd store ("restarts"), which systemd hands to each new process of
// the service and drops when the service stops. Takes that entry out of `inherited`; 0 when
// it is absent (a first start, or not under systemd) or unreadable.
long count_restarts(std::vector<InheritedSocket>& inherited, SystemdNotifier& notifier);

// The counter itself, on any file descriptor: the value stored, then `value + 1` written.
long bump_counter(int fd);

inline constexpr const char* kRestartsFdName = "restarts";

}  // namespace hermes::daemon
