#include "daemon/tools/tool_registry.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/logging.hpp"
#include "daemon/providers/json_text.hpp"
#include "daemon/tools/mcp_server.hpp"
#include "daemon/tools/tool_names.hpp"

namespace hermes::daemon::tools {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// "" unless tools.max_tools left some of the server's tools out.
std::string cap_note(const McpServer& server) {
  const auto used = server.tools().size();
  if (server.tools_offered() <= used) return "";
  return "offers " + std::to_string(server.tools_offered()) + " tools; only the first " +
         std::to_string(used) + " are used (mcp_servers." + server.name() +
         ".tools.max_tools, or narrow tools.include)";
}

}  // namespace

struct ToolRegistry::Impl : std::enable_shared_from_this<ToolRegistry::Impl> {
  Impl(asio::io_context& io_context, const Config& config) : io(io_context) {
    for (const auto& [name, server] : config.mcp_servers) {
      if (server.enabled) servers.push_back(std::make_unique<McpServer>(io, server));
    }
    unattended_allow = config.approvals.unattended_allow;
  }

  struct Route {
    McpServer* server = nullptr;
    std::string tool;  // the server's own name for it
    bool needs_approval = false;
  };

  // Rebuilt whenever a server's state or tools change: names, routes and the JSON sent to
  // the provider with every call (built once here, not per call).
  void rebuild() {
    routes.clear();
    std::string tools = "[";
    for (const auto& server : servers) {
      for (const auto& tool : server->tools()) {
        const auto exposed = exposed_tool_name(server->name(), tool.name);
        if (const auto clash = routes.find(exposed); clash != routes.end()) {
          spdlog::error(
              "mcp: tool {} of {} and tool {} of {} are both offered as {}; only the "
              "first is offered (exclude one with tools.exclude)",
              clash->second.tool, clash->second.server->name(), tool.name, server->name(), exposed);
          continue;
        }
        const auto& approval = server->config().tools.require_approval;
        routes[exposed] = {
            server.get(), tool.name,
            std::find(approval.begin(), approval.end(), tool.name) != approval.end()};
        if (tools.size() > 1) tools += ',';
        tools += R"({"type":"function","function":{"name":)";
        providers::append_json_string(tools, exposed);
        tools += R"(,"description":)";
        providers::append_json_string(tools, tool.description);
        tools += R"(,"parameters":)";
        tools += tool.input_schema.dump(-1, ' ', false, json::error_handler_t::replace);
        tools += "}}";
      }
    }
    tools += "]";
    offered = routes.empty() ? std::string() : std::move(tools);
  }

  asio::io_context& io;
  std::vector<std::unique_ptr<McpServer>> servers;
  std::map<std::string, Route> routes;
  std::string offered;
  bool unattended_allow = false;
  std::size_t starting = 0;
};

ToolRegistry::ToolRegistry(asio::io_context& io, const Config& config)
    : impl_(std::make_shared<Impl>(io, config)) {
  for (auto& server : impl_->servers) {
    server->on_change([impl = impl_.get()] { impl->rebuild(); });
  }
}

ToolRegistry::~ToolRegistry() = default;

asio::awaitable<void> ToolRegistry::start() {
  auto impl = impl_;
  if (impl->servers.empty()) co_return;
  // One timer as the "all started" event: each server's first start ends by counting down.
  asio::steady_timer all_started(impl->io, asio::steady_timer::time_point::max());
  impl->starting = impl->servers.size();
  for (auto& server : impl->servers) {
    auto* raw = server.get();
    asio::co_spawn(impl->io, raw->start(), [impl, &all_started](std::exception_ptr e) {
      log_exception(e, "MCP start");
      if (--impl->starting == 0) all_started.cancel();
    });
  }
  co_await all_started.async_wait(asio::as_tuple(asio::use_awaitable));
  impl->rebuild();
}

asio::awaitable<void> ToolRegistry::stop() {
  auto impl = impl_;
  if (impl->servers.empty()) co_return;
  // Side by side: each may take its grace period to exit.
  asio::steady_timer all_stopped(impl->io, asio::steady_timer::time_point::max());
  std::size_t stopping = impl->servers.size();
  for (auto& server : impl->servers) {
    asio::co_spawn(impl->io, server->stop(), [&stopping, &all_stopped](std::exception_ptr e) {
      log_exception(e, "MCP stop");
      if (--stopping == 0) all_stopped.cancel();
    });
  }
  co_await all_stopped.async_wait(asio::as_tuple(asio::use_awaitable));
  impl->rebuild();
}

