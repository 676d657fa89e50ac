#include "cli/messages.hpp"

#include <algorithm>

#include "cli/unit_state.hpp"
#include "common/platform_health.hpp"

namespace hermes::cli {

std::string draining_line(Scope scope) {
  return "⏳ " + service_label(scope) + " draining active work...";
}

std::string waiting_line() {
  return "⏳ Waiting for hermes-gateway to restart...";
}

std::string restarted_line(Scope scope, int pid) {
  return "✓ " + service_label(scope) + " restarted (PID " + std::to_string(pid) + ")";
}

std::string not_active_within_line(Scope scope, std::chrono::seconds limit) {
  return "⚠ " + service_label(scope) + " did not become active within " +
         std::to_string(limit.count()) + "s.";
}

std::string not_drained_within_line(Scope scope, std::chrono::seconds limit) {
  return "⚠ " + service_label(scope) + " did not finish draining within " +
         std::to_string(limit.count()) + "s.";
}

std::string failed_line(Scope scope, const std::string& what, int exit_status) {
  std::string line = "⚠ " + service_label(scope) + " failed to " + what;
  if (exit_status == 78) {
    line += " (exit status 78: invalid config or refused start).";
  } else if (exit_status != 0) {
    line += " (exit status " + std::to_string(exit_status) + ").";
  } else {
    line += ".";
  }
  return line;
}

std::vector<std::string> where_to_look(Scope scope) {
  return {"  Check status: hermes gateway status" +
              std::string(scope == Scope::system ? " --system" : ""),
          std::string("  Check logs: journalctl ") + (scope == Scope::user ? "--user " : "") +
              "-u hermes-gateway --since '2 min ago'"};
}

std::vector<std::string> not_installed_lines(Scope scope) {
  return {service_label(scope) + " hermes-gateway is not installed.",
          "  Install it with: hermes gateway install" +
              std::string(scope == Scope::system ? " --system" : "")};
}

std::vector<std::string> unreachable_manager_lines(Scope scope, const std::string& detail) {
  if (scope == Scope::system) {
    return {"⚠ Cannot reach the system service manager (systemctl: " + detail + ").",
            "  Is systemd running (PID 1)? In a container without it, run the gateway in the "
            "foreground: hermes gateway run"};
  }
  return {"⚠ Cannot reach your user service manager (systemctl --user: " + detail + ").",
          "  Log in to a session (or enable lingering: loginctl enable-linger $USER) and make "
          "sure XDG_RUNTIME_DIR is set (e.g. /run/user/$(id -u));",
          "  or install it for the whole machine with --system, or run it in the foreground: "
          "hermes gateway run"};
}

std::string drain_progress_suffix(const std::string& status_text) {
  constexpr std::string_view kPrefix = "Draining: ";
  if (!status_text.starts_with(kPrefix)) return {};
  return " (" + status_text.substr(kPrefix.size()) + ")";
}

std::string platform_line(const PlatformStatus& platform, double now) {
  // A clock that stepped back shows "0s ago", not a huge unsigned number.
  const auto ago = [now](double at) {
    return format_duration(static_cast<unsigned long long>(std::max(0.0, now - at))) + " ago";
  };
  std::string line = platform.name + ": " + platform.state;
  if (!platform.detail.empty()) line += " (" + platform.detail + ")";
  if (platform.last_event_at > 0) line += ", last event " + ago(platform.last_event_at);
  if (platform.last_delivery_at > 0) line += ", last reply " + ago(platform.last_delivery_at);
  if (platform.abandoned > 0) {
    line += ", " + std::to_string(platform.abandoned) + " reply part" +
            (platform.abandoned == 1 ? "" : "s") + " abandoned";
  }
  // An error is already in the state and the detail; a silence is not.
  if (const auto health = platform_health(platform, now);
      health.condition == PlatformCondition::silent) {
    line += "; DEGRADED: " + health.problem;
  }
  return line;
}

}  // namespace hermes::cli
