#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hermes {

// The daemon's own view, served as JSON on its local status socket and shown by
// `hermes gateway status`. Both sides use this schema.
struct PlatformStatus {
  std::string name;    // "api_server", "telegram"
  std::string state;   // "running", "stopped", "error"
  std::string detail;  // e.g. "127.0.0.1:8642" or the last error
};

struct ProviderCooldown {
  std::string provider;
  int key_index = 0;  // position in the pool; keys themselves are never shown
  std::string reason;
  double seconds_left = 0;
};

// One configured MCP server (`mcp_servers` in the JSON).
struct McpServerStatus {
  std::string name;
  std::string state;  // starting | ready | error | stopped
  long tools = 0;
  std::string last_error;
};

struct RuntimeStatus {
  std::string state;  // starting | serving | draining | stopped
  long pid = 0;
  std::string version;
  double uptime_seconds = 0;
  long sessions = 0;
  long active_runs = 0;
  double drain_seconds_left = 0;  // while draining
  std::string last_config_error;  // empty when the last load or reload succeeded
  std::vector<PlatformStatus> platforms;
  std::vector<ProviderCooldown> provider_cooldowns;
  std::vector<McpServerStatus> mcp_servers;
};

void to_json(nlohmann::json& j, const PlatformStatus& p);
void from_json(const nlohmann::json& j, PlatformStatus& p);
void to_json(nlohmann::json& j, const ProviderCooldown& c);
void from_json(const nlohmann::json& j, ProviderCooldown& c);
void to_json(nlohmann::json& j, const McpServerStatus& m);
void from_json(const nlohmann::json& j, McpServerStatus& m);
void to_json(nlohmann::json& j, const RuntimeStatus& s);
void from_json(const nlohmann::json& j, RuntimeStatus& s);

}  // namespace hermes
