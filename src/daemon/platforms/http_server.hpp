#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "daemon/platforms/http_types.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

class Metrics;

struct HttpServerLimits {
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::seconds read_timeout{15};  // to receive a whole request
  std::chrono::seconds write_timeout{30};
  // Open client connections at most; past it the longest-idle kept-alive one is closed (or,
  // when all are busy, the new one), so descriptors never run out and /health keeps answering.
  // 0: from the process's descriptor limit, leaving room for the store and the providers.
  std::size_t max_connections = 0;
};

// An HTTP/1.1 server on an already-listening socket (bound by us or handed over by systemd).
// Each request goes to `handler`; parse errors, oversized requests and timeouts are answered
// here with OpenAI-style errors. Beast lives only in http_server.cpp.
class HttpServer {
 public:
  using Handler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest)>;

  HttpServer(boost::asio::io_context& io, int listen_fd, Handler handler, Metrics& metrics,
             HttpServerLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();

  // Drain: stop taking connections (the socket stays in systemd's fd store, so new ones wait
  // in the kernel backlog for the next process), answer in-flight requests with
  // `Connection: close`, and close connections idling between requests.
  void begin_drain();
  // Drain deadline reached: drop whatever is still open.
  void close_all();

  // Requests being handled plus connections whose first request is still arriving.
  std::size_t pending_work() const;
  // Requests whose handler is running or whose answer is being written.
  std::size_t requests_in_flight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
