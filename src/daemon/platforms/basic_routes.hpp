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
  std::string degraded;  // why the gateway cannot do its work (e.g. the store fails)
  // MCP servers that are down, with why: degraded too, but still 200 (chats are answered,
  // without those tools), so a load balancer keeps the gateway.
  std::map<std::string, std::string> mcp_problems;
  // Chat platforms in error or silent past their limit, with why: degraded, still 200 (the
  // API keeps answering).
  std::map<std::string, std::string> platform_problems = {};
};

// GET /health: 200 ok or degraded (a tool server or a platform down), 503 when turns cannot be
// stored.
HttpResponse health_response(const ServerView& view);
// GET /metrics: the Prometheus text.
HttpResponse metrics_response(std::string metrics_text);

}  // namespace hermes::daemon
