#include "daemon/app/mcp_probe.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <ostream>

#include "common/config_loader.hpp"
#include "common/exit_codes.hpp"
#include "common/logging.hpp"
#include "common/paths.hpp"
#include "common/secrets.hpp"
#include "daemon/tools/mcp_server.hpp"
#include "daemon/tools/tool_names.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;

int run_mcp_probe(const Options& options, const std::string& name, std::ostream& out,
                  std::ostream& err) {
  const HomePaths paths = resolve_home(options.home, options.config);
  std::vector<std::string> env_warnings;
  const Environment env = Environment::from_process(paths.env_file, env_warnings);
  ConfigLoadResult result = load_config_file(paths.config_file, env);
  for (const auto& error : result.errors) err << "error: " << error << '\n';
  if (!result.config) return kExitConfig;
  const auto found = result.config->mcp_servers.find(name);
  if (found == result.config->mcp_servers.end()) {
    std::string known;
    for (const auto& [server, ignored] : result.config->mcp_servers) {
      known += (known.empty() ? "" : ", ") + server;
    }
    err << "error: no MCP server '" << name << "' in " << paths.config_file.string()
        << (known.empty() ? " (it has none)" : " (it has: " + known + ")") << '\n';
    return kExitConfig;
  }
  std::vector<std::string> secrets;
  for (const auto& [key, value] : found->second.env) secrets.push_back(value);
  for (const auto& [key, value] : found->second.headers) secrets.push_back(value);
  add_known_secrets(std::move(secrets));

  asio::io_context io;
  tools::McpServer server(io, found->second);
  const auto started = std::chrono::steady_clock::now();
  bool done = false;
  asio::co_spawn(io, server.start(), [&done](std::exception_ptr e) {
    log_exception(e, "MCP test");
    done = true;
  });
  while (!done && io.run_one() > 0) {
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  const bool ready = server.state() == tools::McpServer::State::ready;
  if (ready) {
    const auto tools = server.tools();
    out << "mcp " << name << ": ready in " << took.count() << " ms, " << tools.size()
        << " tool(s)\n";
    for (const auto& tool : tools) {
      out << "  " << tools::exposed_tool_name(name, tool.name) << "  "
          << mask_known_secrets(tool.description.substr(0, 100)) << '\n';
    }
  } else {
    err << "mcp " << name << ": failed after " << took.count()
        << " ms: " << mask_known_secrets(server.last_error()) << '\n';
  }
  bool stopped = false;
  asio::co_spawn(io, server.stop(), [&stopped](std::exception_ptr) { stopped = true; });
  while (!stopped && io.run_one() > 0) {
  }
  return ready ? kExitOk : kExitFailure;
}

}  // namespace hermes::daemon
