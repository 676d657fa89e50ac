#include "daemon/platforms/http_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <list>

#include "common/logging.hpp"
#include "common/version.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;  // a request is being handled or answered
  // The request being handled, when its client is watched for hanging up.
  struct HangUpWatch {
    std::shared_ptr<providers::AbortSignal> gone;
    bool finished = false;  // answered: the watch ends without looking
    bool waiting = false;   // a wait on the socket is pending
  };
  std::shared_ptr<HangUpWatch> watch;
  long requests_served = 0;  // 0: the first request is still on its way
};

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io_context, int listen_fd, Handler request_handler, Metrics& m,
       HttpServerLimits l)
      : io(io_context),
        acceptor(io_context),
        handler(std::move(request_handler)),
        metrics(m),
        limits(l) {
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
    acceptor.assign(address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), listen_fd);
  }

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Connection> connection,
                              std::list<std::shared_ptr<Connection>>::iterator registered);
  asio::awaitable<void> respond(Connection& connection, HttpResponse response, unsigned version,
                                bool keep_alive, bool head_only);
  asio::awaitable<void> watch_for_hang_up(std::shared_ptr<Connection> connection,
                                          std::shared_ptr<Connection::HangUpWatch> watch);

  asio::io_context& io;
  tcp::acceptor acceptor;
  Handler handler;
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

  Metrics& metrics;
  HttpServerLimits limits;
  const std::size_t cap = connection_cap(limits);  // open client connections at most
  std::list<std::shared_ptr<Connection>> connections;
  std::size_t in_flight = 0;
  bool draining = false;
};

namespace {

// Streams an SSE body on a connection: head on the first write, then each write as it comes.
// HTTP/1.1 bodies are chunked, so the connection serves the next request afterwards (clients
// that pool connections keep theirs); for HTTP/1.0 the close ends the body.
class BeastResponseStream final : public ResponseStream {
 public:
  BeastResponseStream(Connection& connection, unsigned version, std::chrono::seconds write_timeout)
      : connection_(connection),
        version_(version),
        chunked_(version >= 11),
        write_timeout_(write_timeout) {}

  // The last chunk; true when the body ended cleanly and the connection can be reused.
  asio::awaitable<bool> finish() {
    if (!started_ || failed_ || !chunked_) co_return false;
    connection_.stream.expires_after(write_timeout_);
    auto [ec, n] =
        co_await asio::async_write(connection_.stream, asio::buffer("0\r\n\r\n", 5), kTuple);
    if (ec) failed_ = true;
    co_return !ec;
  }

  asio::awaitable<bool> write(std::string data) override {
    if (failed_) co_return false;
    connection_.stream.expires_after(write_timeout_);
    if (!started_) {
      started_ = true;
      http::response<http::empty_body> head{http::status::ok, version_};
      head.set(http::field::server, "hermes-gateway/" + std::string(kVersion));
      head.set(http::field::content_type, "text/event-stream");
      head.set(http::field::cache_control, "no-cache");
      for (auto& [name, value] : headers) head.set(name, value);
      if (chunked_) {
        head.chunked(true);
      } else {
        head.keep_alive(false);
      }
      http::response_serializer<http::empty_body> serializer{head};
      auto [ec, n] = co_await http::async_write_header(connection_.stream, serializer, kTuple);
      if (ec) {
        failed_ = true;
        co_return false;
      }
    }
    if (data.empty()) co_return true;  // an empty chunk would end the body
    if (!chunked_) {
      auto [ec, n] = co_await asio::async_write(connection_.stream, asio::buffer(data), kTuple);
      if (ec) failed_ = true;
      co_return !ec;
    }
    char size_line[24];
    const int size_length = std::snprintf(size_line, sizeof(size_line), "%zx\r\n", data.size());
    const std::array<asio::const_buffer, 3> chunk{
        asio::buffer(size_line, static_cast<std::size_t>(size_length)), asio::buffer(data),
        asio::buffer("\r\n", 2)};
    auto [ec, n] = co_await asio::async_write(connection_.stream, chunk, kTuple);
    if (ec) failed_ = true;
    co_return !ec;
  }
  bool started() const override { return started_; }

 private:
  Connection& connection_;
  unsigned version_;
  bool chunked_;
  std::chrono::seconds write_timeout_;
  bool started_ = false;
  bool failed_ = false;
};

// Takes the body (the parser's message keeps the head for the reply's version and keep-alive).
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

// How a request that could not be read is answered (nothing for a vanished client).
std::string describe_bytes(std::size_t bytes) {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
    return std::to_string(bytes / (1024 * 1024)) + " MiB";
  }
  if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes) + " bytes";
}

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

}  // namespace

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  auto self = shared_from_this();
  while (!draining) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (!ec) {
      // Registered before the coroutine runs, so a drain starting now already counts it:
      // a connection we accepted is always answered, never dropped.
      // Answers and SSE events go out as written, not held back for the client's delayed ACK
      // (Nagle): a streamed reply on a kept-alive connection would stall ~40 ms otherwise.
      boost::system::error_code nodelay_ignored;
      socket.set_option(tcp::no_delay(true), nodelay_ignored);
      auto connection = std::make_shared<Connection>(std::move(socket));
      connections.push_back(connection);
      if (connections.size() > cap) shed_a_connection();
      asio::co_spawn(io, serve(connection, std::prev(connections.end())),
                     [](std::exception_ptr e) { log_exception(e, "HTTP connection"); });
      continue;
    }
    if (draining || ec == asio::error::operation_aborted) break;
    // Out of descriptors and the like: pause instead of spinning on the error.
    spdlog::warn("accept failed: {}", ec.message());
    asio::steady_timer pause(io, std::chrono::milliseconds(100));
    co_await pause.async_wait(kTuple);
  }
}

