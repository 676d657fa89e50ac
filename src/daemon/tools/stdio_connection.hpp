#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/providers/abort_signal.hpp"
#include "daemon/tools/mcp_connection.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::tools {

struct StdioLaunch {
  std::string server;  // the configured name, for the log
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // added to PATH, HOME and LANG; nothing else
};

// One MCP server as a child process speaking JSON-RPC, one message per line, on its stdin and
// stdout: spawned without a shell in a process group of its own, with a minimal environment
// (the gateway's provider keys are never inherited) and every other descriptor closed. Its
// stderr goes to the log under the server's name. Requests the server sends are answered
// (ping) or refused with -32601. Loop-thread only.
class StdioConnection final : public McpConnection {
 public:
  // Null (and `error` set) when the program cannot be started.
  static std::shared_ptr<StdioConnection> spawn(boost::asio::io_context& io,
                                                const StdioLaunch& launch, std::string& error);
  ~StdioConnection() override;

  boost::asio::awaitable<RpcReply> call(
      std::string method, nlohmann::json params, std::chrono::milliseconds timeout,
      std::shared_ptr<providers::AbortSignal> abort = nullptr) override;
  void notify(std::string method, nlohmann::json params = nullptr) override;

  void set_handlers(NotificationHandler notified, ExitHandler exited) override;

  bool alive() const;
  int pid() const;
  // Ends the server: stdin closed, then SIGTERM to its group after 1 s, SIGKILL after 2 more.
  boost::asio::awaitable<void> stop() override;

  struct Impl;

 private:
  explicit StdioConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon::tools
