#include "common/runtime_status.hpp"

#include <chrono>

namespace hermes {

double unix_time_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// value() with defaults, so an older or newer daemon's JSON still reads.
void to_json(nlohmann::json& j, const PlatformStatus& p) {
  j = {{"name", p.name},
       {"state", p.state},
       {"detail", p.detail},
       {"last_event_at", p.last_event_at},
       {"last_delivery_at", p.last_delivery_at},
       {"abandoned", p.abandoned},
       {"silence_limit_seconds", p.silence_limit_seconds}};
}
void from_json(const nlohmann::json& j, PlatformStatus& p) {
  p.name = j.value("name", "");
  p.state = j.value("state", "");
  p.detail = j.value("detail", "");
  p.last_event_at = j.value("last_event_at", 0.0);
  p.last_delivery_at = j.value("last_delivery_at", 0.0);
  p.abandoned = j.value("abandoned", 0L);
  p.silence_limit_seconds = j.value("silence_limit_seconds", 0.0);
}
void to_json(nlohmann::json& j, const ProviderCooldown& c) {
  j = {{"provider", c.provider},
       {"key_index", c.key_index},
       {"reason", c.reason},
       {"seconds_left", c.seconds_left}};
}
void from_json(const nlohmann::json& j, ProviderCooldown& c) {
  c.provider = j.value("provider", "");
  c.key_index = j.value("key_index", 0);
  c.reason = j.value("reason", "");
  c.seconds_left = j.value("seconds_left", 0.0);
}
void to_json(nlohmann::json& j, const McpServerStatus& m) {
  j = {{"name", m.name}, {"state", m.state}, {"tools", m.tools}, {"last_error", m.last_error}};
}
void from_json(const nlohmann::json& j, McpServerStatus& m) {
  m.name = j.value("name", "");
  m.state = j.value("state", "");
  m.tools = j.value("tools", 0L);
  m.last_error = j.value("last_error", "");
}
void to_json(nlohmann::json& j, const RuntimeStatus& s) {
  j = {{"state", s.state},
       {"pid", s.pid},
       {"version", s.version},
       {"uptime_seconds", s.uptime_seconds},
       {"sessions", s.sessions},
       {"active_runs", s.active_runs},
       {"drain_seconds_left", s.drain_seconds_left},
       {"last_config_error", s.last_config_error},
       {"platforms", s.platforms},
       {"provider_cooldowns", s.provider_cooldowns},
       {"mcp_servers", s.mcp_servers},
       {"builtin_tools", s.builtin_tools},
       {"next_job", s.next_job},
       {"next_job_at", s.next_job_at},
       {"failed_runs_today", s.failed_runs_today},
       {"dashboard_url", s.dashboard_url}};
}
void from_json(const nlohmann::json& j, RuntimeStatus& s) {
  s.state = j.value("state", "");
  s.pid = j.value("pid", 0L);
  s.version = j.value("version", "");
  s.uptime_seconds = j.value("uptime_seconds", 0.0);
  s.sessions = j.value("sessions", 0L);
  s.active_runs = j.value("active_runs", 0L);
  s.drain_seconds_left = j.value("drain_seconds_left", 0.0);
  s.last_config_error = j.value("last_config_error", "");
  s.next_job = j.value("next_job", "");
  s.next_job_at = j.value("next_job_at", 0.0);
  s.failed_runs_today = j.value("failed_runs_today", 0L);
  s.dashboard_url = j.value("dashboard_url", "");
  if (auto it = j.find("platforms"); it != j.end() && it->is_array()) {
    s.platforms = it->get<std::vector<PlatformStatus>>();
  }
  if (auto it = j.find("provider_cooldowns"); it != j.end() && it->is_array()) {
    s.provider_cooldowns = it->get<std::vector<ProviderCooldown>>();
  }
  if (auto it = j.find("builtin_tools"); it != j.end() && it->is_object()) {
    s.builtin_tools = it->get<McpServerStatus>();
  }
  if (auto it = j.find("mcp_servers"); it != j.end() && it->is_array()) {
    s.mcp_servers = it->get<std::vector<McpServerStatus>>();
  }
}

}  // namespace hermes
