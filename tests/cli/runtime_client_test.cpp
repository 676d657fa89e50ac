// The CLI's status-socket client against hostile sockets (a real Unix socket served by a
// thread): an answer that never ends, an endless stream, and a status of the wrong shape.
#include "cli/runtime_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace hermes::cli {
namespace {

using ::testing::HasSubstr;

// Listens on a fresh socket path and serves one connection with `serve(fd)`.
class OneShotSocket {
 public:
  explicit OneShotSocket(std::function<void(int)> serve) {
    path_ =
        std::filesystem::temp_directory_path() / ("hermes-cli-test-" + std::to_string(::getpid()) +
                                                  "-" + std::to_string(counter_++) + ".sock");
    std::filesystem::remove(path_);
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(::listen(listener_, 1), 0);
    server_ = std::thread([this, serve = std::move(serve)] {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      serve(fd);
      ::close(fd);
    });
  }
  ~OneShotSocket() {
    ::shutdown(listener_, SHUT_RDWR);
    server_.join();
    ::close(listener_);
    std::filesystem::remove(path_);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  static inline std::atomic<int> counter_{0};
  std::filesystem::path path_;
  int listener_ = -1;
  std::thread server_;
};

TEST(RuntimeClient, ASocketThatKeepsSendingIsCutAtTheSizeCap) {
  OneShotSocket socket([](int fd) {
    const std::string chunk(64 * 1024, 'x');
    while (::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
    }
  });
  std::string error;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(runtime_request(socket.path(), "status", error));
  EXPECT_THAT(error, HasSubstr("larger than 4 MiB"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

TEST(RuntimeClient, AnAnswerThatNeverEndsIsCutAtTheDeadline) {
  std::atomic<bool> done{false};
  OneShotSocket socket([&done](int fd) {
    // A byte now and then: no single read times out, only the whole answer can.
    while (!done && ::send(fd, " ", 1, MSG_NOSIGNAL) > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  std::string error;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(runtime_request(socket.path(), "status", error));
  done = true;
  EXPECT_THAT(error, HasSubstr("did not finish its answer within 5 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
}

TEST(RuntimeClient, AStatusOfTheWrongShapeIsASentenceNotAnException) {
  OneShotSocket socket([](int fd) {
    const std::string answer = R"({"pid":"not a number","state":7})";
    (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  });
  std::string error;
  EXPECT_FALSE(read_runtime_status(socket.path(), error));
  EXPECT_THAT(error, HasSubstr("not in the shape this CLI reads"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("json.exception")));
}

TEST(RuntimeClient, AnErrorThatIsNotTextIsStillReported) {
  OneShotSocket socket([](int fd) {
    const std::string answer = R"({"error":{"code":1}})";
    (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  });
  std::string error;
  EXPECT_FALSE(runtime_request(socket.path(), "status", error));
  EXPECT_THAT(error, HasSubstr("the daemon refused"));
}

}  // namespace
}  // namespace hermes::cli
