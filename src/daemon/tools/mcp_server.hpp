#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "daemon/providers/abort_signal.hpp"
#include "daemon/tools/mcp_protocol.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::tools {

// One configured MCP server: started, handshaken and listed; restarted with backoff (1 s
// doubling to 60 s) when it fails to start or dies; its tools offered only while it is ready.
class McpServer {
 public:
  enum class State { starting, ready, error, stopped };

  McpServer(boost::asio::io_context& io, McpServerConfig config);
  ~McpServer();

  // The first start: returns once the server is ready or failed (bounded by connect_timeout);
  // a failure is then retried in the background.
  boost::asio::awaitable<void> start();
  boost::asio::awaitable<void> stop();

  // Runs one of this server's tools (its own name) with the server's timeout.
  boost::asio::awaitable<mcp::ToolOutcome> call_tool(
      std::string tool, nlohmann::json arguments,
      std::shared_ptr<providers::AbortSignal> abort = nullptr);

  const std::string& name() const;
  const McpServerConfig& config() const;
  State state() const;
  std::string last_error() const;
  // The tools it offers after include and exclude, before tools.max_tools keeps the first.
  std::size_t tools_offered() const;
  // The tools offered (include/exclude applied); empty unless ready.
  std::vector<mcp::ToolSpec> tools() const;
  // Called when the state or the tool list changes.
  void on_change(std::function<void()> changed);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

const char* to_string(McpServer::State state);

}  // namespace hermes::daemon::tools
