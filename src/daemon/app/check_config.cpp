#include "daemon/app/check_config.hpp"

#include <ostream>

#include "common/config_loader.hpp"
#include "common/exit_codes.hpp"
#include "common/paths.hpp"

namespace hermes::daemon {

int run_check_config(const Options& options, std::ostream& out, std::ostream& err) {
  const HomePaths paths = resolve_home(options.home, options.config);
  std::vector<std::string> env_warnings;
  const Environment env = Environment::from_process(paths.env_file, env_warnings);
  ConfigLoadResult result = load_config_file(paths.config_file, env);

  for (const auto& warning : env_warnings) err << "warning: " << warning << '\n';
  for (const auto& warning : result.warnings) err << "warning: " << warning << '\n';
  for (const auto& error : result.errors) err << "error: " << error << '\n';
  if (!result.config) {
    err << paths.config_file.string() << ": " << result.errors.size()
        << (result.errors.size() == 1 ? " error" : " errors") << "; the gateway will not start\n";
    return kExitConfig;
  }

  const Config& config = *result.config;
  const auto& api = config.gateway.api_server;
  out << "config OK: " << paths.config_file.string() << '\n'
      << "  model: " << config.model.default_model << " via " << config.model.provider << " ("
      << config.providers.at(config.model.provider).api_keys.size() << " key(s))\n"
      << "  fallbacks: " << config.fallback_providers.size() << '\n'
      << "  api_server: "
      << (api.enabled ? api.host + ":" + std::to_string(api.port) +
                            (api.key.empty() ? " (no key)" : " (key set)")
                      : std::string("disabled"))
      << '\n'
      << "  telegram: " << (config.gateway.telegram.enabled ? "enabled" : "disabled") << '\n';
  return kExitOk;
}

}  // namespace hermes::daemon
