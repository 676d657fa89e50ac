#pragma once

#include <iosfwd>
#include <string>

#include "daemon/app/options.hpp"

namespace hermes::daemon {

// hermes-gateway --usage [--since T] [--by provider|model|session|day] [--json]: token and
// cost totals from state.db (the gateway may be running or not). Exit 0, 2 (bad option) or
// 1 (no readable state.db).
int run_usage_report(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace hermes::daemon
