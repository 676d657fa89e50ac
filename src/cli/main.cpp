#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"
#include "common/version.hpp"

namespace {

// `hermes gateway <verb>` with every verb registered, added to `app`.
CLI::App& add_gateway_command(CLI::App& app) {
  auto* gateway = app.add_subcommand(
      "gateway",
      "Manage the hermes-gateway daemon (a systemd unit; --system for the system manager)");
  gateway->require_subcommand(1);
  hermes::cli::setup_install(*gateway);
  hermes::cli::setup_uninstall(*gateway);
  hermes::cli::setup_start(*gateway);
  hermes::cli::setup_stop(*gateway);
  hermes::cli::setup_restart(*gateway);
  hermes::cli::setup_status(*gateway);
  hermes::cli::setup_logs(*gateway);
  hermes::cli::setup_cooldowns(*gateway);
  hermes::cli::setup_run(*gateway);
  hermes::cli::setup_usage(*gateway);
  return *gateway;
}

bool is_verb(const CLI::App& gateway, std::string_view name) {
  for (const auto* verb : gateway.get_subcommands({})) {
    if (verb->get_name() == name) return true;
  }
  return false;
}

// "install, uninstall, …", in the order the verbs were registered.
std::string verb_list(const CLI::App& gateway) {
  std::string verbs;
  for (const auto* verb : gateway.get_subcommands({})) {
    verbs += (verbs.empty() ? "" : ", ") + verb->get_name();
  }
  return verbs;
}

// CLI11 would report these as "a subcommand is required"; name what is wrong instead.
// Returns the exit code when the command line is refused before parsing.
std::optional<int> reject_unknown_command(int argc, char** argv, const CLI::App& gateway) {
  if (argc >= 3 && std::string_view(argv[1]) == "gateway" && argv[2][0] != '-' &&
      !is_verb(gateway, argv[2])) {
    std::cerr << "hermes: unknown verb '" << argv[2]
              << "' for 'hermes gateway'; see: hermes gateway --help\n";
    return hermes::kExitUsage;
  }
  if (argc == 2 && std::string_view(argv[1]) == "gateway") {
    std::cerr << "hermes gateway needs a verb: " << verb_list(gateway)
              << "\nSee: hermes gateway --help\n";
    return hermes::kExitUsage;
  }
  if (argc >= 2 && argv[1][0] != '-' && std::string_view(argv[1]) != "gateway" &&
      std::string_view(argv[1]) != "mcp" && std::string_view(argv[1]) != "cron") {
    std::cerr << "hermes: unknown command '" << argv[1] << "'; see: hermes --help\n";
    return hermes::kExitUsage;
  }
  return std::nullopt;
}

// Parses and runs the chosen verb; verbs report their exit code by throwing CLI::RuntimeError.
int parse_and_run(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a verb's own exit code (0, 3, 4, ...)
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors exit 2 (as getopt tools do), saying what was wrong and where to look.
    std::cerr << "hermes: " << e.what() << "\nSee: hermes gateway --help\n";
    return hermes::kExitUsage;
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "hermes: " << e.what() << '\n';
    return hermes::kExitFailure;
  }
  return hermes::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "hermes: install, run and inspect the hermes gateway and its MCP tool servers.\n"
      "Example: hermes gateway restart",
      "hermes"};
  app.set_version_flag("--version", std::string(hermes::kVersion));
  app.require_subcommand(1);
  const CLI::App& gateway = add_gateway_command(app);
  hermes::cli::setup_mcp(app);
  hermes::cli::setup_cron(app);
  if (const auto refused = reject_unknown_command(argc, argv, gateway)) return *refused;
  return parse_and_run(app, argc, argv);
}
