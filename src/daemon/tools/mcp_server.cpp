#include "daemon/tools/mcp_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/logging.hpp"
#include "daemon/tools/http_connection.hpp"
#include "daemon/tools/stdio_connection.hpp"

namespace hermes::daemon::tools {

namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds kRelistInterval{1000};

std::chrono::milliseconds left_until(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

const char* to_string(McpServer::State state) {
  switch (state) {
    case McpServer::State::starting:
      return "starting";
    case McpServer::State::ready:
      return "ready";
    case McpServer::State::error:
      return "error";
    case McpServer::State::stopped:
      return "stopped";
  }
  return "error";
}

struct McpServer::Impl : std::enable_shared_from_this<McpServer::Impl> {
  Impl(asio::io_context& io_context, McpServerConfig c)
      : io(io_context), config(std::move(c)), restart_timer(io_context) {}

  void changed() {
    if (on_changed) on_changed();
  }

  void fail(const std::string& why) {
    state = State::error;
    last_error = why;
    tools.clear();
    spdlog::error("mcp {}: {}; retrying in {}s", config.name, why,
                  std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
    changed();
  }

  // Include and exclude applied, then at most max_tools kept (how many there were before the
  // cap: `offered`).
  std::vector<mcp::ToolSpec> filtered(std::vector<mcp::ToolSpec> all) {
    std::erase_if(all, [this](const mcp::ToolSpec& tool) {
      if (!config.tools.include.empty() && !listed(config.tools.include, tool.name)) return true;
      return listed(config.tools.exclude, tool.name);
    });
    offered = all.size();
    const auto cap = static_cast<std::size_t>(std::max(config.tools.max_tools, 1));
    if (all.size() > cap) {
      spdlog::warn("mcp {}: offers {} tools; only the first {} are used (tools.max_tools)",
                   config.name, all.size(), cap);
      all.resize(cap);
    }
    return all;
  }

  // Every page of tools/list; nullopt (and `error`) when the listing fails.
  asio::awaitable<std::optional<std::vector<mcp::ToolSpec>>> list_tools(McpConnection& server,
                                                                        Clock::time_point deadline,
                                                                        std::string& error) {
    std::vector<mcp::ToolSpec> all;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      json params = json::object();
      if (!cursor.empty()) params["cursor"] = cursor;
      auto reply = co_await server.call("tools/list", std::move(params), left_until(deadline));
      if (!reply.ok) {
        error = "tools/list failed: " + reply.error;
        co_return std::nullopt;
      }
      auto listed_page = mcp::read_tools_list(reply.result);
      if (!listed_page.error.empty() && listed_page.tools.empty()) {
        error = "tools/list: " + listed_page.error;
        co_return std::nullopt;
      }
      for (auto& tool : listed_page.tools) all.push_back(std::move(tool));
      if (listed_page.next_cursor.empty() || listed_page.next_cursor == cursor) break;
      cursor = listed_page.next_cursor;
    }
    co_return all;
  }

  asio::awaitable<void> refresh_tools(std::uint64_t for_generation) {
    auto self = shared_from_this();
    if (!connection || generation != for_generation || state != State::ready) co_return;
    auto current = connection;
    std::string error;
    auto all = co_await list_tools(*current, Clock::now() + config.connect_timeout, error);
    if (generation != for_generation) co_return;
    if (!all) {
      spdlog::warn("mcp {}: the tool list changed but listing it again failed: {}", config.name,
                   error);
      co_return;
    }
    tools = filtered(std::move(*all));
    spdlog::info("mcp {}: tool list changed, {} tool(s)", config.name, tools.size());
    changed();
  }

  // A storm of tools/list_changed is one re-list at a time and at most one a second (a server
  // once caused 276 full re-lists in 40 s); the last change is never missed.
  void tools_changed(std::uint64_t for_generation) {
    relist_wanted = true;
    if (relisting) return;
    relisting = true;
    asio::co_spawn(io, relist_loop(for_generation),
                   [](std::exception_ptr e) { log_exception(e, "MCP tool refresh"); });
  }

  asio::awaitable<void> relist_loop(std::uint64_t for_generation) {
    auto self = shared_from_this();
    while (relist_wanted && generation == for_generation && !stopped) {
      relist_wanted = false;
      co_await refresh_tools(for_generation);
      asio::steady_timer pause(io, kRelistInterval);
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    relisting = false;
  }

  // Spawn, handshake, list. True when ready.
  asio::awaitable<bool> connect_once() {
    auto self = shared_from_this();
    const auto started = Clock::now();
    const auto deadline = started + config.connect_timeout;
    const std::uint64_t my_generation = ++generation;
    state = State::starting;
    changed();
    std::string spawn_error;
    std::shared_ptr<McpConnection> spawned = open_connection(spawn_error);
    if (!spawned) {
      fail(spawn_error);
      co_return false;
    }
    connection = spawned;
    watch(*spawned, my_generation);
    std::string problem;
    const auto init = co_await initialize(*spawned, deadline, problem);
    if (init) {
      spawned->notify("notifications/initialized");
      auto all = co_await list_tools(*spawned, deadline, problem);
      if (all && generation == my_generation) {
        become_ready(std::move(*all), init->version, started);
        co_return true;
      }
    }
    if (generation != my_generation) co_return false;  // replaced meanwhile
    ++generation;                                      // its exit is ours: not reported as a crash
    connection.reset();
    fail(problem.empty() ? std::string("the server exited while starting") : problem);
    co_await spawned->stop();
    co_return false;
  }

  // An HTTP connection, or a spawned stdio server; null (and `error`) when it cannot start.
  std::shared_ptr<McpConnection> open_connection(std::string& error) {
    if (!config.url.empty()) {
      return std::make_shared<HttpConnection>(io, config.name, config.url, config.headers);
    }
    StdioLaunch launch{config.name, config.command, config.args, config.env};
    return StdioConnection::spawn(io, launch, error);
  }

  // Tool list changes refresh the tools; an exit is reported and restarted with backoff, unless
  // the connection was replaced or the server stopped meanwhile.
  void watch(McpConnection& spawned, std::uint64_t my_generation) {
    std::weak_ptr<Impl> weak = weak_from_this();
    spawned.set_handlers(
        [weak, my_generation](const std::string& method, const json&) {
          auto impl = weak.lock();
          if (!impl || method != "notifications/tools/list_changed") return;
          impl->tools_changed(my_generation);
        },
        [weak, my_generation](const std::string& why) {
          auto impl = weak.lock();
          if (!impl || impl->generation != my_generation || impl->stopped) return;
          impl->connection.reset();
          impl->fail("the server " + why);
          impl->schedule_restart();
        });
  }

  // The initialize exchange; nullopt (and `problem`) when the server refuses or says nothing.
  asio::awaitable<std::optional<mcp::Initialized>> initialize(McpConnection& server,
                                                              Clock::time_point deadline,
                                                              std::string& problem) {
    json hello = mcp::initialize_params();
    auto initialized = co_await server.call("initialize", std::move(hello), left_until(deadline));
    if (!initialized.ok) {
      problem = initialized.timed_out
                    ? "no answer to initialize within connect_timeout (" +
                          std::to_string(config.connect_timeout.count() / 1000) + " s)"
                    : "initialize failed: " + initialized.error;
      co_return std::nullopt;
    }
    auto init = mcp::read_initialize_result(initialized.result);
    if (!init.error.empty()) {
      problem = init.error;
      co_return std::nullopt;
    }
    co_return init;
  }

  void become_ready(std::vector<mcp::ToolSpec> all, const std::string& version,
                    Clock::time_point started) {
    tools = filtered(std::move(all));
    state = State::ready;
    last_error.clear();
    backoff = 1s;
    spdlog::info(
        "mcp {}: ready, {} tool(s), MCP {} ({} ms)", config.name, tools.size(), version,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    changed();
  }

  void schedule_restart() {
    if (stopped || restart_pending) return;
    restart_pending = true;
    asio::co_spawn(io, restart_after_backoff(shared_from_this()),
                   [](std::exception_ptr e) { log_exception(e, "MCP restart"); });
  }

  static asio::awaitable<void> restart_after_backoff(std::shared_ptr<Impl> self) {
    self->restart_timer.expires_after(self->backoff);
    auto [ec] = co_await self->restart_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    self->restart_pending = false;
    if (ec || self->stopped) co_return;
    self->backoff = std::min(self->backoff * 2, std::chrono::milliseconds(60s));
    if (!co_await self->connect_once()) self->schedule_restart();
  }

  asio::io_context& io;
  McpServerConfig config;
  State state = State::starting;
  std::string last_error;
  std::size_t offered = 0;     // tools after include/exclude, before max_tools
  bool relisting = false;      // a re-list runs (or waits out its interval)
  bool relist_wanted = false;  // tools/list_changed came since it began
  std::vector<mcp::ToolSpec> tools;
  std::shared_ptr<McpConnection> connection;
  std::uint64_t generation = 0;
  std::chrono::milliseconds backoff = 1s;
  asio::steady_timer restart_timer;
  bool restart_pending = false;
  bool stopped = false;
  std::function<void()> on_changed;
};

McpServer::McpServer(asio::io_context& io, McpServerConfig config)
    : impl_(std::make_shared<Impl>(io, std::move(config))) {}

McpServer::~McpServer() {
  impl_->stopped = true;
  impl_->on_changed = nullptr;
  impl_->restart_timer.cancel();
}

asio::awaitable<void> McpServer::start() {
  auto impl = impl_;
  if (!co_await impl->connect_once()) impl->schedule_restart();
}

asio::awaitable<void> McpServer::stop() {
  auto impl = impl_;
  impl->stopped = true;
  impl->restart_timer.cancel();
  ++impl->generation;
  impl->state = State::stopped;
  impl->tools.clear();
  if (auto connection = std::exchange(impl->connection, nullptr)) co_await connection->stop();
}

asio::awaitable<mcp::ToolOutcome> McpServer::call_tool(
    std::string tool, json arguments, std::shared_ptr<providers::AbortSignal> abort) {
  auto impl = impl_;
  mcp::ToolOutcome outcome;
  outcome.is_error = true;
  auto connection = impl->connection;
  if (impl->state != State::ready || !connection) {
    outcome.text = "The tool server '" + impl->config.name + "' is not available (" +
                   (impl->last_error.empty() ? "starting" : impl->last_error) +
                   "); try again later or answer without it.";
    co_return outcome;
  }
  // Named, never a temporary inside the co_await (GCC 12 miscompiles those).
  json params = {{"name", tool}, {"arguments", std::move(arguments)}};
  auto reply =
      co_await connection->call("tools/call", std::move(params), impl->config.timeout, abort);
  if (reply.ok) co_return mcp::read_tool_result(reply.result);
  if (reply.unreachable && impl->connection == connection) {
    // An HTTP server that went away: reported, and reconnected with backoff.
    impl->connection.reset();
    ++impl->generation;
    impl->fail("unreachable: " + reply.error);
    impl->schedule_restart();
  }
  if (reply.timed_out) {
    outcome.text = "The tool did not answer within " +
                   std::to_string(impl->config.timeout.count() / 1000) + " s and was cancelled.";
  } else if (reply.cancelled) {
    outcome.text = "The tool call was cancelled.";
  } else {
    outcome.text = "The tool failed: " + reply.error;
  }
  co_return outcome;
}

const std::string& McpServer::name() const {
  return impl_->config.name;
}
const McpServerConfig& McpServer::config() const {
  return impl_->config;
}
McpServer::State McpServer::state() const {
  return impl_->state;
}
std::size_t McpServer::tools_offered() const {
  return impl_->offered;
}

std::string McpServer::last_error() const {
  return impl_->last_error;
}
std::vector<mcp::ToolSpec> McpServer::tools() const {
  return impl_->state == State::ready ? impl_->tools : std::vector<mcp::ToolSpec>{};
}
void McpServer::on_change(std::function<void()> changed) {
  impl_->on_changed = std::move(changed);
}

}  // namespace hermes::daemon::tools
