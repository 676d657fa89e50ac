// `hermes gateway cooldowns [--clear]`: which keys and providers are resting after a failure,
// why and for how long, and (with --clear) forget them, e.g. after topping up a balance.
#include <iostream>
#include <memory>

#include "cli/messages.hpp"
#include "cli/output.hpp"
#include "cli/runtime_client.hpp"
#include "cli/scope.hpp"
#include "cli/unit_state.hpp"
#include "cli/verbs.hpp"
#include "common/exit_codes.hpp"

namespace hermes::cli {

namespace {

struct CooldownsOptions {
  bool system = false;
  bool clear = false;
  bool json = false;
};

int run_cooldowns(const CooldownsOptions& options) {
  const Scope scope = options.system ? Scope::system : Scope::user;
  std::string error;
  const auto answer = runtime_request(locate_runtime_socket(scope, 0),
                                      options.clear ? "clear-cooldowns" : "status", error);
  if (!answer) {
    std::cerr << "hermes: the gateway is not reachable (" << error
              << ").\nStart it with: hermes gateway start" << (options.system ? " --system" : "")
              << '\n';
    return kExitNotActive;
  }
  const auto status = answer->get<RuntimeStatus>();
  if (options.json) {
    nlohmann::json out = {{"provider_cooldowns", (*answer)["provider_cooldowns"]}};
    if (options.clear) out["cleared"] = answer->value("cleared", 0);
    std::cout << out.dump(2) << '\n';
    return kExitOk;
  }
  Output output = Output::for_stdout();
  if (options.clear) {
    output.line("Cleared " + std::to_string(answer->value("cleared", 0)) +
                " cooldown(s); the next turn calls the providers again.");
    return kExitOk;
  }
  if (status.provider_cooldowns.empty()) {
    output.line("No key or provider is cooling down.");
    return kExitOk;
  }
  for (const auto& c : status.provider_cooldowns) {
    output.line(c.provider + " key " + std::to_string(c.key_index + 1) + ": " + c.reason + ", " +
                format_duration(static_cast<unsigned long long>(c.seconds_left)) + " left");
  }
  output.line("Clear them (e.g. after a top-up) with: hermes gateway cooldowns --clear" +
              std::string(options.system ? " --system" : ""));
  return kExitOk;
}

}  // namespace

void setup_cooldowns(CLI::App& gateway) {
  auto options = std::make_shared<CooldownsOptions>();
  auto* verb = gateway.add_subcommand(
      "cooldowns",
      "Show the API keys resting after a failure (billing, auth, rate limit), why and for how\n"
      "long; --clear forgets them so the next turn calls the provider again (e.g. after a\n"
      "top-up). A billing wall is also retried on its own: after 5 min, doubling to 1 h.\n"
      "Exit codes: 0 done, 3 the gateway is not reachable.\n"
      "Example: hermes gateway cooldowns --clear");
  add_scope_flag(*verb, options->system);
  verb->add_flag("--clear", options->clear, "Forget every key cooldown and provider bench");
  verb->add_flag("--json", options->json, "Print JSON instead of text");
  verb->callback([options] { throw CLI::RuntimeError(run_cooldowns(*options)); });
}

}  // namespace hermes::cli
