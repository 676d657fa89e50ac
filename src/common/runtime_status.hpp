#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace hermes {

// The wall clock in unix seconds, as the liveness times below are kept and judged.
double unix_time_now();

// The daemon's own view, served as JSON on its local status socket and shown by
// `hermes gateway status`. Both sides use this schema.
struct PlatformStatus {
  std::string name;  // "api_server", "telegram"
  // connecting | running | standby (another gateway holds the connection) | error, or
  // stopped | disabled.
  std::string state;
  std::string detail;  // e.g. "127.0.0.1:8642" or the last error
  // Liveness, in unix seconds (0 = none yet): the last sign of life from the platform's
  // server (an answered poll, even an empty one; any gateway frame), and the last reply
  // delivered to a chat.
  double last_event_at = 0;
  double last_delivery_at = 0;
  long abandoned = 0;  // reply parts that failed every attempt, kept to send later
  // How long without an event counts as silent while connected or polling (its own poll
  // timeout plus a margin); 0 = no limit.
  double silence_limit_seconds = 0;
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
  // The built-in tools (tools.builtin) as one entry named "builtin"; tools 0 when none are
  // offered; last_error says why the terminal or the workspace cannot be used.
  McpServerStatus builtin_tools;
  // Scheduled jobs: the one that fires next ("" none) and runs that failed or whose delivery
  // was given up on in the last 24 hours.
  std::string next_job;  // "a1b2c3d4 news"
  double next_job_at = 0;
  long failed_runs_today = 0;
  std::string dashboard_url;  // "" when the dashboard or the API server is off
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
