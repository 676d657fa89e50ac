#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

// Serves the daemon's runtime view as one JSON document per connection on a unix socket
// (directory 0700, socket 0600): only the owning user can read it, no port is opened.
class StatusServer {
 public:
  using Render = std::function<std::string()>;

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
