#include "daemon/app/check_config.hpp"

#include <unistd.h>

#include <cstdlib>
#include <ostream>
#include <string_view>

#include "common/config_loader.hpp"
#include "common/exit_codes.hpp"
#include "common/paths.hpp"
#include "daemon/cron/cron_config.hpp"

namespace hermes::daemon {

namespace {

// Where `command` would be run from: itself when it names a path, else the first executable
// of that name on PATH (as posix_spawnp looks). Empty when there is none.
std::string resolve_command(const std::string& command) {
  if (command.find('/') != std::string::npos) {
    return ::access(command.c_str(), X_OK) == 0 ? command : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string dir(dirs.substr(0, colon));
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + command;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// What the config check can tell of MCP servers without starting them.
std::vector<std::string> mcp_problems(const Config& config) {
  std::vector<std::string> problems;
  for (const auto& [name, server] : config.mcp_servers) {
    if (!server.enabled || server.command.empty()) continue;
    if (resolve_command(server.command).empty()) {
      problems.push_back("mcp_servers." + name + ".command: '" + server.command +
                         "' is not an executable file" +
                         (server.command.find('/') == std::string::npos ? " on PATH" : "") +
                         "; install it or fix the path (the server would stay in error)");
    }
  }
  return problems;
}

}  // namespace

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
  if (const auto problems = cron::cron_config_problems(config); !problems.empty()) {
    for (const auto& problem : problems) err << "error: " << problem << '\n';
    err << paths.config_file.string() << ": " << problems.size()
        << (problems.size() == 1 ? " error" : " errors") << "; the gateway will not start\n";
    return kExitConfig;
  }
  if (const auto problems = mcp_problems(config); !problems.empty()) {
    for (const auto& problem : problems) err << "error: " << problem << '\n';
    err << paths.config_file.string() << ": the gateway would start, but without the tools of "
        << problems.size() << " MCP server(s)\n";
    return kExitConfig;
  }
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
      << "  telegram: " << (config.gateway.telegram.enabled ? "enabled" : "disabled") << '\n'
      << "  discord: " << (config.gateway.discord.enabled ? "enabled" : "disabled") << '\n'
      << "  slack: " << (config.gateway.slack.enabled ? "enabled" : "disabled") << '\n'
      << "  mcp_servers: " << config.mcp_servers.size() << '\n';
  return kExitOk;
}

}  // namespace hermes::daemon
