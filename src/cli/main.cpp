#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string_view>

#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"
#include "common/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "hermes: install, run and inspect the hermes gateway and its MCP tool servers.\n"
      "Example: hermes gateway restart",
      "hermes"};
  app.set_version_flag("--version", std::string(hermes::kVersion));
  app.require_subcommand(1);
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
  hermes::cli::setup_mcp(app);
  // An unknown verb is named, not reported as "a subcommand is required".
  const auto is_verb = [gateway](std::string_view name) {
    for (const auto* verb : gateway->get_subcommands({})) {
      if (verb->get_name() == name) return true;
    }
    return false;
  };
  if (argc >= 3 && std::string_view(argv[1]) == "gateway" && argv[2][0] != '-' &&
      !is_verb(argv[2])) {
    std::cerr << "hermes: unknown verb '" << argv[2]
              << "' for 'hermes gateway'; see: hermes gateway --help\n";
    return hermes::kExitUsage;
  }
  if (argc == 2 && std::string_view(argv[1]) == "gateway") {
    std::string verbs;
    for (const auto* verb : gateway->get_subcommands({})) {
      verbs += (verbs.empty() ? "" : ", ") + verb->get_name();
    }
    std::cerr << "hermes gateway needs a verb: " << verbs << "\nSee: hermes gateway --help\n";
    return hermes::kExitUsage;
  }
  if (argc >= 2 && argv[1][0] != '-' && std::string_view(argv[1]) != "gateway" &&
      std::string_view(argv[1]) != "mcp") {
    std::cerr << "hermes: unknown command '" << argv[1] << "'; see: hermes --help\n";
    return hermes::kExitUsage;
  }
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
