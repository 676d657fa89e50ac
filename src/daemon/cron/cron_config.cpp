#include "daemon/cron/cron_config.hpp"

#include "daemon/cron/delivery_target.hpp"
#include "daemon/cron/zone.hpp"
#include "daemon/webhooks/payload_template.hpp"

namespace hermes::daemon::cron {

std::vector<std::string> cron_config_problems(const Config& config) {
  std::vector<std::string> problems;
  if (std::string problem; configured_zone(config, problem), !problem.empty()) {
    problems.push_back(std::move(problem));
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

Zone configured_zone(const Config& config, std::string& problem) {
  auto loaded = load_zone(config.cron.timezone);
  if (auto* zone = std::get_if<Zone>(&loaded)) return std::move(*zone);
  problem = std::move(std::get<std::string>(loaded));
  return Zone::utc();
}

}  // namespace hermes::daemon::cron
