#pragma once

#include <boost/asio/awaitable.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "common/config.hpp"
#include "daemon/providers/abort_signal.hpp"
#include "daemon/tools/mcp_protocol.hpp"
#include "daemon/tools/tool_registry.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {
class SessionStore;
}

namespace hermes::daemon::builtin {

// Whose call it is: the platform user (memory, session_search), the session, and the turn's
// stop signal and approver.
struct BuiltinCall {
  std::string user_key;  // "telegram-42"; "" where there is no platform user (the API server)
  std::string session_id;
  std::shared_ptr<providers::AbortSignal> abort;
  const tools::Approver* approver = nullptr;
};

// The agent's own tools (tools.builtin): terminal (in the kernel sandbox), the file tools
// (confined to the workspace), web_fetch, memory and session_search. Offered beside the MCP
// servers' tools, through the same loop, approvals, progress lines and cancellation.
class BuiltinTools {
 public:
  // `sessions` null: no session_search (tests of other parts).
  BuiltinTools(boost::asio::io_context& io, const Config& config, std::filesystem::path home,
               SessionStore* sessions);
  ~BuiltinTools();

  // Makes the workspace and asks the kernel (hermes-sandbox --check) whether it can confine
  // commands; the terminal refuses with the reason when it cannot.
  void start();
  void reconfigure(const Config& config);

  // The `tools` entries for a provider request, without the brackets ("" for none).
  const std::string& offered_entries() const;
  bool offers(const std::string& name) const;
  boost::asio::awaitable<tools::mcp::ToolOutcome> call(std::string name, std::string arguments,
                                                       BuiltinCall whose);
  // The memory block for a new session's system prompt ("" with memory off or empty).
  std::string memory_block(const std::string& user_key) const;
  // For status and /metrics: state ready, or error with why the terminal cannot run.
  tools::ServerStatus status() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// The sandbox launcher's path: hermes-sandbox beside the running executable.
std::filesystem::path sandbox_program();

}  // namespace hermes::daemon::builtin
