#include "daemon/platforms/basic_routes.hpp"

#include <nlohmann/json.hpp>

namespace hermes::daemon {

namespace {

HttpResponse method_not_allowed(const HttpRequest& request, const char* allow) {
  auto response = json_error(405,
                             "Method " + request.method + " is not allowed on " +
                                 std::string(request.path()) + "; use " + allow + ".",
                             "invalid_request_error");
  response.headers.emplace_back("Allow", allow);
  return response;
}

}  // namespace

std::optional<HttpResponse> handle_basic_route(const HttpRequest& request, const ServerView& view) {
  const auto path = request.path();
  if (path == "/health") {
    if (request.method != "GET" && request.method != "HEAD")
      return method_not_allowed(request, "GET");
    HttpResponse response;
    const bool degraded = !view.degraded.empty() || !view.mcp_problems.empty();
    nlohmann::json body = {{"status", degraded ? "degraded" : "ok"},
                           {"state", view.state},
                           {"pid", view.pid},
                           {"version", view.version},
                           {"uptime_seconds", view.uptime_seconds}};
    if (!view.degraded.empty()) {
      // A load balancer should send its traffic elsewhere: answered turns would not be stored.
      response.status = 503;
      body["detail"] = view.degraded;
    }
    if (!view.mcp_problems.empty()) body["mcp"] = view.mcp_problems;
    response.body = body.dump();
    return response;
  }
  if (path == "/metrics") {
    if (request.method != "GET") return method_not_allowed(request, "GET");
    HttpResponse response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = view.metrics_text;
    return response;
  }
  return std::nullopt;
}

std::string route_label(const HttpRequest& request) {
  const auto path = request.path();
  for (const char* known : {"/health", "/metrics", "/v1/models", "/v1/chat/completions"}) {
    if (path == known) return known;
  }
  return "other";
}

}  // namespace hermes::daemon
