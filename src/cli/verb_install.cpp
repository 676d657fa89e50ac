// `hermes gateway install` and `hermes gateway uninstall`.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/daemon_locator.hpp"
#include "cli/messages.hpp"
#include "cli/restart_flow.hpp"
#include "cli/unit_template.hpp"
#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"
#include "common/paths.hpp"

namespace hermes::cli {

namespace {

struct InstallOptions {
  bool system = false;
  bool force = false;
  bool no_start = false;
  bool from_build_tree = false;
  std::string home;
};

// A binary inside a CMake build folder: a rebuild or `rm -rf build` would break the service.
bool in_build_tree(const std::filesystem::path& binary) {
  std::error_code ec;
  auto dir = binary.parent_path();
  for (int up = 0; up < 5 && !dir.empty() && dir != dir.root_path(); ++up) {
    if (std::filesystem::exists(dir / "CMakeCache.txt", ec)) return true;
    dir = dir.parent_path();
  }
  return false;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string current_user() {
  if (const char* user = std::getenv("USER"); user && *user) return user;
  return ::getuid() == 0 ? "root" : std::to_string(::getuid());
}

// User units stop at logout unless linger is on; say which it is and how to change it.
void report_linger(Output& output) {
  const std::string user = current_user();
  const auto result = run_command({"loginctl", "show-user", user, "-p", "Linger", "--value"});
  if (result.exit_code == 0 && result.out.starts_with("yes")) {
    output.line("  Linger is enabled: the gateway keeps running after you log out.");
    return;
  }
  if (result.exit_code == 0) {
    output.line("  Linger is off: the gateway stops when you log out. Keep it running with:");
  } else {
    output.line("  Could not check linger (loginctl: " +
                (result.err.empty() ? std::string("unavailable")
                                    : result.err.substr(0, result.err.find('\n'))) +
                "). To keep the gateway running after logout:");
  }
  output.line("    loginctl enable-linger " + user);
}

int run_install(const InstallOptions& options) {
  Output output = Output::for_stdout();
  const Scope scope = options.system ? Scope::system : Scope::user;
  const auto daemon = locate_daemon();
  if (!daemon) {
    output.line(
        "⚠ hermes-gateway was not found beside hermes or on PATH; build or install it first.");
    return kExitFailure;
  }
  if (in_build_tree(*daemon) && !options.from_build_tree) {
    output.line("⚠ " + daemon->string() + " is inside a build folder; a rebuild or a clean");
    output.line("  would break the service. Install the binaries first (scripts/install.sh puts");
    output.line("  them in /usr/local/bin) and run that hermes, or pass --from-build-tree to use");
    output.line("  this one anyway (for development).");
    return kExitFailure;
  }
  const HomePaths paths = resolve_home(
      options.home.empty() ? std::nullopt : std::optional<std::string>(options.home), std::nullopt);
  const auto home = std::filesystem::absolute(paths.home);

  // Refuse to install a unit that would fail at once on its config.
  const auto check = run_command({daemon->string(), "--check-config", "--home", home.string()});
  if (check.exit_code != 0) {
    output.line("⚠ The config is not valid; nothing was installed:");
    std::istringstream lines(check.err);
    for (std::string line; std::getline(lines, line);) output.line("  " + line);
    return kExitFailure;
  }

  const std::string unit = render_unit(*daemon, home, scope);
  const auto directory = unit_directory(scope);
  const auto file = directory / kUnitName;
  std::error_code ec;
  std::optional<std::string> previous;  // restored if a later step fails
  if (std::filesystem::exists(file, ec)) {
    const std::string existing = read_file(file);
    previous = existing;
    if (existing != unit && !options.force) {
      output.line("⚠ " + file.string() + " exists and differs from the unit this would write.");
      output.line("  Replace it with: hermes gateway install --force" +
                  std::string(options.system ? " --system" : ""));
      return kExitFailure;
    }
  }
  std::filesystem::create_directories(directory, ec);
  {
    std::ofstream out(file);
    out << unit;
    if (!out) {
      output.line("⚠ Cannot write " + file.string() + " (check permissions).");
      return kExitFailure;
    }
  }
  output.line("✓ Wrote " + file.string());

  SystemdServiceControl control(scope);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"daemon-reload"}, std::vector<std::string>{"enable", kUnitName}}) {
    const auto result = control.systemctl(args);
    if (result.exit_code != 0) {
      const auto detail = result.err.substr(0, result.err.find('\n'));
      // Undo what this install wrote, so no half-installed unit is left behind.
      if (previous) {
        std::ofstream restore(file);
        restore << *previous;
      } else {
        std::filesystem::remove(file, ec);
      }
      output.line("⚠ systemctl " + args.front() + " failed: " + detail);
      output.line(previous ? "  Restored the previous " + file.string() + "; nothing changed."
                           : "  Removed " + file.string() + " again; nothing is installed.");
      if (!control.show().reachable()) {
        for (const auto& line : unreachable_manager_lines(scope, detail)) output.line(line);
      }
      return kExitFailure;
    }
  }
  output.line("✓ Enabled " + std::string(kUnitName));
  if (scope == Scope::user) report_linger(output);
  if (options.no_start) return kExitOk;