asio::awaitable<void> HttpServer::Impl::respond(Connection& connection, HttpResponse response,
                                                unsigned version, bool keep_alive, bool head_only) {
  http::response<http::string_body> message{static_cast<http::status>(response.status), version};
  message.set(http::field::server, "hermes-gateway/" + std::string(kVersion));
  message.set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) message.set(name, value);
  message.body() = head_only ? std::string() : std::move(response.body);
  message.keep_alive(keep_alive);
  message.prepare_payload();
  connection.stream.expires_after(limits.write_timeout);
  co_await http::async_write(connection.stream, message, kTuple);
}

// While a request is handled, the socket is otherwise idle: readable then means the client
// closed (EOF or reset), unless it pipelined its next request, which waits its turn.
asio::awaitable<void> HttpServer::Impl::watch_for_hang_up(
    std::shared_ptr<Connection> connection, std::shared_ptr<Connection::HangUpWatch> watch) {
  if (watch->finished) co_return;  // answered before the watch began
  watch->waiting = true;
  auto [ec] = co_await connection->stream.socket().async_wait(tcp::socket::wait_read, kTuple);
  watch->waiting = false;
  if (ec || watch->finished) co_return;
  char byte;
  const auto n =
      ::recv(connection->stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    spdlog::info("client hung up before its answer was complete; the turn is abandoned");
    watch->gone->abort();
  }
}

// Ends the watch before the connection reads again (the wait would race the parser).
static void stop_watching(Connection& connection) {
  if (!connection.watch) return;
  connection.watch->finished = true;
  if (connection.watch->waiting) {
    beast::error_code ignored;
    connection.stream.socket().cancel(ignored);
  }
  connection.watch.reset();
}

asio::awaitable<void> HttpServer::Impl::serve(
    std::shared_ptr<Connection> connection,
    std::list<std::shared_ptr<Connection>>::iterator registered) {
  auto self = shared_from_this();
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(limits.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    connection->stream.expires_after(limits.read_timeout);
    auto [read_ec, ignored_bytes] =
        co_await http::async_read(connection->stream, buffer, parser, kTuple);
    if (read_ec) {
      if (auto answer = read_error_response(read_ec, limits)) {
        metrics.count_request("invalid", answer->status);
        co_await respond(*connection, std::move(*answer), 11, false, false);
      }
      break;
    }

    connection->busy = true;
    ++in_flight;
    auto& message = parser.get();
    HttpRequest request = to_request(message);
    if (message.method() == http::verb::post) {
      // A turn may run for minutes: its client is watched, so a hang-up ends the turn at once.
      connection->watch = std::make_shared<Connection::HangUpWatch>();
      connection->watch->gone = std::make_shared<providers::AbortSignal>();
      request.client_gone = connection->watch->gone;
      asio::co_spawn(io, watch_for_hang_up(connection, connection->watch),
                     [](std::exception_ptr e) { log_exception(e, "HTTP hang-up watch"); });
    }
    HttpResponse response;
    try {
      response = co_await handler(request);
    } catch (const state::StoreUnavailable& e) {
      spdlog::error("handling {} {} failed: {}", request.method, request.path(), e.what());
      response = store_unavailable_response();
    } catch (const std::exception& e) {
      spdlog::error("handling {} {} failed: {}", request.method, request.path(), e.what());
      response = json_error(500, "Internal error in the gateway; see its logs.", "server_error");
    }
    const std::string route = std::string(response.route_label);  // `instead` has none
    if (response.stream) {
      BeastResponseStream stream(*connection, message.version(), limits.write_timeout);
      try {
        co_await response.stream(stream);
      } catch (const std::exception& e) {
        spdlog::error("streaming {} failed: {}", request.path(), e.what());
      }
      stop_watching(*connection);
      if (stream.started()) {
        --in_flight;
        metrics.count_request(route, 200);
        const bool reusable = co_await stream.finish();
        if (!reusable || !message.keep_alive() || draining) break;
        connection->busy = false;
        ++connection->requests_served;
        continue;
      }
      response = stream.instead ? std::move(*stream.instead)
                                : json_error(500, "Internal error in the gateway; see its logs.",
                                             "server_error");
    }
    stop_watching(*connection);
    --in_flight;
    metrics.count_request(route, response.status);
    const bool keep_alive = message.keep_alive() && !draining;
    co_await respond(*connection, std::move(response), message.version(), keep_alive,
                     message.method() == http::verb::head);
    connection->busy = false;
    ++connection->requests_served;
    if (!keep_alive) break;
  }
  beast::error_code ignored;
  connection->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  connection->stream.close();
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
  impl_->draining = true;
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
  return impl_->in_flight;
}

std::size_t HttpServer::pending_work() const {
  std::size_t waiting_first_request = 0;
  for (const auto& connection : impl_->connections) {
    if (!connection->busy && connection->requests_served == 0) ++waiting_first_request;
  }
  return impl_->in_flight + waiting_first_request;
}

}  // namespace hermes::daemon
