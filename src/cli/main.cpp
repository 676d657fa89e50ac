#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"
#include "common/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "hermes: install, run and inspect the hermes gateway.\n"
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
  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "hermes: " << e.what() << '\n';
    return hermes::kExitFailure;
  }
  return hermes::kExitOk;
}