  output.progress("⏳ Starting " + service_label(scope) + "...");
  const bool was_active = control.show().active();
  control.systemctl({was_active ? "restart" : "start", kUnitName});
  RestartOptions wait{scope, std::chrono::seconds(0), std::chrono::seconds(60)};
  return wait_until_active(wait, control, output, 0, "start");
}

int run_uninstall(bool system) {
  Output output = Output::for_stdout();
  const Scope scope = system ? Scope::system : Scope::user;
  SystemdServiceControl control(scope);
  const auto file = unit_directory(scope) / kUnitName;
  std::error_code ec;
  if (!control.show().installed() && !std::filesystem::exists(file, ec)) {
    output.line(service_label(scope) + " hermes-gateway is not installed; nothing to do.");
    return kExitOk;
  }
  output.progress("⏳ Stopping " + service_label(scope) + " (draining active work)...");
  control.systemctl({"stop", kUnitName});
  control.systemctl({"disable", kUnitName});
  std::filesystem::remove(file, ec);
  if (ec) {
    output.line("⚠ Cannot remove " + file.string() + ": " + ec.message());
    return kExitFailure;
  }
  control.systemctl({"daemon-reload"});
  output.line("✓ " + service_label(scope) + " uninstalled (removed " + file.string() + ")");
  return kExitOk;
}

}  // namespace

void setup_install(CLI::App& gateway) {
  auto options = std::make_shared<InstallOptions>();
  auto* verb = gateway.add_subcommand(
      "install",
      "Install hermes-gateway as a systemd unit, enable it and start it.\n"
      "The unit runs the hermes-gateway beside this hermes (or on PATH) with HERMES_HOME set.\n"
      "Example: hermes gateway install --home ~/.hermes");
  add_scope_flag(*verb, options->system);
  verb->add_flag("--force", options->force, "Replace an existing unit that differs");
  verb->add_flag("--no-start", options->no_start, "Install and enable, but do not start");
  verb->add_option("--home", options->home,
                   "Hermes home for the unit (default: $HERMES_HOME or ~/.hermes)");
  verb->add_flag("--from-build-tree", options->from_build_tree,
                 "Allow a hermes-gateway inside a build folder (development only)");
  verb->callback([options] { throw CLI::RuntimeError(run_install(*options)); });
}

void setup_uninstall(CLI::App& gateway) {
  auto system = std::make_shared<bool>(false);
  auto* verb = gateway.add_subcommand(
      "uninstall",
      "Stop (draining active work), disable and remove the unit, then daemon-reload.\n"
      "Your home (config, sessions) is left alone.\n"
      "Example: hermes gateway uninstall");
  add_scope_flag(*verb, *system);
  verb->callback([system] { throw CLI::RuntimeError(run_uninstall(*system)); });
}

}  // namespace hermes::cli
