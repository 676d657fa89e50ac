#include "cli/runtime_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/paths.hpp"

namespace hermes::cli {

namespace {

// What one answer may take and be: a status is a few KB; a socket that keeps sending (not
// our daemon, or a broken one) must not make the CLI hang or grow without bound.
constexpr auto kAnswerDeadline = std::chrono::seconds(5);
constexpr std::size_t kMaxAnswerBytes = 4 * 1024 * 1024;

// Reads until the daemon closes the connection, the deadline passes or the cap is reached;
// false (with `error`) for the last two.
bool read_answer(int fd, std::string& text, std::string& error) {
  const auto deadline = std::chrono::steady_clock::now() + kAnswerDeadline;
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&ready, 1, static_cast<int>(left.count())) == 0) {
      error = "the daemon did not finish its answer within 5 s";
      return false;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) return true;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxAnswerBytes) {
      error = "the daemon's answer is larger than 4 MiB";
      return false;
    }
  }
}

}  // namespace

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
  std::string read_error;
  const bool complete = read_answer(fd, text, read_error);
  ::close(fd);
  if (!complete) {
    error = socket_path.string() + ": " + read_error;
    return std::nullopt;
  }
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    error = socket_path.string() + ": the daemon's answer was not valid JSON";
    return std::nullopt;
  }
  if (json.contains("error")) {
    const auto& said = json["error"];
    error = socket_path.string() + ": " +
            (said.is_string() ? said.get<std::string>() : std::string("the daemon refused"));
    return std::nullopt;
  }
  return json;
}

std::optional<RuntimeStatus> read_runtime_status(const std::filesystem::path& socket_path,
                                                 std::string& error) {
  auto json = runtime_request(socket_path, "status", error);
  if (!json) return std::nullopt;
  try {
    return json->get<RuntimeStatus>();
  } catch (const nlohmann::json::exception&) {
    // Not a library's exception text for the user: what is wrong, in one sentence.
    error = socket_path.string() +
            ": the daemon's status is not in the shape this CLI reads "
            "(a different version?)";
    return std::nullopt;
  }
}

std::filesystem::path locate_runtime_socket(Scope scope, long main_pid) {
  std::optional<std::filesystem::path> own;
  if (scope == Scope::user) {
    try {
      own = status_socket_path(resolve_home(std::nullopt, std::nullopt).home);
    } catch (const std::exception&) {
      // no HOME and no HERMES_HOME: look at what is there
    }
  }
  std::string ignored;
  const auto pid_of = [&ignored](const std::filesystem::path& socket) -> long {
    const auto status = read_runtime_status(socket, ignored);
    return status ? status->pid : 0;
  };
  std::error_code missing;
  const bool own_exists = own && std::filesystem::exists(*own, missing);
  if (own_exists && (main_pid <= 0 || pid_of(*own) == main_pid)) return *own;
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(runtime_dir_for(scope), ec)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("gateway-") && name.ends_with(".sock")) found.push_back(entry.path());
  }
  for (const auto& socket : found) {
    if (main_pid > 0 && pid_of(socket) == main_pid) return socket;
  }
  if (own) return *own;  // this home's, even when absent: another home's daemon is not ours
  if (found.size() == 1) return found.front();
  return runtime_dir_for(scope) / "gateway.sock";  // nothing there: the error names the dir
}

}  // namespace hermes::cli
