#include <unistd.h>

#include <cerrno>
#include <cstring>
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
  const auto daemon = locate_daemon();
  if (!daemon) {
    std::cerr << "hermes-gateway not found beside hermes or on PATH; build it or install it\n";
    throw CLI::RuntimeError(kExitFailure);
  }
  std::vector<std::string> args{daemon->string()};
  args.insert(args.end(), options.daemon_args.begin(), options.daemon_args.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv(daemon->c_str(), argv.data());
  std::cerr << "cannot run " << daemon->string() << ": " << std::strerror(errno) << '\n';
  throw CLI::RuntimeError(kExitFailure);
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
