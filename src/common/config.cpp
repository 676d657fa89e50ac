#include "common/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace hermes {

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  // Addresses are read as addresses, not by their text: "0:0:0:0:0:0:0:1" is ::1, and
  // "127.example.com" is a name that may resolve anywhere.
  std::string address = host;
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  // ::ffff:127.x.y.z, an IPv4 loopback address in IPv6 form.
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

}  // namespace hermes
