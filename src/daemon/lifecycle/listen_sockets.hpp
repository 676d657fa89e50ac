#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hermes::daemon {

// A listening socket handed over by systemd (fd store or socket activation).
struct InheritedSocket {
  int fd = -1;
  std::string name;  // FDNAME / FileDescriptorName, "unknown" when unnamed
};

// Takes the sockets systemd passed (LISTEN_FDS, LISTEN_FDNAMES) and clears those variables
// so children do not inherit them. Empty when started by hand.
std::vector<InheritedSocket> take_inherited_sockets();

// Binds and listens on host:port. Throws std::system_error naming the address on failure.
int bind_tcp_listener(const std::string& host, std::uint16_t port);

// True when `fd` is a listening TCP socket bound to host:port (so an inherited socket can be
// reused only if the config still asks for the same address).
bool listener_matches(int fd, const std::string& host, std::uint16_t port);

}  // namespace hermes::daemon
