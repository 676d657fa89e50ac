// hermes gateway usage: token and cost totals, read from state.db by the daemon binary.
#include "cli/daemon_locator.hpp"
#include "cli/verbs.hpp"

namespace hermes::cli {

namespace {

struct UsageOptions {
  std::string since;
  std::string by;
  bool json = false;
};

}  // namespace

void setup_usage(CLI::App& gateway) {
  auto options = std::make_shared<UsageOptions>();
  auto* verb = gateway.add_subcommand(
      "usage",
      "Tokens and cost of every provider call (retries, fallbacks and summaries included), from "
      "state.db, priced by pricing: in config.yaml.\nExample: hermes gateway usage --since 7d "
      "--by day");
  verb->add_option("--since", options->since,
                   "From when: 24h, 7d, 30m, 2026-12-01, 2026-12-01T10:00:00Z or unix seconds "
                   "(default: the start of this month, UTC)");
  verb->add_option("--by", options->by, "Group by provider, model (default), session or day")
      ->check(CLI::IsMember({"provider", "model", "session", "day"}));
  verb->add_flag("--json", options->json, "Print JSON (the shape of GET /v1/usage)");
  verb->callback([options] {
    std::vector<std::string> args{"--usage"};
    if (!options->since.empty()) args.insert(args.end(), {"--since", options->since});
    if (!options->by.empty()) args.insert(args.end(), {"--by", options->by});
    if (options->json) args.push_back("--json");
    exec_daemon(args);
  });
}

}  // namespace hermes::cli
