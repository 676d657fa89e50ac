#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/providers/abort_signal.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::builtin {

inline constexpr std::size_t kTerminalOutputCap = 100 * 1024;  // like an MCP tool's result

// How one terminal command runs: `bash -c COMMAND`, in the sandbox launcher when `sandbox`
// names it (its options first, then "--", then bash), else unconfined in the workspace.
struct TerminalLaunch {
  std::string sandbox;  // the hermes-sandbox program; "" = sandbox: off
  std::vector<std::string> sandbox_options;
  std::string workspace;
  std::vector<std::string> environment;  // NAME=value, all the command gets
  std::chrono::milliseconds timeout{180'000};
};

struct TerminalOutcome {
  bool started = false;
  std::string output;  // stdout and stderr as they interleaved, at most kTerminalOutputCap
  bool truncated = false;
  int exit_status = -1;  // when it exited
  int signal = 0;        // when a signal ended it
  bool timed_out = false;
  bool cancelled = false;  // the turn was stopped
  std::chrono::milliseconds took{0};
  std::string start_error;  // when !started
};

// Exit status of the launcher when it could not confine the command (its stderr says why).
inline constexpr int kSandboxRefused = 126;

// Runs the command; the timeout or the abort ends its whole process group (SIGKILL), and
// whatever of the group outlives its leader is ended with it.
boost::asio::awaitable<TerminalOutcome> run_terminal(boost::asio::io_context& io,
                                                     TerminalLaunch launch, std::string command,
                                                     std::shared_ptr<providers::AbortSignal> abort);

// The text the model reads: the output, then one line saying how the command ended.
std::string terminal_result_text(const TerminalOutcome& outcome, std::chrono::milliseconds timeout);

}  // namespace hermes::daemon::builtin
