#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "cli/verb_run.hpp"
#include "common/exit_codes.hpp"
#include "common/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "hermes: install, run and inspect the hermes gateway.\n"
      "Example: hermes gateway run",
      "hermes"};
  app.set_version_flag("--version", std::string(hermes::kVersion));
  app.require_subcommand(1);
  auto* gateway = app.add_subcommand("gateway", "Manage the hermes-gateway daemon");
  gateway->require_subcommand(1);
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
