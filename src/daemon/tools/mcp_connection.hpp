#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/providers/abort_signal.hpp"

namespace hermes::daemon::tools {

// How one JSON-RPC call ended.
struct RpcReply {
  bool ok = false;
  nlohmann::json result;
  std::string error;         // the server's JSON-RPC error, or what went wrong on our side
  bool timed_out = false;    // no answer within the call's timeout
  bool cancelled = false;    // the caller's abort signal fired
  bool unreachable = false;  // the server could not be reached at all (HTTP: refused, reset)
};

// A JSON-RPC link to one MCP server, whatever carries it (stdio, Streamable HTTP).
class McpConnection {
 public:
  virtual ~McpConnection() = default;

  virtual boost::asio::awaitable<RpcReply> call(
      std::string method, nlohmann::json params, std::chrono::milliseconds timeout,
      std::shared_ptr<providers::AbortSignal> abort = nullptr) = 0;
  virtual void notify(std::string method, nlohmann::json params = nullptr) = 0;

  using NotificationHandler =
      std::function<void(const std::string& method, const nlohmann::json& params)>;
  using ExitHandler = std::function<void(const std::string& why)>;
  // `notified`: server notifications (tools/list_changed, …). `exited`: called once when the
  // server is gone for good (a stdio server exited or crashed), with how it ended.
  virtual void set_handlers(NotificationHandler notified, ExitHandler exited) = 0;

  virtual boost::asio::awaitable<void> stop() = 0;
};

}  // namespace hermes::daemon::tools
