// The HTTP request path as the server runs it: Beast's parser with the server's limits, then
// the request as handlers see it, the route table (route or 401/404/405), the bearer check and
// the chat and responses request bodies. Any bytes: a request or a parse error, never a crash.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "daemon/platforms/api_protocol.hpp"
#include "daemon/platforms/responses/responses_protocol.hpp"
#include "daemon/platforms/route_table.hpp"

namespace http = boost::beast::http;
using namespace hermes::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);  // HttpServerLimits' defaults
  parser.header_limit(16 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  // Fed in two pieces, as bytes arrive from a socket.
  const std::size_t first = size / 2;
  used += parser.put(boost::asio::buffer(data, first), ec);
  if (!ec || ec == http::error::need_more) {
    ec = {};
    used += parser.put(boost::asio::buffer(data + used, size - used), ec);
  }
  if (ec || !parser.is_done()) return 0;

  // What http_server.cpp's to_request makes of it.
  auto& message = parser.get();
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());

  const bool authorized = bearer_matches(request.header("Authorization"), "sk-fuzz-key");
  const auto routed = match_route(gateway_routes(), request.method, request.path(), authorized);
  if (const auto* refusal = std::get_if<HttpResponse>(&routed)) {
    if (refusal->status != 401 && refusal->status != 404 && refusal->status != 405) {
      __builtin_trap();
    }
  }
  if (request.path() == "/v1/chat/completions") {
    const auto parsed = parse_chat_completion_request(request.body);
    if (const auto* error = std::get_if<HttpResponse>(&parsed)) {
      if (error->status < 400 || error->status >= 500) __builtin_trap();
    }
  }
  if (request.path() == "/v1/responses") {
    const auto parsed = responses::parse_responses_request(request.body, "item_f");
    if (const auto* error = std::get_if<HttpResponse>(&parsed)) {
      if (error->status != 400) __builtin_trap();
    }
  }
  return 0;
}
