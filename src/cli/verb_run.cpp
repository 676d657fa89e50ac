#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/daemon_locator.hpp"
#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"

namespace hermes::cli {

namespace {

struct RunOptions {
  std::vector<std::string> daemon_args;
};

[[noreturn]] void run_daemon(const RunOptions& options) {
  exec_daemon(options.daemon_args);
}

}  // namespace

void setup_run(CLI::App& gateway) {
  auto options = std::make_shared<RunOptions>();
  auto* run = gateway.add_subcommand("run",
                                     "Run the gateway daemon in the foreground (Ctrl-C stops it).\n"
                                     "Arguments after -- go to hermes-gateway.\n"
                                     "Example: hermes gateway run -- --home ~/.hermes -v");
  run->add_option("args", options->daemon_args, "Arguments passed to hermes-gateway");
  run->callback([options] { run_daemon(*options); });
}

}  // namespace hermes::cli