asio::awaitable<void> ToolRegistry::reconfigure(Config config) {
  auto impl = impl_;
  impl->unattended_allow = config.approvals.unattended_allow;
  std::vector<std::unique_ptr<McpServer>> kept, retired;
  for (auto& server : impl->servers) {
    const auto wanted = config.mcp_servers.find(server->name());
    const bool same = wanted != config.mcp_servers.end() && wanted->second.enabled &&
                      wanted->second == server->config();
    (same ? kept : retired).push_back(std::move(server));
  }
  std::vector<std::string> added;
  for (const auto& [name, server] : config.mcp_servers) {
    if (!server.enabled) continue;
    const bool running =
        std::any_of(kept.begin(), kept.end(), [&](const auto& s) { return s->name() == name; });
    if (running) continue;
    kept.push_back(std::make_unique<McpServer>(impl->io, server));
    kept.back()->on_change([raw = impl.get()] { raw->rebuild(); });
    added.push_back(name);
  }
  impl->servers = std::move(kept);
  impl->rebuild();
  for (auto& server : retired) {
    spdlog::info("mcp {}: stopping (removed, disabled or changed in the new config)",
                 server->name());
    co_await server->stop();
  }
  retired.clear();
  // Looked up again by name: the list may have changed while the old servers stopped.
  for (const auto& name : added) {
    for (auto& server : impl->servers) {
      if (server->name() != name) continue;
      asio::co_spawn(impl->io, server->start(),
                     [](std::exception_ptr e) { log_exception(e, "MCP start"); });
    }
  }
}

const std::string& ToolRegistry::offered_json() const {
  return impl_->offered;
}

bool ToolRegistry::empty() const {
  return impl_->routes.empty();
}

asio::awaitable<mcp::ToolOutcome> ToolRegistry::call(std::string exposed_name,
                                                     std::string arguments,
                                                     std::shared_ptr<providers::AbortSignal> abort,
                                                     const Approver* approver) {
  auto impl = impl_;
  mcp::ToolOutcome outcome;
  outcome.is_error = true;
  const auto route = impl->routes.find(exposed_name);
  if (route == impl->routes.end()) {
    outcome.text = "There is no tool named '" + exposed_name.substr(0, 100) +
                   "' (it may have gone away); use one of the tools offered.";
    co_return outcome;
  }
  json parsed = arguments.empty() ? json::object() : json::parse(arguments, nullptr, false);
  if (!parsed.is_object()) {
    outcome.text =
        "The arguments are not a JSON object; call the tool again with its "
        "arguments as a JSON object matching its schema.";
    co_return outcome;
  }
  // A chat asks its user; where nobody can be asked (the API server), the unattended rule
  // decides.
  if (route->second.needs_approval) {
    bool approved = impl->unattended_allow;
    if (approver && *approver) {
      std::string tool = route->second.tool;  // named: GCC 12
      std::string shown = arguments;
      approved = co_await (*approver)(std::move(tool), std::move(shown));
    }
    if (!approved) {
      outcome.text = "The user did not approve this tool call, so it was not run.";
      co_return outcome;
    }
  }
  // Looked up again: while the user decided, the tool list may have been rebuilt (a server
  // restarted, its tools changed, a SIGHUP), which frees what `route` pointed at.
  const auto current = impl->routes.find(exposed_name);
  if (current == impl->routes.end()) {
    outcome.text = "The tool '" + exposed_name.substr(0, 100) +
                   "' went away while waiting for approval (its server restarted or was "
                   "removed), so it was not run.";
    co_return outcome;
  }
  auto* server = current->second.server;
  const std::string tool = current->second.tool;
  co_return co_await server->call_tool(tool, std::move(parsed), std::move(abort));
}

std::string ToolRegistry::server_of(const std::string& exposed_name) const {
  const auto route = impl_->routes.find(exposed_name);
  return route == impl_->routes.end() ? std::string() : route->second.server->name();
}

std::vector<ServerStatus> ToolRegistry::status() const {
  std::vector<ServerStatus> out;
  for (const auto& server : impl_->servers) {
    auto detail = server->last_error();
    if (detail.empty()) detail = cap_note(*server);
    out.push_back({server->name(), to_string(server->state()), server->tools().size(), detail});
  }
  return out;
}

std::map<std::string, std::string> ToolRegistry::problems() const {
  std::map<std::string, std::string> out;
  for (const auto& server : impl_->servers) {
    if (server->state() == McpServer::State::error) {
      out[server->name()] = "error: " + server->last_error();
    } else if (auto note = cap_note(*server); !note.empty()) {
      out[server->name()] = std::move(note);
    }
  }
  return out;
}

}  // namespace hermes::daemon::tools
