#pragma once

#include <iosfwd>

#include "daemon/app/options.hpp"

namespace hermes::daemon {

// `hermes-gateway --check-config`: loads the config the daemon would load, prints every
// warning and error, and returns kExitOk or kExitConfig.
int run_check_config(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace hermes::daemon
