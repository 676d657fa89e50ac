#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

// Serves the daemon's runtime view on a unix socket (directory 0700, socket 0600): only the
// owning user can use it, no port is opened. A client sends one request line ("status",
// "clear-cooldowns") and gets one JSON document; a client that sends nothing within a second
// (an older CLI) gets the status.
class StatusServer {
 public:
  using Render = std::function<std::string(std::string_view request)>;

  // Throws std::system_error when the socket cannot be created.
  StatusServer(boost::asio::io_context& io, std::filesystem::path socket_path, Render render);
  ~StatusServer();
  void start();
  void stop();  // closes and removes the socket file

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
