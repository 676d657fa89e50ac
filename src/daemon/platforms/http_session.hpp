#pragma once

// The per-connection HTTP/1.1 session behind HttpServer, generic over its stream so tests can
// drive it over Beast's in-memory test stream. Beast-heavy: include it only from
// http_server.cpp and the session's tests, never from headers.

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "common/logging.hpp"
#include "common/version.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/platforms/http_server.hpp"
#include "daemon/platforms/http_types.hpp"
#include "daemon/providers/abort_signal.hpp"

namespace hermes::daemon::http_session {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What a session needs of its stream beyond reading and writing, specialized per stream type
// (the server's tcp_stream in http_server.cpp, the in-memory stream in the tests):
//   static void expires_after(Stream&, std::chrono::seconds);  // deadline for the next I/O
//   // Resolves when bytes or the client's hang-up arrived, without taking the bytes: true for
//   // a hang-up, false for bytes (a pipelined request) or when cancelled.
//   static asio::awaitable<bool> wait_for_hang_up(Stream&);
//   static void cancel_hang_up_wait(Stream&);
//   static void close(Stream&);  // after the last answer
template <class Stream>
struct StreamOps;

// What a server's sessions share.
struct Shared {
  HttpServer::Handler handler;
  Metrics& metrics;
  HttpServerLimits limits;
  std::size_t in_flight = 0;  // requests whose handler is running or answer is being written
  bool draining = false;
};

// The request being handled, when its client is watched for hanging up.
struct HangUpWatch {
  std::shared_ptr<providers::AbortSignal> gone;
  bool finished = false;  // answered: the watch ends without looking
  bool waiting = false;   // a wait on the stream is pending
};

template <class Stream>
struct Connection {
  explicit Connection(Stream s) : stream(std::move(s)) {}
  Stream stream;
  bool busy = false;  // a request is being handled or answered
  std::shared_ptr<HangUpWatch> watch;
  long requests_served = 0;  // 0: the first request is still on its way
};

// Stream-independent steps, compiled once in http_server.cpp.

// Takes the body (the parser's message keeps the head for the reply's version and keep-alive).
HttpRequest to_request(http::request<http::string_body>& message);
// How a request that could not be read is answered (nothing for a vanished client).
std::optional<HttpResponse> read_error_response(const beast::error_code& ec,
                                                const HttpServerLimits& limits);
// Runs the handler; what it throws becomes a 503 (store down) or 500 answer.
asio::awaitable<HttpResponse> handle(const HttpServer::Handler& handler,
                                     const HttpRequest& request);
std::string server_field();  // "hermes-gateway/<version>"

// Streams an SSE body on a connection: head on the first write, then each write as it comes.
// HTTP/1.1 bodies are chunked, so the connection serves the next request afterwards (clients
// that pool connections keep theirs); for HTTP/1.0 the close ends the body.
template <class Stream>
class BeastResponseStream final : public ResponseStream {
 public:
  BeastResponseStream(Connection<Stream>& connection, unsigned version,
                      std::chrono::seconds write_timeout)
      : connection_(connection),
        version_(version),
        chunked_(version >= 11),
        write_timeout_(write_timeout) {}

  // The last chunk; true when the body ended cleanly and the connection can be reused.
  asio::awaitable<bool> finish() {
    if (!started_ || failed_ || !chunked_) co_return false;
    StreamOps<Stream>::expires_after(connection_.stream, write_timeout_);
    auto [ec, n] =
        co_await asio::async_write(connection_.stream, asio::buffer("0\r\n\r\n", 5), kTuple);
    if (ec) failed_ = true;
    co_return !ec;
  }

