#pragma once

#include <map>
#include <optional>
#include <string>

#include "daemon/platforms/http_types.hpp"

namespace hermes::daemon {

// What /health and /metrics report, gathered by the app.
struct ServerView {
  std::string state;  // serving | draining
  long pid = 0;
  std::string version;
  double uptime_seconds = 0;
  std::string metrics_text;  // rendered lazily by the caller only for /metrics
  std::string degraded;      // why the gateway cannot do its work (e.g. the store fails)
  // MCP servers that are down, with why: degraded too, but still 200 (chats are answered,
  // without those tools), so a load balancer keeps the gateway.
  std::map<std::string, std::string> mcp_problems;
};

// GET /health and GET /metrics, and the 404/405 answers for everything no platform claims.
// Returns nothing for routes another platform (the API server) handles.
std::optional<HttpResponse> handle_basic_route(const HttpRequest& request, const ServerView& view);

// The route label used in metrics: known paths as they are, anything else "other", so a
// scanner cannot blow up the label set.
std::string route_label(const HttpRequest& request);

}  // namespace hermes::daemon
