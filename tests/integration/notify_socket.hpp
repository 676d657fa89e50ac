#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace hermes::testing {

// A stand-in for systemd's notification socket: a unix datagram socket the test reads.
class NotifySocket {
 public:
  struct Message {
    std::string text;
    std::vector<int> fds;  // descriptors passed with SCM_RIGHTS (FDSTORE=1)
  };

  explicit NotifySocket(const std::filesystem::path& path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::optional<Message> receive(std::chrono::milliseconds timeout);
  // Receives until a message contains `needle`; the skipped ones are appended to `skipped`.
  std::optional<Message> receive_containing(const std::string& needle,
                                            std::chrono::milliseconds timeout,
                                            std::vector<std::string>* skipped = nullptr);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace hermes::testing
