#include "daemon/tools/server_log.hpp"

#include <spdlog/spdlog.h>

#include "daemon/tools/mcp_protocol.hpp"

namespace hermes::daemon::tools {

namespace {

// Whether a line of `server` may be logged now; first says how many were held back.
bool admitted(const std::string& server, LogLimiter& limiter) {
  const auto verdict = limiter.admit(LogLimiter::Clock::now());
  if (verdict.suppressed > 0) {
    spdlog::warn("mcp {}: {} lines from server {} suppressed (it logs faster than 10 a second)",
                 server, verdict.suppressed, server);
  }
  return verdict.log;
}

}  // namespace

void log_server_message(const std::string& server, const nlohmann::json& params,
                        LogLimiter& limiter) {
  const auto line = mcp::read_server_log(params);
  using L = mcp::ServerLogLine::Level;
  if (line.level == L::debug) {
    spdlog::debug("mcp {}: {}", server, line.text);  // not written unless -v: not limited
    return;
  }
  if (!admitted(server, limiter)) return;
  switch (line.level) {
    case L::debug:
    case L::info:
      spdlog::info("mcp {}: {}", server, line.text);
      break;
    case L::warning:
      spdlog::warn("mcp {}: {}", server, line.text);
      break;
    case L::error:
      spdlog::error("mcp {}: {}", server, line.text);
      break;
  }
}

void log_server_line(const std::string& server, std::string_view line, LogLimiter& limiter) {
  if (!admitted(server, limiter)) return;
  spdlog::info("mcp {}: {}", server, line.substr(0, 2000));
}

}  // namespace hermes::daemon::tools
