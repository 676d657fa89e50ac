// `hermes gateway install` and `hermes gateway uninstall`.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

#include "cli/daemon_locator.hpp"
#include "cli/messages.hpp"
#include "cli/restart_flow.hpp"
#include "cli/runtime_client.hpp"
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

// The hermes-gateway the unit will run; nothing (and why, said) when there is none to use.
std::optional<std::filesystem::path> daemon_to_install(const InstallOptions& options,
                                                       Output& output) {
  const auto daemon = locate_daemon();
  if (!daemon) {
    output.line(
        "⚠ hermes-gateway was not found beside hermes or on PATH; build or install it first.");
    return std::nullopt;
  }
  if (in_build_tree(*daemon) && !options.from_build_tree) {
    output.line("⚠ " + daemon->string() + " is inside a build folder; a rebuild or a clean");
    output.line("  would break the service. Install the binaries first (scripts/install.sh puts");
    output.line("  them in /usr/local/bin) and run that hermes, or pass --from-build-tree to use");
    output.line("  this one anyway (for development).");
    return std::nullopt;
  }
  return daemon;
}

std::filesystem::path install_home(const InstallOptions& options) {
  const auto home = options.home.empty() ? std::nullopt : std::optional<std::string>(options.home);
  const HomePaths paths = resolve_home(home, std::nullopt);
  return std::filesystem::absolute(paths.home);
}

// Refuses to install a unit that would fail at once on its config.
bool config_is_valid(const std::filesystem::path& daemon, const std::filesystem::path& home,
                     Output& output) {
  const auto check = run_command({daemon.string(), "--check-config", "--home", home.string()});
  if (check.exit_code == 0) return true;
  output.line("⚠ The config is not valid; nothing was installed:");
  std::istringstream lines(check.err);
  for (std::string line; std::getline(lines, line);) output.line("  " + line);
  return false;
}

// The unit file this install writes, and what it held before (restored if a later step fails).
struct UnitFile {
  std::filesystem::path path;
  std::optional<std::string> previous;
};

// Remembers what the file holds now; false when that differs from `unit` and --force is absent.
bool may_replace_existing(UnitFile& file, const std::string& unit, const InstallOptions& options,
                          Output& output) {
  std::error_code ec;
  if (!std::filesystem::exists(file.path, ec)) return true;
  const std::string existing = read_file(file.path);
  file.previous = existing;
  if (existing == unit || options.force) return true;
  output.line("⚠ " + file.path.string() + " exists and differs from the unit this would write.");
  output.line("  Replace it with: hermes gateway install --force" +
              std::string(options.system ? " --system" : ""));
  return false;
}

// Writes and closes the file; false when the write failed.
bool write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

bool write_unit_file(const UnitFile& file, const std::string& unit, Output& output) {
  std::error_code ec;
  std::filesystem::create_directories(file.path.parent_path(), ec);
  if (!write_text(file.path, unit)) {
    output.line("⚠ Cannot write " + file.path.string() + " (check permissions).");
    return false;
  }
  output.line("✓ Wrote " + file.path.string());
  return true;
}

// Undoes what this install wrote, so no half-installed unit is left behind; returns the line
// that says so.
std::string undo_unit_write(const UnitFile& file) {
  std::error_code ec;
  if (file.previous) {
    std::ofstream restore(file.path);
    restore << *file.previous;
    return "  Restored the previous " + file.path.string() + "; nothing changed.";
  }
  std::filesystem::remove(file.path, ec);
  return "  Removed " + file.path.string() + " again; nothing is installed.";
}

// daemon-reload, then enable; on a failure the unit file is put back as it was.
bool enable_unit(SystemdServiceControl& control, Scope scope, const UnitFile& file,
                 Output& output) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"daemon-reload"}, std::vector<std::string>{"enable", kUnitName}}) {
    const auto result = control.systemctl(args);
    if (result.exit_code == 0) continue;
    const auto detail = result.err.substr(0, result.err.find('\n'));
    const std::string undone = undo_unit_write(file);
    output.line("⚠ systemctl " + args.front() + " failed: " + detail);
    output.line(undone);
    if (!control.show().reachable()) {
      for (const auto& line : unreachable_manager_lines(scope, detail)) output.line(line);
    }
    return false;
  }
  output.line("✓ Enabled " + std::string(kUnitName));
  return true;
}

// Starts the unit (restarts it when it already runs) and waits until it is active.
int start_unit(Scope scope, SystemdServiceControl& control, Output& output) {
  output.progress("⏳ Starting " + service_label(scope) + "...");
  const bool was_active = control.show().active();
  control.systemctl({was_active ? "restart" : "start", kUnitName});
  RestartOptions wait{scope, std::chrono::seconds(0), std::chrono::seconds(60)};
  return wait_until_active(wait, control, output, 0, "start");
}

int run_install(const InstallOptions& options) {
  Output output = Output::for_stdout();
  const Scope scope = options.system ? Scope::system : Scope::user;
  const auto daemon = daemon_to_install(options, output);
  if (!daemon) return kExitFailure;
  const auto home = install_home(options);
  if (!config_is_valid(*daemon, home, output)) return kExitFailure;

  const std::string unit = render_unit(*daemon, home, scope);
  UnitFile file{unit_directory(scope) / kUnitName, std::nullopt};
  if (!may_replace_existing(file, unit, options, output)) return kExitFailure;
  if (!write_unit_file(file, unit, output)) return kExitFailure;
  SystemdServiceControl control(scope);
  if (!enable_unit(control, scope, file, output)) return kExitFailure;
  if (scope == Scope::user) report_linger(output);
  if (options.no_start) return kExitOk;
  return start_unit(scope, control, output);
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
  // Chat platforms whose sessions outlive a stop (Discord's) end them at this one: nothing
  // will resume them. Best effort: a gateway that is not running has nothing to end.
  std::string unreachable;
  runtime_request(locate_runtime_socket(scope, control.show().main_pid), "end-platform-sessions",
                  unreachable);
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