  asio::awaitable<bool> write(std::string data) override {
    if (failed_) co_return false;
    StreamOps<Stream>::expires_after(connection_.stream, write_timeout_);
    if (!started_) {
      started_ = true;
      http::response<http::empty_body> head{http::status::ok, version_};
      head.set(http::field::server, server_field());
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
  Connection<Stream>& connection_;
  unsigned version_;
  bool chunked_;
  std::chrono::seconds write_timeout_;
  bool started_ = false;
  bool failed_ = false;
};

template <class Stream>
asio::awaitable<void> respond(const Shared& shared, Connection<Stream>& connection,
                              HttpResponse response, unsigned version, bool keep_alive,
                              bool head_only) {
  http::response<http::string_body> message{static_cast<http::status>(response.status), version};
  message.set(http::field::server, server_field());
  message.set(http::field::content_type, response.content_type);
  for (auto& [name, value] : response.headers) message.set(name, value);
  message.body() = head_only ? std::string() : std::move(response.body);
  message.keep_alive(keep_alive);
  message.prepare_payload();
  StreamOps<Stream>::expires_after(connection.stream, shared.limits.write_timeout);
  co_await http::async_write(connection.stream, message, kTuple);
}

// While a request is handled, the stream is otherwise idle: data arriving then means the
// client closed, unless it pipelined its next request, which waits its turn.
template <class Stream>
asio::awaitable<void> watch_for_hang_up(std::shared_ptr<Connection<Stream>> connection,
                                        std::shared_ptr<HangUpWatch> watch) {
  if (watch->finished) co_return;  // answered before the watch began
  watch->waiting = true;
  const bool hung_up = co_await StreamOps<Stream>::wait_for_hang_up(connection->stream);
  watch->waiting = false;
  if (!hung_up || watch->finished) co_return;
  spdlog::info("client hung up before its answer was complete; the turn is abandoned");
  watch->gone->abort();
}

// Ends the watch before the connection reads again (the wait would race the parser).
template <class Stream>
void stop_watching(Connection<Stream>& connection) {
  if (!connection.watch) return;
  connection.watch->finished = true;
  if (connection.watch->waiting) StreamOps<Stream>::cancel_hang_up_wait(connection.stream);
  connection.watch.reset();
}

// A turn may run for minutes: its client is watched, so a hang-up ends the turn at once
// (request.client_gone fires).
template <class Stream>
void start_watching(const std::shared_ptr<Connection<Stream>>& connection, HttpRequest& request) {
  connection->watch = std::make_shared<HangUpWatch>();
  connection->watch->gone = std::make_shared<providers::AbortSignal>();
  request.client_gone = connection->watch->gone;
  asio::co_spawn(connection->stream.get_executor(),
                 watch_for_hang_up(connection, connection->watch),
                 [](std::exception_ptr e) { log_exception(e, "HTTP hang-up watch"); });
}

// Reads, handles and answers requests on one connection until either side ends it; closes
// the stream when done.
template <class Stream>
asio::awaitable<void> serve(Shared& shared, std::shared_ptr<Connection<Stream>> connection) {
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(shared.limits.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(shared.limits.max_header_bytes));
    StreamOps<Stream>::expires_after(connection->stream, shared.limits.read_timeout);
    auto [read_ec, ignored_bytes] =
        co_await http::async_read(connection->stream, buffer, parser, kTuple);
    if (read_ec) {
      if (auto answer = read_error_response(read_ec, shared.limits)) {
        shared.metrics.count_request("invalid", answer->status);
        co_await respond(shared, *connection, std::move(*answer), 11, false, false);
      }
      break;
    }

    connection->busy = true;
    ++shared.in_flight;
    auto& message = parser.get();
    HttpRequest request = to_request(message);
    if (message.method() == http::verb::post) start_watching(connection, request);
    HttpResponse response = co_await handle(shared.handler, request);
    const std::string route = std::string(response.route_label);  // `instead` has none
    if (response.stream) {
      BeastResponseStream<Stream> stream(*connection, message.version(),
                                         shared.limits.write_timeout);
      try {
        co_await response.stream(stream);
      } catch (const std::exception& e) {
        spdlog::error("streaming {} failed: {}", request.path(), e.what());
      }
      stop_watching(*connection);
      if (stream.started()) {
        --shared.in_flight;
        shared.metrics.count_request(route, 200);
        const bool reusable = co_await stream.finish();
        if (!reusable || !message.keep_alive() || shared.draining) break;
        connection->busy = false;
        ++connection->requests_served;
        continue;
      }
      response = stream.instead ? std::move(*stream.instead)
                                : json_error(500, "Internal error in the gateway; see its logs.",
                                             "server_error");
    }
    stop_watching(*connection);
    --shared.in_flight;
    shared.metrics.count_request(route, response.status);
    const bool keep_alive = message.keep_alive() && !shared.draining;
    co_await respond(shared, *connection, std::move(response), message.version(), keep_alive,
                     message.method() == http::verb::head);
    connection->busy = false;
    ++connection->requests_served;
    if (!keep_alive) break;
  }
  StreamOps<Stream>::close(connection->stream);
}

}  // namespace hermes::daemon::http_session
