#pragma once

#include <CLI/CLI.hpp>

namespace hermes::cli {

// One `hermes gateway <verb>` each; every setup adds the subcommand, its options and help.
void setup_install(CLI::App& gateway);
void setup_uninstall(CLI::App& gateway);
void setup_start(CLI::App& gateway);
void setup_stop(CLI::App& gateway);
void setup_restart(CLI::App& gateway);
void setup_status(CLI::App& gateway);
void setup_logs(CLI::App& gateway);
void setup_cooldowns(CLI::App& gateway);
void setup_run(CLI::App& gateway);
void setup_usage(CLI::App& gateway);
// `hermes mcp list|test`: the MCP tool servers.
void setup_mcp(CLI::App& app);
void setup_cron(CLI::App& app);

// Adds --system (switch from the user manager to the system manager).
void add_scope_flag(CLI::App& verb, bool& system);

}  // namespace hermes::cli
