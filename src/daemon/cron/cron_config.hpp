#pragma once

#include <string>
#include <vector>

#include "common/config.hpp"
#include "daemon/cron/zone.hpp"

namespace hermes::daemon::cron {

// What the config loader cannot check alone about cron: and webhooks: (the time zone exists,
// each route's prompt is a usable template and its target a target): one sentence each.
std::vector<std::string> cron_config_problems(const Config& config);

// The zone cron.timezone names; UTC when it cannot be had (the config check refuses such a
// config, but a zone file may go after it), and then `problem` says why.
Zone configured_zone(const Config& config, std::string& problem);

}  // namespace hermes::daemon::cron
