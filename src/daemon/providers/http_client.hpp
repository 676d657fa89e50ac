#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/providers/abort_signal.hpp"
#include "daemon/providers/provider_error.hpp"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace hermes::providers {

// scheme://host[:port][/path]; only http and https.
struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target;  // path and query as given, "/" when there is none
  static std::optional<Url> parse(std::string_view text);
};

// The TLS every outgoing connection uses: peer verification against the system CA store, TLS
// 1.2 or later. (The host name check is per connection.)
void use_verified_tls(boost::asio::ssl::context& context);

struct HttpCall {
  std::string url;
  std::string method = "POST";  // GET, PUT, PATCH, DELETE for REST APIs (a GET sends no body)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};  // for the whole exchange
  // Set: the limit on silence, from sending the request to the first byte of the answer and
  // then between bytes (a long answer that keeps coming is not cut before `timeout`).
  std::optional<std::chrono::milliseconds> idle_timeout;
  std::size_t max_response_bytes = 8 * 1024 * 1024;
  // Set: aborting it closes the connection at once; the reply says TransportFailure::aborted.
  std::shared_ptr<AbortSignal> abort;
};

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // for an event stream: what was not delivered as events
  TransportFailure failure = TransportFailure::none;
  std::string failure_detail;
  bool events_delivered = false;  // at least one SSE event reached the sink
  bool over_size_limit = false;   // the body was larger than max_response_bytes (unread)
};

// Receives each SSE `data:` payload as it arrives; returns false to stop reading.
using EventSink = std::function<boost::asio::awaitable<bool>(std::string)>;

// Calls OpenAI-compatible providers (and chat platforms' REST APIs) over HTTP or HTTPS (OpenSSL,
// peer and host name verification against the system CA store, SNI). Keeps idle connections per
// host for reuse. Every failure comes back as a value in HttpReply, never as an exception.
class HttpClient {
 public:
  explicit HttpClient(boost::asio::io_context& io);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // When `sink` is set and the reply is a 200 `text/event-stream`, events go to the sink.
  boost::asio::awaitable<HttpReply> post(HttpCall call, EventSink sink = nullptr);

  // Closes every connection, idle or busy: calls in progress end with a transport failure.
  void abort_all();
  // Connections kept for reuse now (a server's hang-up takes one out of the pool).
  std::size_t idle_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::providers
