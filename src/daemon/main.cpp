#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/exit_codes.hpp"
#include "common/logging.hpp"
#include "common/version.hpp"
#include "daemon/app/check_config.hpp"
#include "daemon/app/cron_cmd.hpp"
#include "daemon/app/gateway_app.hpp"
#include "daemon/app/mcp_probe.hpp"
#include "daemon/app/options.hpp"
#include "daemon/app/usage_report_cmd.hpp"
#include "daemon/lifecycle/descriptor_limit.hpp"
#include "daemon/lifecycle/early_signals.hpp"

int main(int argc, char** argv) {
  hermes::daemon::hold_early_signals();  // first: a stop that comes during start-up still drains
  hermes::daemon::raise_descriptor_limit();
  hermes::daemon::Options options;
  CLI::App app{
      "hermes-gateway: runs LLM agent chat sessions for chat platforms and OpenAI-compatible "
      "clients.\nUsually started by systemd (see `hermes gateway install`).\n\n"
      "Example: hermes-gateway --check-config --home ~/.hermes",
      "hermes-gateway"};
  app.set_version_flag("--version", std::string(hermes::kVersion));
  app.add_option("--home", options.home,
                 "Hermes home directory (default: $HERMES_HOME or ~/.hermes)");
  app.add_option("--config", options.config, "Config file (default: HOME/config.yaml)");
  app.add_flag("--check-config", options.check_config,
               "Validate the config, print what is wrong, exit 0 (valid) or 78 (invalid)");
  app.add_flag("-v,--verbose", options.verbose, "Log debug details");
  app.add_option("--test-mcp", options.probe_mcp,
                 "Start the MCP server NAME of the config alone, list its tools, stop it; exit 0 "
                 "(ready) or 1 (failed). Example: hermes-gateway --test-mcp files");
  app.add_flag("--usage", options.usage,
               "Print token and cost totals from state.db (running or not) and exit. Example: "
               "hermes-gateway --usage --since 7d --by day");
  app.add_option("--since", options.usage_since,
                 "With --usage: from when (24h, 7d, 2026-12-01, …; default: this month)");
  app.add_option("--by", options.usage_by,
                 "With --usage: provider, model (default), session or day");
  app.add_flag("--json", options.usage_json, "With --usage: print JSON");
  // --cron VERB …: everything after it is the cron command's own (hermes cron passes it on).
  std::optional<std::vector<std::string>> cron_args;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) != "--cron") continue;
    cron_args.emplace(argv + i + 1, argv + argc);
    argc = i;
    break;
  }
  app.footer(
      "--cron VERB …: scheduled jobs in the state store (list, add, pause, resume, remove, run, "
      "history), as `hermes cron` runs it.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (options.check_config)
      return hermes::daemon::run_check_config(options, std::cout, std::cerr);
    if (options.usage) return hermes::daemon::run_usage_report(options, std::cout, std::cerr);
    if (cron_args) {
      return hermes::daemon::run_cron_command(options, *cron_args, std::cout, std::cerr);
    }
    hermes::init_logging(options.verbose);
    if (options.probe_mcp)
      return hermes::daemon::run_mcp_probe(options, *options.probe_mcp, std::cout, std::cerr);
    return hermes::daemon::run_gateway(options);
  } catch (const std::exception& e) {
    std::cerr << "<2>hermes-gateway: fatal: " << e.what() << '\n';
    return hermes::kExitFailure;
  }
}
