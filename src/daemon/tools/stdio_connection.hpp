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

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::tools {

// How one JSON-RPC call ended.
struct RpcReply {
  bool ok = false;
  nlohmann::json result;
  std::string error;       // the server's JSON-RPC error, or what went wrong on our side
  bool timed_out = false;  // no answer within the call's timeout
  bool cancelled = false;  // the caller's abort signal fired
};

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
class StdioConnection : public std::enable_shared_from_this<StdioConnection> {
 public:
  // Null (and `error` set) when the program cannot be started.
  static std::shared_ptr<StdioConnection> spawn(boost::asio::io_context& io,
                                                const StdioLaunch& launch, std::string& error);
  ~StdioConnection();

  boost::asio::awaitable<RpcReply> call(std::string method, nlohmann::json params,
                                        std::chrono::milliseconds timeout,
                                        std::shared_ptr<providers::AbortSignal> abort = nullptr);
  void notify(std::string method, nlohmann::json params = nullptr);

  using NotificationHandler =
      std::function<void(const std::string& method, const nlohmann::json& params)>;
  using ExitHandler = std::function<void(const std::string& why)>;
  // `notified`: server notifications (tools/list_changed, …). `exited`: called once when the
  // server's stdout closes (it exited or crashed), with how it ended.
  void set_handlers(NotificationHandler notified, ExitHandler exited);

  bool alive() const;
  int pid() const;
  // Ends the server: stdin closed, then SIGTERM to its group after 1 s, SIGKILL after 2 more.
  boost::asio::awaitable<void> stop();

  struct Impl;

 private:
  explicit StdioConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon::tools
