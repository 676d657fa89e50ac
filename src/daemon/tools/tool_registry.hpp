#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "daemon/providers/abort_signal.hpp"
#include "daemon/tools/mcp_protocol.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::tools {

class McpServer;

struct ServerStatus {
  std::string name;
  std::string state;  // starting | ready | error | stopped
  std::size_t tools = 0;
  std::string last_error;
};

// The gateway's own tools: every configured MCP server, the names their tools are offered
// under, and the dispatch of a model's tool call to the right server.
// Asks a person whether a tool in require_approval may run (the tool's display name and its
// arguments as JSON text); true: approved.
using Approver =
    std::function<boost::asio::awaitable<bool>(std::string tool, std::string arguments)>;

class ToolRegistry {
 public:
  ToolRegistry(boost::asio::io_context& io, const Config& config);
  ~ToolRegistry();

  // Starts every enabled server in parallel; returns once each is ready or failed (each
  // bounded by its connect_timeout), so READY never waits on a broken one for longer.
  boost::asio::awaitable<void> start();
  boost::asio::awaitable<void> stop();
  // A new config (SIGHUP): removed servers stop, added ones start, changed ones restart;
  // untouched ones keep running (and their tools stay offered throughout).
  boost::asio::awaitable<void> reconfigure(Config config);

  // The `tools` array for a provider request (OpenAI function tools), "" when there are none.
  const std::string& offered_json() const;
  bool empty() const;
  // Runs the tool offered as `exposed_name` with the model's `arguments` (a JSON text).
  // A tool in require_approval asks `approver` (a chat); without one, approvals.unattended
  // decides.
  boost::asio::awaitable<mcp::ToolOutcome> call(
      std::string exposed_name, std::string arguments,
      std::shared_ptr<providers::AbortSignal> abort = nullptr, const Approver* approver = nullptr);

  // The server offering `exposed_name` ("" for none), for metrics labels.
  std::string server_of(const std::string& exposed_name) const;
  std::vector<ServerStatus> status() const;
  // Servers that are configured and enabled but not ready, with why (for /health).
  std::map<std::string, std::string> problems() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon::tools
