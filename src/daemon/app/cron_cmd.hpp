#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "daemon/app/options.hpp"

namespace hermes::daemon {

// hermes-gateway [--home H] --cron VERB …: `hermes cron` on the state store, whether or not
// the gateway runs (a running one sees the change within a second).
//   list [--json] | add SCHEDULE PROMPT [--name N] [--deliver T] [--repeat N] [--model M]
//   pause|resume|remove|run ID | history ID [--json] [--limit N]
// Exit 0, 1 (the store cannot be used), 2 (usage), 4 (no such job).
int run_cron_command(const Options& options, const std::vector<std::string>& args,
                     std::ostream& out, std::ostream& err);

}  // namespace hermes::daemon
