// `hermes gateway logs [-f] [--since T] [-n N]`: the unit's journal.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "cli/command_runner.hpp"
#include "cli/scope.hpp"
#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"

namespace hermes::cli {

namespace {

struct LogsOptions {
  bool system = false;
  bool follow = false;
  std::string since;
  int lines = 50;
};

std::vector<std::string> logs_command(const LogsOptions& options, Scope scope) {
  std::vector<std::string> args{"-n", std::to_string(options.lines)};
  if (!options.since.empty()) args.insert(args.end(), {"--since", options.since});
  if (options.follow) args.emplace_back("-f");
  return journalctl_command(scope, args);
}

int run_logs(const LogsOptions& options) {
  const Scope scope = options.system ? Scope::system : Scope::user;
  auto command = logs_command(options, scope);
  if (options.follow) {
    // Following never ends by itself: hand the terminal to journalctl.
    std::vector<char*> argv;
    for (auto& a : command) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::cerr << "cannot run journalctl\n";
    return kExitFailure;
  }
  const auto result = run_command(command);
  const bool empty = result.out.find_first_not_of(" \n") == std::string::npos ||
                     result.out.starts_with("-- No entries --");
  if (empty) {
    std::cout << "No log entries for hermes-gateway"
              << (options.since.empty() ? "" : " since " + options.since) << " in the "
              << (scope == Scope::user ? "user" : "system") << " journal.";
    if (!result.err.empty())
      std::cout << " (journalctl: " << result.err.substr(0, result.err.find('\n')) << ")";
    std::cout << '\n';
    return result.exit_code;
  }
  std::cout << result.out;
  std::cerr << result.err;
  return result.exit_code;
}

}  // namespace

void setup_logs(CLI::App& gateway) {
  auto options = std::make_shared<LogsOptions>();
  auto* verb = gateway.add_subcommand("logs",
                                      "Show the gateway's journal (journalctl -u hermes-gateway).\n"
                                      "Example: hermes gateway logs -f --since '10 min ago'");
  add_scope_flag(*verb, options->system);
  verb->add_flag("-f,--follow", options->follow, "Keep printing new entries");
  verb->add_option("--since", options->since, "Only entries since this time, e.g. '2 min ago'");
  verb->add_option("-n,--lines", options->lines, "How many recent entries")->capture_default_str();
  verb->callback([options] { throw CLI::RuntimeError(run_logs(*options)); });
}

}  // namespace hermes::cli
