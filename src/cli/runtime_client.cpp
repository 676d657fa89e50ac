#include "cli/runtime_client.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hermes::cli {

std::optional<nlohmann::json> runtime_request(const std::filesystem::path& socket_path,
                                              const std::string& request, std::string& error) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  timeval timeout{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    error = socket_path.string() + ": " + std::strerror(errno);
    ::close(fd);
    return std::nullopt;
  }
  const std::string line = request + "\n";
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
  std::string text;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0)
    text.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    error = socket_path.string() + ": the daemon's answer was not valid JSON";
    return std::nullopt;
  }
  if (json.contains("error")) {
    error = socket_path.string() + ": " + json.value("error", "");
    return std::nullopt;
  }
  return json;
}

std::optional<RuntimeStatus> read_runtime_status(const std::filesystem::path& socket_path,
                                                 std::string& error) {
  auto json = runtime_request(socket_path, "status", error);
  if (!json) return std::nullopt;
  return json->get<RuntimeStatus>();
}

}  // namespace hermes::cli
