#pragma once

#include <map>
#include <memory>
#include <string>

#include "daemon/tools/mcp_connection.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::tools {

// One MCP server over Streamable HTTP: every message is its own POST to the one endpoint
// (Accept: application/json, text/event-stream); the answer comes as JSON or as SSE events
// (notifications and requests first, the response last). Mcp-Session-Id from the initialize
// answer goes on every later request, with MCP-Protocol-Version; a 404 for a known session
// means it ended: initialize again and resend once. Configured headers (credentials) go on
// every request and are never logged.
class HttpConnection final : public McpConnection {
 public:
  HttpConnection(boost::asio::io_context& io, std::string server, std::string url,
                 std::map<std::string, std::string> headers);
  ~HttpConnection() override;

  boost::asio::awaitable<RpcReply> call(
      std::string method, nlohmann::json params, std::chrono::milliseconds timeout,
      std::shared_ptr<providers::AbortSignal> abort = nullptr) override;
  void notify(std::string method, nlohmann::json params = nullptr) override;
  void set_handlers(NotificationHandler notified, ExitHandler exited) override;
  boost::asio::awaitable<void> stop() override;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon::tools
