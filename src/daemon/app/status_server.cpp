#include "daemon/app/status_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace hermes::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

struct StatusServer::Impl : std::enable_shared_from_this<StatusServer::Impl> {
  Impl(asio::io_context& io_context, std::filesystem::path p, Render r)
      : io(io_context), acceptor(io_context), path(std::move(p)), render(std::move(r)) {}

  void accept() {
    acceptor.async_accept(
        [self = shared_from_this()](const boost::system::error_code& ec, local::socket socket) {
          if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
          if (!ec) self->reply(std::move(socket));
          self->accept();
        });
  }

  void reply(local::socket socket) {
    auto peer = std::make_shared<local::socket>(std::move(socket));
    auto request = std::make_shared<std::string>();
    auto deadline = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(1));
    deadline->async_wait([peer](const boost::system::error_code& ec) {
      if (!ec) peer->cancel();  // no request line: answer with the status
    });
    asio::async_read_until(*peer, asio::dynamic_buffer(*request, 256), '\n',
                           [self = shared_from_this(), peer, request, deadline](
                               const boost::system::error_code&, std::size_t) {
                             deadline->cancel();
                             std::string_view line(*request);
                             line = line.substr(0, line.find('\n'));
                             auto body = std::make_shared<std::string>(self->render(line) + "\n");
                             asio::async_write(
                                 *peer, asio::buffer(*body),
                                 [peer, body](const boost::system::error_code&, std::size_t) {
                                   boost::system::error_code ignored;
                                   peer->close(ignored);
                                 });
                           });
  }

  asio::io_context& io;
  local::acceptor acceptor;
  std::filesystem::path path;
  Render render;
  ino_t inode = 0;  // of the socket file bound
};

StatusServer::StatusServer(asio::io_context& io, std::filesystem::path socket_path, Render render)
    : impl_(std::make_shared<Impl>(io, std::move(socket_path), std::move(render))) {
  const auto dir = impl_->path.parent_path();
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  // A socket file left by a killed predecessor: we hold the instance lock, so it is stale.
  std::error_code ignored;
  std::filesystem::remove(impl_->path, ignored);
  const mode_t old_mask = ::umask(0077);
  try {
    impl_->acceptor.open(local());
    impl_->acceptor.bind(local::endpoint(impl_->path.string()));
    impl_->acceptor.listen();
  } catch (...) {
    ::umask(old_mask);
    throw;
  }
  ::umask(old_mask);
  ::chmod(impl_->path.c_str(), 0600);
  struct stat bound {};
  if (::stat(impl_->path.c_str(), &bound) == 0) impl_->inode = bound.st_ino;
}

StatusServer::~StatusServer() {
  stop();
}

void StatusServer::start() {
  impl_->accept();
}

void StatusServer::stop() {
  if (!impl_->acceptor.is_open()) return;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  // Only the socket this process bound: never one another daemon has put there since.
  struct stat now {};
  if (::stat(impl_->path.c_str(), &now) == 0 && now.st_ino == impl_->inode) {
    std::error_code removed;
    std::filesystem::remove(impl_->path, removed);
  }
}

}  // namespace hermes::daemon
