// `hermes gateway status [--json]`: what systemd knows and what the daemon says of itself.
#include <time.h>

#include <chrono>
#include <iostream>
#include <memory>

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

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int run_status(const StatusOptions& options) {
  const Scope scope = options.system ? Scope::system : Scope::user;
  SystemdServiceControl control(scope);
  const UnitState unit = control.show();
  const int code = !unit.reachable()   ? kExitFailure
                   : !unit.installed() ? kExitNotInstalled
                   : unit.active()     ? kExitOk
                                       : kExitNotActive;
  std::string runtime_error;
  std::optional<RuntimeStatus> runtime;
  const auto socket = locate_runtime_socket(scope, unit.active() ? unit.main_pid : 0);
  if (unit.active()) runtime = read_runtime_status(socket, runtime_error);
  // A daemon run by hand (hermes gateway run, or in a terminal) for this home, outside systemd.
  std::optional<RuntimeStatus> foreground;
  if (!unit.active()) {
    std::string ignored;
    foreground = read_runtime_status(socket, ignored);
  }
  // A view from another process than systemd's MainPID is stale (e.g. a leftover daemon).
  const bool stale = runtime && unit.main_pid > 0 && runtime->pid != unit.main_pid;
  const unsigned long long uptime =
      unit.active() && unit.started_monotonic_usec > 0
          ? (monotonic_usec() - unit.started_monotonic_usec) / 1000000ULL
          : 0;

  if (options.json) {
    nlohmann::json out = {
        {"scope", scope == Scope::user ? "user" : "system"},
        {"installed", unit.installed()},
        {"manager_error", unit.manager_error},
        {"unit",
         {{"active_state", unit.active_state},
          {"sub_state", unit.sub_state},
          {"main_pid", unit.main_pid},
          {"uptime_seconds", uptime},
          {"memory_bytes", unit.memory_bytes},
          {"restarts", unit.restarts},
          {"status_text", unit.status_text},
          {"exec_main_status", unit.exec_main_status}}},
        {"runtime", runtime ? nlohmann::json(*runtime) : nlohmann::json(nullptr)},
        {"runtime_stale", stale},
        {"foreground", foreground ? nlohmann::json(*foreground) : nlohmann::json(nullptr)},
        {"runtime_error", runtime_error}};
    std::cout << out.dump(2) << '\n';
    return code;
  }

  Output output = Output::for_stdout();
  // One platform a line: each has its own liveness to show.
  const auto report_platforms = [&output](const RuntimeStatus& view) {
    const double now = unix_now();
    std::string label = "  Platforms:   ";
    for (const auto& p : view.platforms) {
      output.line(label + platform_line(p, now));
      label = "               ";
    }
    if (view.platforms.empty()) output.line(label + "none");
  };
  const auto report_foreground = [&] {
    if (!foreground) return;
    output.line("Gateway: " + foreground->state + " in the foreground, not under systemd (pid " +
                std::to_string(foreground->pid) + ", v" + foreground->version + ")");
    output.line("  Sessions:    " + std::to_string(foreground->sessions) +
                "   Active runs: " + std::to_string(foreground->active_runs));
    report_platforms(*foreground);
  };
  if (!unit.reachable()) {
    for (const auto& line : unreachable_manager_lines(scope, unit.manager_error)) {
      output.line(line);
    }
    report_foreground();
    return code;
  }
  if (!unit.installed()) {
    for (const auto& line : not_installed_lines(scope)) output.line(line);
    report_foreground();
    return code;
  }
  output.line(std::string(kUnitName) + " (" + (scope == Scope::user ? "user" : "system") +
              "): " + unit.active_state + " (" + unit.sub_state + ")");
  if (unit.main_pid > 0) output.line("  Main PID:  " + std::to_string(unit.main_pid));
  if (unit.active()) output.line("  Uptime:    " + format_duration(uptime));
  if (unit.memory_bytes > 0) output.line("  Memory:    " + format_bytes(unit.memory_bytes));
  output.line("  Restarts:  " + std::to_string(unit.restarts));
  // systemd keeps the last STATUS= after the process is gone: label it as the past.
  if (!unit.status_text.empty()) {
    output.line((unit.active() ? "  Status:    " : "  Last status: ") + unit.status_text);
  }
  if (unit.failed()) {
    output.line("  Last exit: status " + std::to_string(unit.exec_main_status) +
                (unit.exec_main_status == 78 ? " (invalid config or refused start)" : ""));
    output.line(where_to_look(scope).back());  // the logs; "check status" is this command
  }
  if (!unit.active()) {
    report_foreground();
    return code;
  }
  if (!runtime) {
    output.line("Gateway: not reachable (" + runtime_error + ")");
    return code;
  }
  output.line("Gateway: " + runtime->state + " (pid " + std::to_string(runtime->pid) + ", v" +
              runtime->version + ")" + (stale ? " — STALE: not the unit's MainPID" : ""));
  output.line("  Sessions:    " + std::to_string(runtime->sessions) +
              "   Active runs: " + std::to_string(runtime->active_runs));
  report_platforms(*runtime);
  std::string cooldowns;
  for (const auto& c : runtime->provider_cooldowns) {
    if (!cooldowns.empty()) cooldowns += ", ";
    cooldowns += c.provider + " key " + std::to_string(c.key_index + 1) + " (" + c.reason + ", " +
                 format_duration(static_cast<unsigned long long>(c.seconds_left)) + " left)";
  }
  output.line("  Cooldowns:   " + (cooldowns.empty() ? std::string("none") : cooldowns));
  if (!runtime->mcp_servers.empty()) {
    std::string servers;
    for (const auto& m : runtime->mcp_servers) {
      if (!servers.empty()) servers += ", ";
      servers += m.name + " " + m.state;
      if (m.state == "ready") servers += " (" + std::to_string(m.tools) + " tools)";
      if (!m.last_error.empty()) servers += " (" + m.last_error + ")";
    }
    output.line("  MCP servers: " + servers);
  }
  output.line("  Config:      " + (runtime->last_config_error.empty()
                                       ? std::string("ok")
                                       : "last reload failed: " + runtime->last_config_error));
  return code;
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
