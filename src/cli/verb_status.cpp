// `hermes gateway status [--json]`: what systemd knows and what the daemon says of itself.
#include <time.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/messages.hpp"
#include "cli/output.hpp"
#include "cli/runtime_client.hpp"
#include "cli/service_control.hpp"
#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"

namespace hermes::cli {

namespace {

struct StatusOptions {
  bool system = false;
  bool json = false;
};

unsigned long long monotonic_usec() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
         static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
}

// Everything the report shows, gathered before anything is printed.
struct StatusSnapshot {
  Scope scope = Scope::user;
  UnitState unit;
  int code = kExitFailure;
  std::optional<RuntimeStatus> runtime;  // the unit's daemon, when the unit is active
  std::string runtime_error;             // why `runtime` is missing
  // A daemon run by hand (hermes gateway run, or in a terminal) for this home, outside systemd.
  std::optional<RuntimeStatus> foreground;
  bool stale = false;
  unsigned long long uptime = 0;
};

int exit_code_for(const UnitState& unit) {
  if (!unit.reachable()) return kExitFailure;
  if (!unit.installed()) return kExitNotInstalled;
  return unit.active() ? kExitOk : kExitNotActive;
}

unsigned long long uptime_seconds(const UnitState& unit) {
  if (!unit.active() || unit.started_monotonic_usec == 0) return 0;
  return (monotonic_usec() - unit.started_monotonic_usec) / 1000000ULL;
}

const char* scope_name(Scope scope) {
  return scope == Scope::user ? "user" : "system";
}

StatusSnapshot gather_status(Scope scope) {
  StatusSnapshot s;
  s.scope = scope;
  SystemdServiceControl control(scope);
  s.unit = control.show();
  s.code = exit_code_for(s.unit);
  const auto socket = locate_runtime_socket(scope, s.unit.active() ? s.unit.main_pid : 0);
  if (s.unit.active()) {
    s.runtime = read_runtime_status(socket, s.runtime_error);
  } else {
    std::string ignored;
    s.foreground = read_runtime_status(socket, ignored);
  }
  // A view from another process than systemd's MainPID is stale (e.g. a leftover daemon).
  s.stale = s.runtime && s.unit.main_pid > 0 && s.runtime->pid != s.unit.main_pid;
  s.uptime = uptime_seconds(s.unit);
  return s;
}

nlohmann::json json_or_null(const std::optional<RuntimeStatus>& view) {
  return view ? nlohmann::json(*view) : nlohmann::json(nullptr);
}

void print_json(const StatusSnapshot& s) {
  const UnitState& unit = s.unit;
  nlohmann::json out = {{"scope", scope_name(s.scope)},
                        {"installed", unit.installed()},
                        {"manager_error", unit.manager_error},
                        {"unit",
                         {{"active_state", unit.active_state},
                          {"sub_state", unit.sub_state},
                          {"main_pid", unit.main_pid},
                          {"uptime_seconds", s.uptime},
                          {"memory_bytes", unit.memory_bytes},
                          {"restarts", unit.restarts},
                          {"status_text", unit.status_text},
                          {"exec_main_status", unit.exec_main_status}}},
                        {"runtime", json_or_null(s.runtime)},
                        {"runtime_stale", s.stale},
                        {"foreground", json_or_null(s.foreground)},
                        {"runtime_error", s.runtime_error}};
  std::cout << out.dump(2) << '\n';
}

// One platform a line: each has its own liveness to show.
void report_platforms(Output& output, const RuntimeStatus& view) {
  const double now = unix_time_now();
  std::string label = "  Platforms:   ";
  for (const auto& p : view.platforms) {
    output.line(label + platform_line(p, now));
    label = "               ";
  }
  if (view.platforms.empty()) output.line(label + "none");
}

void report_sessions(Output& output, const RuntimeStatus& view) {
  output.line("  Sessions:    " + std::to_string(view.sessions) +
              "   Active runs: " + std::to_string(view.active_runs));
}

void report_foreground(Output& output, const std::optional<RuntimeStatus>& foreground) {
  if (!foreground) return;
  output.line("Gateway: " + foreground->state + " in the foreground, not under systemd (pid " +
              std::to_string(foreground->pid) + ", v" + foreground->version + ")");
  report_sessions(output, *foreground);
  report_platforms(output, *foreground);
}

// What systemd knows of the unit.
void report_unit(Output& output, const StatusSnapshot& s) {
  const UnitState& unit = s.unit;
  output.line(std::string(kUnitName) + " (" + scope_name(s.scope) + "): " + unit.active_state +
              " (" + unit.sub_state + ")");
  if (unit.main_pid > 0) output.line("  Main PID:  " + std::to_string(unit.main_pid));
  if (unit.active()) output.line("  Uptime:    " + format_duration(s.uptime));
  if (unit.memory_bytes > 0) output.line("  Memory:    " + format_bytes(unit.memory_bytes));
  output.line("  Restarts:  " + std::to_string(unit.restarts));
  // systemd keeps the last STATUS= after the process is gone: label it as the past.
  if (!unit.status_text.empty()) {
    output.line((unit.active() ? "  Status:    " : "  Last status: ") + unit.status_text);
  }
  if (unit.failed()) {
    output.line("  Last exit: status " + std::to_string(unit.exec_main_status) +
                (unit.exec_main_status == 78 ? " (invalid config or refused start)" : ""));
    output.line(where_to_look(s.scope).back());  // the logs; "check status" is this command
  }
}

std::string cooldowns_text(const RuntimeStatus& view) {
  std::string cooldowns;
  for (const auto& c : view.provider_cooldowns) {
    if (!cooldowns.empty()) cooldowns += ", ";
    cooldowns += c.provider + " key " + std::to_string(c.key_index + 1) + " (" + c.reason + ", " +
                 format_duration(static_cast<unsigned long long>(c.seconds_left)) + " left)";
  }
  return cooldowns.empty() ? std::string("none") : cooldowns;
}

std::string mcp_servers_text(const RuntimeStatus& view) {
  std::string servers;
  for (const auto& m : view.mcp_servers) {
    if (!servers.empty()) servers += ", ";
    servers += m.name + " " + m.state;
    if (m.state == "ready") servers += " (" + std::to_string(m.tools) + " tools)";
    if (!m.last_error.empty()) servers += " (" + m.last_error + ")";
  }
  return servers;
}

// "9 offered", or why the terminal or the workspace cannot be used; "off" with none offered.
std::string builtin_tools_text(const RuntimeStatus& view) {
  const auto& tools = view.builtin_tools;
  if (tools.tools == 0) return "off (tools.builtin)";
  std::string text = std::to_string(tools.tools) + " offered";
  if (!tools.last_error.empty()) text += "; " + tools.last_error;
  return text;
}

std::string jobs_text(const RuntimeStatus& view) {
  std::string text = "no job scheduled";
  if (!view.next_job.empty()) {
    const auto at = static_cast<std::time_t>(view.next_job_at);
    std::tm tm{};
    localtime_r(&at, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    text = "next " + view.next_job + " at " + when;
  }
  if (view.failed_runs_today > 0) {
    text += "; " + std::to_string(view.failed_runs_today) +
            " run(s) failed or undelivered in the last 24 h (hermes cron history ID)";
  }
  return text;
}

// What the unit's daemon says of itself.
void report_runtime(Output& output, const RuntimeStatus& runtime, bool stale) {
  output.line("Gateway: " + runtime.state + " (pid " + std::to_string(runtime.pid) + ", v" +
              runtime.version + ")" + (stale ? " — STALE: not the unit's MainPID" : ""));
  report_sessions(output, runtime);
  report_platforms(output, runtime);
  output.line("  Cooldowns:   " + cooldowns_text(runtime));
  if (!runtime.mcp_servers.empty()) output.line("  MCP servers: " + mcp_servers_text(runtime));
  if (!runtime.builtin_tools.name.empty()) {
    output.line("  Built-in:    " + builtin_tools_text(runtime));
  }
  output.line("  Jobs:        " + jobs_text(runtime));
  if (!runtime.dashboard_url.empty()) output.line("  Dashboard:   " + runtime.dashboard_url);
  output.line("  Config:      " + (runtime.last_config_error.empty()
                                       ? std::string("ok")
                                       : "last reload failed: " + runtime.last_config_error));
}

void print_text(const StatusSnapshot& s) {
  Output output = Output::for_stdout();
  if (!s.unit.reachable()) {
    for (const auto& line : unreachable_manager_lines(s.scope, s.unit.manager_error)) {
      output.line(line);
    }
    report_foreground(output, s.foreground);
    return;
  }
  if (!s.unit.installed()) {
    for (const auto& line : not_installed_lines(s.scope)) output.line(line);
    report_foreground(output, s.foreground);
    return;
  }
  report_unit(output, s);
  if (!s.unit.active()) {
    report_foreground(output, s.foreground);
  } else if (!s.runtime) {
    output.line("Gateway: not reachable (" + s.runtime_error + ")");
  } else {
    report_runtime(output, *s.runtime, s.stale);
  }
}

int run_status(const StatusOptions& options) {
  const StatusSnapshot snapshot = gather_status(options.system ? Scope::system : Scope::user);
  if (options.json) {
    print_json(snapshot);
  } else {
    print_text(snapshot);
  }
  return snapshot.code;
}

}  // namespace

void setup_status(CLI::App& gateway) {
  auto options = std::make_shared<StatusOptions>();
  auto* verb = gateway.add_subcommand(
      "status",
      "Show the unit (state, PID, uptime, memory, restarts, STATUS) and the daemon's own view\n"
      "(sessions, active runs, platforms, provider cooldowns, config errors).\n"
      "Exit codes: 0 active, 3 not active, 4 not installed, 1 no service manager reachable.\n"
      "Example: hermes gateway status --json");
  add_scope_flag(*verb, options->system);
  verb->add_flag("--json", options->json, "Print one JSON document instead of text");
  verb->callback([options] { throw CLI::RuntimeError(run_status(*options)); });
}

}  // namespace hermes::cli
