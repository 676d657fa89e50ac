#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/providers/abort_signal.hpp"

namespace hermes::daemon {

// Plain request/response values, so routes are pure functions testable without sockets
// and only http_server.cpp needs Beast.
struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/v1/models?x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Fires when the client hangs up before its answer is complete (set by the HTTP server).
  std::shared_ptr<providers::AbortSignal> client_gone;

  std::string_view path() const;                         // target without the query
  std::string_view query() const;                        // after the '?'; "" without one
  std::string_view header(std::string_view name) const;  // case-insensitive; "" when absent
};

class ResponseStream;

// Produces a streamed (server-sent events) body; see ResponseStream.
using StreamProducer = std::function<boost::asio::awaitable<void>(ResponseStream&)>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  StreamProducer stream;  // set: the body is streamed by this producer instead of `body`
  // The route that answered, for the request metrics (a static string: the route's pattern).
  std::string_view route_label = "other";
};

// The server side of a streamed response. The `200 text/event-stream` head goes out with the
// first write; a producer that fails before writing sets `instead` and gets a normal answer.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Writes raw bytes (e.g. "data: {...}\n\n"); false once the client is gone.
  virtual boost::asio::awaitable<bool> write(std::string data) = 0;
  virtual bool started() const = 0;
  std::optional<HttpResponse> instead;
  std::vector<std::pair<std::string, std::string>> headers;  // extra head fields
};

// `a=1&b=&c` → {a,1}, {b,""}, {c,""}, in order (no percent-decoding: ids and numbers only).
std::vector<std::pair<std::string_view, std::string_view>> query_params(std::string_view query);

// {"error":{"message":…,"type":…,"code":…}} as OpenAI clients expect; `code` null when empty.
HttpResponse json_error(int status, std::string_view message, std::string_view type,
                        std::string_view code = {});

}  // namespace hermes::daemon
