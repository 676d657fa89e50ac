#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hermes::daemon {

// Plain request/response values, so routes are pure functions testable without sockets
// and only http_server.cpp needs Beast.
struct HttpRequest {
  std::string method;  // "GET"
  std::string target;  // "/v1/models?x=1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote;  // peer address, for logs

  std::string_view path() const;                         // target without the query
  std::string_view header(std::string_view name) const;  // case-insensitive; "" when absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// {"error":{"message":…,"type":…,"code":…}} as OpenAI clients expect; `code` null when empty.
HttpResponse json_error(int status, std::string_view message, std::string_view type,
                        std::string_view code = {});

}  // namespace hermes::daemon
