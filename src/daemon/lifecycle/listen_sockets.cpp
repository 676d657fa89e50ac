#include "daemon/lifecycle/listen_sockets.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <system_error>

namespace hermes::daemon {

namespace {

constexpr int kBacklog = 4096;  // connections wait here across a restart

std::string describe(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

struct AddrInfoDeleter {
  void operator()(addrinfo* info) const { freeaddrinfo(info); }
};

}  // namespace

std::vector<InheritedSocket> take_inherited_sockets() {
  std::vector<InheritedSocket> sockets;
  char** names = nullptr;
  const int count = sd_listen_fds_with_names(1, &names);
  for (int i = 0; i < count; ++i) {
    InheritedSocket socket;
    socket.fd = SD_LISTEN_FDS_START + i;
    socket.name = names && names[i] ? names[i] : "unknown";
    sockets.push_back(socket);
  }
  if (names) {
    for (int i = 0; i < count; ++i) std::free(names[i]);
    std::free(names);
  }
  return sockets;
}

int bind_tcp_listener(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  std::string bare_host = host;
  if (bare_host.size() > 2 && bare_host.front() == '[' && bare_host.back() == ']') {
    bare_host = bare_host.substr(1, bare_host.size() - 2);
  }
  addrinfo* raw = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(bare_host.c_str(), service.c_str(), &hints, &raw); rc != 0) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "cannot resolve " + describe(host, port) + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, AddrInfoDeleter> info(raw);
  int last_errno = 0;
  for (addrinfo* ai = info.get(); ai; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, kBacklog) == 0) return fd;
    last_errno = errno;
    ::close(fd);
  }
  throw std::system_error(last_errno, std::generic_category(),
                          "cannot listen on " + describe(host, port));
}

bool listener_matches(int fd, const std::string& host, std::uint16_t port) {
  if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) return false;
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return false;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* raw = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &raw) != 0) return false;
  std::unique_ptr<addrinfo, AddrInfoDeleter> info(raw);
  for (addrinfo* ai = info.get(); ai; ai = ai->ai_next) {
    if (ai->ai_family != bound.ss_family) continue;
    if (ai->ai_family == AF_INET) {
      const auto* want = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      const auto* have = reinterpret_cast<const sockaddr_in*>(&bound);
      if (want->sin_port == have->sin_port && want->sin_addr.s_addr == have->sin_addr.s_addr) {
        return true;
      }
    } else if (ai->ai_family == AF_INET6) {
      const auto* want = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      const auto* have = reinterpret_cast<const sockaddr_in6*>(&bound);
      if (want->sin6_port == have->sin6_port &&
          std::memcmp(&want->sin6_addr, &have->sin6_addr, sizeof(in6_addr)) == 0) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace hermes::daemon
