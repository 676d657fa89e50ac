#include "daemon/tools/server_log.hpp"

#include <spdlog/spdlog.h>

#include "daemon/tools/mcp_protocol.hpp"

namespace hermes::daemon::tools {

void log_server_message(const std::string& server, const nlohmann::json& params) {
  const auto line = mcp::read_server_log(params);
  using L = mcp::ServerLogLine::Level;
  switch (line.level) {
    case L::debug:
      spdlog::debug("mcp {}: {}", server, line.text);
      break;
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

}  // namespace hermes::daemon::tools
