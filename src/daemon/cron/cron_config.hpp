#pragma once

#include <string>
#include <vector>

#include "common/config.hpp"

namespace hermes::daemon::cron {

// What the config loader cannot check alone about cron: and webhooks: (the time zone exists,
// each route's prompt is a usable template and its target a target): one sentence each.
std::vector<std::string> cron_config_problems(const Config& config);

}  // namespace hermes::daemon::cron
