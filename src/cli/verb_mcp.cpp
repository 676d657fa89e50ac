
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/daemon_locator.hpp"
#include "cli/runtime_client.hpp"
#include "cli/verbs.hpp"
#include "common/config_loader.hpp"
#include "common/exit_codes.hpp"
#include "common/paths.hpp"

namespace hermes::cli {

namespace {

struct McpOptions {
  bool json = false;
  bool system = false;
  std::string name;
};

// The servers as the config has them, for when no gateway runs to ask.
std::vector<McpServerStatus> from_config(std::string& error) {
  const HomePaths paths = resolve_home(std::nullopt, std::nullopt);
  std::vector<std::string> warnings;
  const Environment env = Environment::from_process(paths.env_file, warnings);
  const auto loaded = load_config_file(paths.config_file, env);
  std::vector<McpServerStatus> servers;
  if (!loaded.config) {
    error =
        loaded.errors.empty() ? "cannot read " + paths.config_file.string() : loaded.errors.front();
    return servers;
  }
  for (const auto& [name, server] : loaded.config->mcp_servers) {
    servers.push_back({name, server.enabled ? "not running" : "disabled", 0,
                       server.url.empty() ? "stdio: " + server.command : "http: " + server.url});
  }
  return servers;
}

int list_servers(const McpOptions& options) {
  std::string runtime_error;
  const auto socket = locate_runtime_socket(options.system ? Scope::system : Scope::user, 0);
  const auto runtime = read_runtime_status(socket, runtime_error);
  std::string config_error;
  const auto servers = runtime ? runtime->mcp_servers : from_config(config_error);
  if (options.json) {
    std::cout << nlohmann::json{{"source", runtime ? "gateway" : "config"},
                                {"mcp_servers", servers}}
                     .dump(2)
              << '\n';
    return config_error.empty() ? kExitOk : kExitConfig;
  }
  if (!config_error.empty()) {
    std::cerr << "hermes: no gateway is running and the config cannot be read: " << config_error
              << '\n';
    return kExitConfig;
  }
  std::cout << (runtime ? "MCP servers of the running gateway (pid " +
                              std::to_string(runtime->pid) + "):\n"
                        : std::string("No gateway is running; MCP servers in the config:\n"));
  if (servers.empty()) std::cout << "  none (add them under mcp_servers: in config.yaml)\n";
  for (const auto& s : servers) {
    std::cout << "  " << s.name << "  " << s.state;
    if (s.state == "ready") std::cout << "  " << s.tools << " tool(s)";
    if (!s.last_error.empty()) std::cout << "  " << s.last_error;
    std::cout << '\n';
  }
  return kExitOk;
}

[[noreturn]] void test_server(const McpOptions& options) {
  exec_daemon({"--test-mcp", options.name});
}

}  // namespace

void setup_mcp(CLI::App& app) {
  auto options = std::make_shared<McpOptions>();
  auto* mcp = app.add_subcommand("mcp", "The gateway's MCP tool servers (mcp_servers: in config)");
  mcp->require_subcommand(1);
  auto* list = mcp->add_subcommand(
      "list",
      "Each MCP server with its state and tool count, from the running gateway, or from the "
      "config when none runs.\nExample: hermes mcp list --json");
  list->add_flag("--json", options->json, "Print JSON (key mcp_servers)");
  list->add_flag("--system", options->system, "Ask the gateway of the system manager");
  list->callback([options] {
    const int code = list_servers(*options);
    if (code != kExitOk) throw CLI::RuntimeError(code);
  });
  auto* test = mcp->add_subcommand(
      "test",
      "Start one MCP server of the config alone, handshake, list its tools, report the time and "
      "any error; exit 0 (ready) or 1 (failed).\nExample: hermes mcp test files");
  test->add_option("name", options->name, "The server's name under mcp_servers:")->required();
  test->callback([options] { test_server(*options); });
}

}  // namespace hermes::cli
