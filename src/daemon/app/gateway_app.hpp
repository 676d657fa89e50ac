#pragma once

#include <memory>

#include "daemon/app/options.hpp"

namespace hermes::daemon {

// The daemon: loads the config, takes the instance lock, opens the state store and the
// listeners, tells systemd READY, then serves until a signal drains it. Returns the exit code
// (0 stop, 75 planned restart, 78 bad config or refused start). Throws only for the
// unexpected, which main() turns into exit 1.
int run_gateway(const Options& options);

}  // namespace hermes::daemon
