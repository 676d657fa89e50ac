#include "daemon/platforms/basic_routes.hpp"

#include <nlohmann/json.hpp>

namespace hermes::daemon {

HttpResponse health_response(const ServerView& view) {
  HttpResponse response;
  const bool degraded =
      !view.degraded.empty() || !view.mcp_problems.empty() || !view.platform_problems.empty();
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
  if (!view.platform_problems.empty()) body["platforms"] = view.platform_problems;
  response.body = body.dump();
  return response;
}

HttpResponse metrics_response(std::string metrics_text) {
  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = std::move(metrics_text);
  return response;
}

}  // namespace hermes::daemon
