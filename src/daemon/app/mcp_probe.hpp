#pragma once

#include <iosfwd>
#include <string>

#include "daemon/app/options.hpp"

namespace hermes::daemon {

// `hermes-gateway --test-mcp NAME` (what `hermes mcp test NAME` runs): starts that one server
// of the config alone, handshakes, lists its tools, prints the time taken and the tools (or
// the error), stops it. Exit 0 when it is ready, 1 when it failed, 78 for a bad config or an
// unknown name.
int run_mcp_probe(const Options& options, const std::string& name, std::ostream& out,
                  std::ostream& err);

}  // namespace hermes::daemon
