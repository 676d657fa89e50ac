#include "daemon/platforms/http_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>

#include "common/logging.hpp"
#include "common/version.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/platforms/http_session.hpp"
#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using http_session::kTuple;

using TcpConnection = http_session::Connection<beast::tcp_stream>;

namespace http_session {

template <>
struct StreamOps<beast::tcp_stream> {
  static void expires_after(beast::tcp_stream& stream, std::chrono::seconds timeout) {
    stream.expires_after(timeout);
  }

  // Readable means bytes or EOF/reset; a peek tells which without taking the bytes.
  // A peeking receive, not async_wait: the reactor knows the request drained the socket, so
  // it queues the receive without a syscall (an async_wait re-arms epoll each time).
  static asio::awaitable<bool> wait_for_hang_up(beast::tcp_stream& stream) {
    char byte;
    auto [ec, n] = co_await stream.socket().async_receive(asio::buffer(&byte, 1),
                                                          tcp::socket::message_peek, kTuple);
    if (ec == asio::error::operation_aborted) co_return false;  // answered: the watch ended
    co_return ec || n == 0;  // end of stream or reset; a byte is a pipelined next request
  }

  static void cancel_hang_up_wait(beast::tcp_stream& stream) {
    beast::error_code ignored;
    stream.socket().cancel(ignored);
  }

  static void close(beast::tcp_stream& stream) {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
  }
};

HttpRequest to_request(http::request<http::string_body>& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

namespace {

std::string describe_bytes(std::size_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
    return std::to_string(bytes / (1024 * 1024)) + " MiB";
  }
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

std::optional<HttpResponse> read_error_response(const beast::error_code& ec,
                                                const HttpServerLimits& limits) {
  if (ec == http::error::end_of_stream) return std::nullopt;  // closed before a request
  if (ec == http::error::body_limit) {
    return json_error(
        413, "Request body too large: the limit is " + describe_bytes(limits.max_body_bytes) + ".",
        "invalid_request_error");
  }
  if (ec == http::error::header_limit) {
    return json_error(
        431,
        "Request headers too large: the limit is " + describe_bytes(limits.max_header_bytes) + ".",
        "invalid_request_error");
  }
  // Any other parse error (bad method, bad target, bad chunk, …) is the client's fault.
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) {
    return json_error(400, "Malformed HTTP request.", "invalid_request_error");
  }
  return std::nullopt;
}

asio::awaitable<HttpResponse> handle(const HttpServer::Handler& handler,
                                     const HttpRequest& request) {
  try {
    co_return co_await handler(request);
  } catch (const state::StoreUnavailable& e) {
    spdlog::error("handling {} {} failed: {}", request.method, request.path(), e.what());
    co_return store_unavailable_response();
  } catch (const std::exception& e) {
    spdlog::error("handling {} {} failed: {}", request.method, request.path(), e.what());
    co_return json_error(500, "Internal error in the gateway; see its logs.", "server_error");
  }
}

std::string server_field() {
  return "hermes-gateway/" + std::string(kVersion);
}

}  // namespace http_session

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io_context, int listen_fd, Handler request_handler, Metrics& metrics,
       HttpServerLimits limits)
      : io(io_context), acceptor(io_context), session{std::move(request_handler), metrics, limits} {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
    acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listen_fd);
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<TcpConnection> connection,
                              std::list<std::shared_ptr<TcpConnection>>::iterator registered);

  asio::io_context& io;
  tcp::acceptor acceptor;
  http_session::Shared session;  // handler, limits, drain flag and in-flight count
  // Read once: the descriptor limit does not change while serving.
  static std::size_t connection_cap(const HttpServerLimits& limits) {
    if (limits.max_connections > 0) return limits.max_connections;
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) return 16384;
    const auto soft = static_cast<std::size_t>(files.rlim_cur);
    return soft > 256 ? soft - 128 : soft / 2;
  }

  // Over the cap: the oldest connection not in the middle of a request goes (a kept-alive
  // client reconnects; a silent one loses nothing); if every one is busy, the newest is
  // refused by closing it.
  void shed_a_connection() {
    for (auto& connection : connections) {
      if (!connection->busy && connection != connections.back()) {
        beast::error_code ignored;
        connection->stream.socket().close(ignored);
        return;
      }
    }
    beast::error_code ignored;
    connections.back()->stream.socket().close(ignored);
  }

  const std::size_t cap = connection_cap(session.limits);  // open client connections at most
  std::list<std::shared_ptr<TcpConnection>> connections;
};

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  auto self = shared_from_this();
  while (!session.draining) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (!ec) {
      // Registered before the coroutine runs, so a drain starting now already counts it:
      // a connection we accepted is always answered, never dropped.
      // Answers and SSE events go out as written, not held back for the client's delayed ACK
      // (Nagle): a streamed reply on a kept-alive connection would stall ~40 ms otherwise.
      boost::system::error_code nodelay_ignored;
      socket.set_option(tcp::no_delay(true), nodelay_ignored);
      auto connection = std::make_shared<TcpConnection>(beast::tcp_stream(std::move(socket)));
      connections.push_back(connection);
      if (connections.size() > cap) shed_a_connection();
      asio::co_spawn(io, serve(connection, std::prev(connections.end())),
                     [](std::exception_ptr e) { log_exception(e, "HTTP connection"); });
      continue;
    }
    if (session.draining || ec == asio::error::operation_aborted) break;
    // Out of descriptors and the like: pause instead of spinning on the error.
    spdlog::warn("accept failed: {}", ec.message());
    asio::steady_timer pause(io, std::chrono::milliseconds(100));
    co_await pause.async_wait(kTuple);
  }
}

asio::awaitable<void> HttpServer::Impl::serve(
    std::shared_ptr<TcpConnection> connection,
    std::list<std::shared_ptr<TcpConnection>>::iterator registered) {
  auto self = shared_from_this();
  co_await http_session::serve(session, connection);
  connections.erase(registered);
}

HttpServer::HttpServer(asio::io_context& io, int listen_fd, Handler handler, Metrics& metrics,
                       HttpServerLimits limits)
    : impl_(std::make_shared<Impl>(io, listen_fd, std::move(handler), metrics, limits)) {}

HttpServer::~HttpServer() {
  beast::error_code ignored;
  impl_->acceptor.close(ignored);
}

void HttpServer::start() {
  asio::co_spawn(impl_->io, impl_->accept_loop(),
                 [](std::exception_ptr e) { log_exception(e, "HTTP accept loop"); });
}

void HttpServer::begin_drain() {
  impl_->session.draining = true;
  beast::error_code ignored;
  // Closing our descriptor leaves systemd's copy in the fd store listening.
  impl_->acceptor.close(ignored);
  for (auto& connection : impl_->connections) {
    if (!connection->busy && connection->requests_served > 0) {
      connection->stream.socket().close(ignored);
    }
  }
}

void HttpServer::close_all() {
  beast::error_code ignored;
  for (auto& connection : impl_->connections) connection->stream.socket().close(ignored);
}

std::size_t HttpServer::requests_in_flight() const {
  return impl_->session.in_flight;
}

std::size_t HttpServer::pending_work() const {
  std::size_t waiting_first_request = 0;
  for (const auto& connection : impl_->connections) {
    if (!connection->busy && connection->requests_served == 0) ++waiting_first_request;
  }
  return impl_->session.in_flight + waiting_first_request;
}

}  // namespace hermes::daemon
