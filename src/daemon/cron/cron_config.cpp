#include "daemon/cron/cron_config.hpp"

#include "daemon/cron/delivery_target.hpp"
#include "daemon/cron/zone.hpp"
#include "daemon/webhooks/payload_template.hpp"

namespace hermes::daemon::cron {

std::vector<std::string> cron_config_problems(const Config& config) {
  std::vector<std::string> problems;
  if (auto zone = load_zone(config.cron.timezone); std::holds_alternative<std::string>(zone)) {
    problems.push_back(std::get<std::string>(zone));
  }
  for (const auto& [name, route] : config.webhook_routes) {
    const std::string path = "webhooks.routes." + name;
    if (auto error = webhooks::prompt_template_error(route.prompt)) {
      problems.push_back(path + ".prompt: " + *error);
    }
    auto target = parse_target(route.deliver);
    if (auto* error = std::get_if<std::string>(&target)) {
      problems.push_back(path + ".deliver: " + *error);
    } else if (const auto& t = std::get<DeliveryTarget>(target);
               (t.platform == "telegram" && !config.gateway.telegram.enabled) ||
               (t.platform == "discord" && !config.gateway.discord.enabled)) {
      problems.push_back(path + ".deliver: " + t.platform +
                         " is not enabled, so nothing could deliver there; enable it or "
                         "deliver elsewhere");
    }
  }
  return problems;
}

}  // namespace hermes::daemon::cron
