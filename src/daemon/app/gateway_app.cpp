#include "daemon/app/gateway_app.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <thread>

#include "common/config_loader.hpp"
#include "common/exit_codes.hpp"
#include "common/logging.hpp"
#include "common/paths.hpp"
#include "common/platform_health.hpp"
#include "common/runtime_status.hpp"
#include "common/secrets.hpp"
#include "common/test_hooks.hpp"
#include "common/version.hpp"
#include "daemon/agent/compactor.hpp"
#include "daemon/agent/conversation.hpp"
#include "daemon/agent/session_queue.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/app/gateway_endpoints.hpp"
#include "daemon/app/status_server.hpp"
#include "daemon/builtin/builtin_tools.hpp"
#include "daemon/cron/chat_jobs.hpp"
#include "daemon/cron/cron_config.hpp"
#include "daemon/cron/job_tables.hpp"
#include "daemon/cron/scheduler.hpp"
#include "daemon/dashboard/dashboard.hpp"
#include "daemon/lifecycle/early_signals.hpp"
#include "daemon/lifecycle/instance_lock.hpp"
#include "daemon/lifecycle/lifecycle.hpp"
#include "daemon/lifecycle/listen_sockets.hpp"
#include "daemon/lifecycle/loop_ticker.hpp"
#include "daemon/lifecycle/notifier.hpp"
#include "daemon/lifecycle/restart_count.hpp"
#include "daemon/lifecycle/status_line.hpp"
#include "daemon/lifecycle/watchdog.hpp"
#include "daemon/metrics/loop_lag_probe.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/platforms/api_server.hpp"
#include "daemon/platforms/basic_routes.hpp"
#include "daemon/platforms/chat/chat_store.hpp"
#include "daemon/platforms/discord/discord_platform.hpp"
#include "daemon/platforms/http_server.hpp"
#include "daemon/platforms/responses/response_store.hpp"
#include "daemon/platforms/responses/response_tables.hpp"
#include "daemon/platforms/responses/responses_api.hpp"
#include "daemon/platforms/route_table.hpp"
#include "daemon/platforms/slack/slack_platform.hpp"
#include "daemon/platforms/telegram/telegram_platform.hpp"
#include "daemon/state/checkpointer.hpp"
#include "daemon/state/migrations.hpp"
#include "daemon/state/pg_connection.hpp"
#include "daemon/state/shared_locks.hpp"
#include "daemon/state/sqlite_connection.hpp"
#include "daemon/state/store_files.hpp"
#include "daemon/state/store_worker.hpp"
#include "daemon/tools/tool_registry.hpp"
#include "daemon/usage/usage_ledger.hpp"
#include "daemon/usage/usage_tables.hpp"
#include "daemon/webhooks/webhook_receiver.hpp"

namespace hermes::daemon {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr const char* kApiSocketName = "api";

struct LoadedConfig {
  std::optional<Config> config;
  std::vector<std::string> errors;
};

// Every secret of a config, so logs, replies and STATUS can mask it by value.
void remember_secrets(const Config& config) {
  std::vector<std::string> secrets;
  for (const auto& [name, provider] : config.providers) {
    secrets.insert(secrets.end(), provider.api_keys.begin(), provider.api_keys.end());
  }
  secrets.push_back(config.gateway.telegram.bot_token);
  secrets.push_back(config.gateway.discord.bot_token);
  secrets.push_back(config.gateway.slack.bot_token);
  secrets.push_back(config.gateway.slack.app_token);
  secrets.push_back(config.gateway.api_server.key);
  if (config.database.backend == "postgres") {
    secrets.push_back(state::postgres_url_password(config.database.url));
  }
  // What MCP servers are given: their env values and headers are someone's credentials.
  for (const auto& [name, server] : config.mcp_servers) {
    for (const auto& [key, value] : server.env) secrets.push_back(value);
    for (const auto& [key, value] : server.headers) secrets.push_back(value);
  }
  for (const auto& [name, route] : config.webhook_routes) secrets.push_back(route.secret);
  add_known_secrets(std::move(secrets));
}

LoadedConfig load(const HomePaths& paths) {
  std::vector<std::string> env_warnings;
  const Environment env = Environment::from_process(paths.env_file, env_warnings);
  ConfigLoadResult result = load_config_file(paths.config_file, env);
  if (result.config) remember_secrets(*result.config);
  for (const auto& w : env_warnings) spdlog::warn("config: {}", w);
  for (const auto& w : result.warnings) spdlog::warn("config: {}", w);
  return {std::move(result.config), std::move(result.errors)};
}

// A start waits 10 s for PostgreSQL before it gives up (and systemd tries again);
// HERMES_TEST_HOOKS=1 with HERMES_TEST_DB_CONNECT_WAIT_MS=N shortens it for tests.
std::chrono::milliseconds connect_wait_at_start() {
  return test_hook_millis("HERMES_TEST_DB_CONNECT_WAIT_MS", 0, 60000)
      .value_or(std::chrono::milliseconds(10000));
}

// The store connection database.backend names, not yet migrated.
std::unique_ptr<state::SqlConnection> open_store(const HomePaths& paths,
                                                 const DatabaseConfig& database) {
  if (database.backend != "postgres") {
    return std::make_unique<state::SqliteConnection>(paths.state_db, database.synchronous);
  }
  spdlog::info("state store: connecting to PostgreSQL {}",
               state::describe_postgres_url(database.url));
  return std::make_unique<state::PgConnection>(
      database.url, state::PgConnection::Options{connect_wait_at_start()});
}

// Brings the store to the current schema (before the worker starts, before READY) and
// counts its sessions once; after that the count is kept in memory.
long long open_schema(state::SqlConnection& db) {
  auto* sqlite = dynamic_cast<state::SqliteConnection*>(&db);
  if (sqlite) {
    sqlite->check_writable();
    sqlite->check_pages();
  }
  try {
    const int found = state::migrate(db, state::schema_for(db));
    SqlSessionTables tables(db);
    const long long sessions = tables.count_sessions();
    if (!sqlite) {
      spdlog::info("state store: PostgreSQL {} at schema {} (was {}), {} sessions", db.name(),
                   state::schema_for(db).back().version, found, sessions);
    }
    return sessions;
  } catch (const state::StoreUnusable&) {
    throw;
  } catch (const state::StoreUnavailable&) {
    throw;  // the server went away meanwhile: exit 1, tried again
  } catch (const std::exception& e) {
    if (!sqlite) throw state::StoreUnusable(e.what());
    // "file is not a database", "database disk image is malformed", a newer schema, …
    throw state::StoreUnusable(e.what() + state::damaged_store_hint(sqlite->file()));
  }
}

bool shared_backend(const Config& config) {
  return config.database.backend == "postgres";
}

// Where a browser on this machine opens the dashboard; "" when it is off.
std::string dashboard_url(const GatewayConfig& gateway) {
  const auto& api = gateway.api_server;
  if (!api.enabled || !gateway.dashboard.enabled) return {};
  // A wildcard address is reached on loopback; an IPv6 literal needs its brackets.
  std::string host = api.host == "0.0.0.0" || api.host == "::" ? "127.0.0.1" : api.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(api.port) + "/ui";
}

// WAL pages (4 KiB each) that make the background checkpointer copy the WAL into the file.
constexpr int kCheckpointPages = 2000;

class Gateway {
 public:
  Gateway(HomePaths paths, Config config)
      : paths_(std::move(paths)),
        config_(std::move(config)),
        db_(open_store(paths_, config_.database)),
        sqlite_(dynamic_cast<state::SqliteConnection*>(db_.get())),
        stored_sessions_(open_schema(*db_)),
        checkpointer_(sqlite_ ? std::make_unique<state::Checkpointer>(
                                    *sqlite_, config_.database.synchronous, kCheckpointPages)
                              : nullptr),
        shared_(shared_backend(config_)
                    ? std::make_unique<state::SharedLocks>(io_, config_.database.url)
                    : nullptr),
        worker_(io_, *db_),
        session_tables_(*db_),
        chat_tables_(*db_),
        // Another gateway may add to any session: a cached history is checked against the
        // stored one's shape at each turn (under the session's lock) before it is used.
        store_(worker_, session_tables_, stored_sessions_, SessionCache::Limits{},
               shared_ != nullptr),
        telegram_store_(worker_, chat_tables_, "telegram"),
        discord_store_(worker_, chat_tables_, "discord"),
        slack_store_(worker_, chat_tables_, "slack"),
        tools_(io_, config_),
        builtin_(io_, config_, paths_.home, &store_),
        usage_tables_(*db_),
        ledger_(io_, worker_, usage_tables_, metrics_, config_),
        turns_(io_, config_, metrics_, &tools_, &ledger_),
        compactor_(config_, turns_, store_),
        conversation_(config_, store_, queue_, turns_, compactor_),
        api_(config_, store_, conversation_, ledger_),
        response_tables_(*db_),
        response_store_(worker_, response_tables_),
        responses_(config_, response_store_, conversation_),
        job_tables_(*db_),
        chat_jobs_(
            worker_, job_tables_,
            [this] {
              if (scheduler_) scheduler_->wake();
            },
            config_),
        webhooks_(
            worker_, job_tables_, metrics_,
            [this] {
              if (scheduler_) scheduler_->wake();
            },
            config_),
        dashboard_(
            {[this] { return dashboard_overview(); }, turns_, ledger_, worker_, *db_, job_tables_,
             [this] {
               if (scheduler_) scheduler_->wake();
             }},
            config_),
        endpoints_(
            api_, responses_, [this] { return server_view(); }, [this] { return render_metrics(); },
            [this](HttpRequest request, std::string route) {
              return webhooks_.handle(std::move(request), std::move(route));
            },
            dashboard_) {
    turns_.set_builtin_tools(&builtin_);
    conversation_.set_memory(
        [this](const std::string& user) { return builtin_.memory_block(user); });
  }

  int run();

 private:
  int open_api_listener(std::vector<InheritedSocket> inherited);
  asio::awaitable<HttpResponse> handle(HttpRequest request);
  ServerView server_view() const;
  dashboard::Overview dashboard_overview() const;
  std::string render_metrics();
  asio::awaitable<void> signal_loop();
  void on_signal(int signal);
  asio::awaitable<void> status_loop();
  asio::awaitable<void> shared_spend_loop();
  asio::awaitable<void> drain();
  void on_drain_signal(DrainKind kind, const char* signal_name);
  void reload();
  void apply_config();
  void close_store();
  void start_tools();
  void load_usage();
  void run_before_ready(asio::awaitable<void> work, const char* what);
  // run()'s startup phases, in order.
  // False (logged) when its listener cannot be had.
  bool start_api_server(std::vector<InheritedSocket> inherited);
  void start_telegram();
  void start_discord();
  void start_slack();
  void start_status_server();
  std::string answer_status_request(std::string_view request);
  void announce_ready();
  void start_watchdog();
  void start_background_work();
  void start_scheduler();
  std::optional<cron::RunOutbox> outbox_of(const std::string& platform);
  chat::JobHooks job_hooks();
  std::size_t pending_work() const {
    return (http_ ? http_->pending_work() : 0) +
           (telegram_ ? static_cast<std::size_t>(telegram_->busy()) : 0) +
           (discord_ ? static_cast<std::size_t>(discord_->busy()) : 0) +
           (slack_ ? static_cast<std::size_t>(slack_->busy()) : 0) +
           (scheduler_ ? static_cast<std::size_t>(scheduler_->running()) : 0);
  }
  std::string current_status() const;
  // Why turns cannot be stored now ("" when they can): the last commit failed, or state.db was
  // removed or replaced under the running gateway. Checked every status tick.
  std::string store_problem() const;
  void check_store_file();
  std::string render_runtime_status() const;
  std::vector<PlatformStatus> platform_statuses() const;  // api_server, telegram, discord, slack
  double uptime() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

  HomePaths paths_;
  Config config_;
  const Clock::time_point started_ = Clock::now();
  asio::io_context io_{1};
  // The worker is declared after the connection and the event loop: it is stopped (its
  // thread joined) before either goes away.
  std::unique_ptr<state::SqlConnection> db_;
  state::SqliteConnection* sqlite_;  // db_ with database.backend sqlite, else null
  long long stored_sessions_;
  std::unique_ptr<state::Checkpointer> checkpointer_;  // sqlite only
  // postgres only: session and Telegram poller locks shared with the other gateways.
  std::unique_ptr<state::SharedLocks> shared_;
  state::StoreWorker worker_;
  SqlSessionTables session_tables_;
  chat::SqlChatTables chat_tables_;
  SessionStore store_;
  chat::ChatStore telegram_store_;
  chat::ChatStore discord_store_;
  chat::ChatStore slack_store_;
  SystemdNotifier notifier_;
  Metrics metrics_;
  Lifecycle lifecycle_;
  SessionQueue queue_{io_, shared_.get()};
  tools::ToolRegistry tools_;
  builtin::BuiltinTools builtin_;
  usage::SqlUsageTables usage_tables_;
  usage::UsageLedger ledger_;
  TurnRunner turns_;
  Compactor compactor_;
  Conversation conversation_;
  ApiServer api_;
  responses::SqlResponseTables response_tables_;
  responses::ResponseStore response_store_;
  responses::ResponsesApi responses_;
  cron::JobTables job_tables_;
  cron::ChatJobs chat_jobs_;
  webhooks::WebhookReceiver webhooks_;
  dashboard::Dashboard dashboard_;
  GatewayEndpoints endpoints_;
  std::unique_ptr<cron::Scheduler> scheduler_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<TelegramPlatform> telegram_;
  std::unique_ptr<DiscordPlatform> discord_;
  std::unique_ptr<SlackPlatform> slack_;
  std::unique_ptr<StatusServer> status_server_;
  LoopTicker ticker_{io_};  // one loop wake-up for the watchdog and the lag probe
  std::unique_ptr<Watchdog> watchdog_;
  LoopLagProbe lag_probe_{ticker_, metrics_};
  std::string last_config_error_;
  double last_reload_at_ = 0;       // unix seconds of the last SIGHUP acted on (0: none)
  long restarts_ = 0;               // of this service since systemd started it
  std::string store_file_problem_;  // set by check_store_file()
  std::string reported_problem_;    // the last one logged
};

int Gateway::open_api_listener(std::vector<InheritedSocket> inherited_sockets) {
  const auto& api = config_.gateway.api_server;
  int chosen = -1;
  for (const auto& inherited : inherited_sockets) {
    if (chosen < 0 && listener_matches(inherited.fd, api.host, api.port)) {
      chosen = inherited.fd;
      spdlog::info("api_server: took over the listening socket '{}' from systemd", inherited.name);
      continue;
    }
    spdlog::warn("api_server: dropping inherited socket '{}' (config asks for {}:{})",
                 inherited.name, api.host, api.port);
    notifier_.remove_fd(inherited.name);
    ::close(inherited.fd);
  }
  if (chosen < 0) {
    chosen = bind_tcp_listener(api.host, api.port);
    spdlog::info("api_server: listening on {}:{}", api.host, api.port);
  }
  // systemd keeps a copy: across a restart, connections queue in the backlog, none refused.
  notifier_.store_fd(chosen, kApiSocketName);
  return chosen;
}

asio::awaitable<HttpResponse> Gateway::handle(HttpRequest request) {
  const bool authorized = api_.authorized(request);
  co_return co_await dispatch(gateway_routes(), endpoints_, std::move(request), authorized);
}

ServerView Gateway::server_view() const {
  static const long pid = static_cast<long>(::getpid());
  return {std::string(to_string(lifecycle_.state())),
          pid,
          std::string(kVersion),
          uptime(),
          store_problem(),
          tools_.problems(),
          platform_problems(platform_statuses(), unix_time_now())};
}

dashboard::Overview Gateway::dashboard_overview() const {
  dashboard::Overview o;
  auto& g = o.gateway;
  g.state = std::string(to_string(lifecycle_.state()));
  g.version = std::string(kVersion);
  g.pid = static_cast<long>(::getpid());
  g.uptime_seconds = uptime();
  g.started_at = unix_time_now() - g.uptime_seconds;
  g.restarts = restarts_;
  g.sessions = store_.count_sessions();
  g.store_problem = store_problem();
  g.reload_at = last_reload_at_;
  g.reload_ok = last_config_error_.empty();
  g.reload_error = last_config_error_;
  o.platforms = platform_statuses();
  for (const auto& m : tools_.status()) {
    o.tools.push_back({m.name, "mcp", m.state, static_cast<long>(m.tools), m.last_error});
  }
  const auto builtin = builtin_.status();
  o.tools.push_back({builtin.name, "builtin", builtin.state, static_cast<long>(builtin.tools),
                     builtin.last_error});
  o.runs = turns_.active_runs();
  o.cooldowns = turns_.cooldowns();
  o.budgets = ledger_.budget_uses(usage::unix_seconds_now());
  o.failures = turns_.recent_failures();
  return o;
}

std::string Gateway::render_metrics() {
  metrics_.set_sessions(store_.count_sessions());
  metrics_.set_active_runs(turns_.active_turns());
  std::map<std::string, bool> up;
  for (const auto& m : tools_.status()) up[m.name] = m.state == "ready";
  metrics_.set_mcp_servers_up(std::move(up));
  std::map<std::string, Metrics::PlatformLiveness> platforms;
  const double now = unix_time_now();
  for (const auto& p : platform_statuses()) {
    if (p.state != "disabled") platforms[p.name] = {platform_health(p, now).up(), p.last_event_at};
  }
  metrics_.set_platforms(std::move(platforms));
  metrics_.set_budget_spend(ledger_.budget_spend(usage::unix_seconds_now()));
  return metrics_.render(std::string(kVersion), uptime());
}

std::string Gateway::current_status() const {
  if (!last_config_error_.empty()) return reload_failed_status(last_config_error_);
  std::string status = serving_status(store_.count_sessions(), turns_.active_turns());
  if (const auto problem = store_problem(); !problem.empty()) status += "; DEGRADED: " + problem;
  const double now = unix_time_now();
  for (const auto& platform : platform_statuses()) {
    // e.g. "telegram: 409 Conflict: …" when another poller holds the token
    if (auto note = platform_status_note(platform, now); !note.empty()) status += "; " + note;
  }
  for (const auto& [server, why] : tools_.problems()) status += "; mcp " + server + ": " + why;
  return status;
}

std::string Gateway::render_runtime_status() const {
  RuntimeStatus status;
  status.state = std::string(to_string(lifecycle_.state()));
  status.pid = static_cast<long>(::getpid());
  status.version = std::string(kVersion);
  status.uptime_seconds = uptime();
  status.sessions = store_.count_sessions();
  status.active_runs = turns_.active_turns();
  status.provider_cooldowns = turns_.cooldowns();
  for (const auto& m : tools_.status()) {
    status.mcp_servers.push_back({m.name, m.state, static_cast<long>(m.tools), m.last_error});
  }
  const auto builtin = builtin_.status();
  status.builtin_tools = {builtin.name, builtin.state, static_cast<long>(builtin.tools),
                          builtin.last_error};
  if (lifecycle_.state() == LifecycleState::draining) {
    status.drain_seconds_left =
        static_cast<double>(lifecycle_.drain_left(Clock::now()).count()) / 1000.0;
  }
  status.last_config_error = last_config_error_;
  status.platforms = platform_statuses();
  status.dashboard_url = dashboard_url(config_.gateway);
  if (scheduler_) {
    const auto jobs = scheduler_->summary();
    if (jobs.next) {
      status.next_job = jobs.next->id + " " + jobs.next->name;
      status.next_job_at = jobs.next->next_run.value_or(0);
    }
    status.failed_runs_today = static_cast<long>(jobs.failed_today);
  }
  return nlohmann::json(status).dump();
}

std::vector<PlatformStatus> Gateway::platform_statuses() const {
  const auto& api = config_.gateway.api_server;
  return {{"api_server",
           api.enabled ? (lifecycle_.accepting_work() ? "running" : "stopped") : "disabled",
           api.enabled ? api.host + ":" + std::to_string(api.port) : ""},
          telegram_ ? telegram_->status() : PlatformStatus{"telegram", "disabled", ""},
          discord_ ? discord_->status() : PlatformStatus{"discord", "disabled", ""},
          slack_ ? slack_->status() : PlatformStatus{"slack", "disabled", ""}};
}

void Gateway::reload() {
  if (!lifecycle_.accepting_work()) {
    spdlog::info("SIGHUP ignored: the gateway is {}", to_string(lifecycle_.state()));
    return;
  }
  notifier_.reloading();
  last_reload_at_ = unix_time_now();
  spdlog::info("SIGHUP: reloading {}", paths_.config_file.string());
  LoadedConfig loaded = load(paths_);
  if (loaded.config) loaded.errors = cron::cron_config_problems(*loaded.config);
  if (!loaded.config || !loaded.errors.empty()) {
    for (const auto& e : loaded.errors) spdlog::error("config reload: {}", e);
    last_config_error_ = loaded.errors.front();
    if (loaded.errors.size() > 1) {
      last_config_error_ += " (+" + std::to_string(loaded.errors.size() - 1) + " more)";
    }
    spdlog::error("config reload rejected; the previous config stays in effect");
    notifier_.ready(reload_failed_status(last_config_error_));
    return;
  }
  const auto& old_api = config_.gateway.api_server;
  const auto& new_api = loaded.config->gateway.api_server;
  if (old_api.host != new_api.host || old_api.port != new_api.port ||
      old_api.enabled != new_api.enabled) {
    spdlog::warn("gateway.api_server listener changes take effect at the next restart");
  }
  if (loaded.config->database.backend != config_.database.backend ||
      loaded.config->database.url != config_.database.url) {
    spdlog::warn("database changes take effect at the next restart");
  }
  if (loaded.config->database.synchronous != config_.database.synchronous) {
    const auto durability = loaded.config->database.synchronous;
    if (sqlite_) {
      asio::co_spawn(io_, worker_.run([this, durability] { sqlite_->set_durability(durability); }),
                     [](std::exception_ptr e) { log_exception(e, "database.synchronous"); });
    }
  }
  config_ = std::move(*loaded.config);
  apply_config();
  last_config_error_.clear();
  spdlog::info("config reloaded");
  notifier_.ready(current_status());
}

// Every part takes the reloaded config (platforms keep their enabled state until a restart).
void Gateway::apply_config() {
  if (scheduler_) scheduler_->reconfigure(config_);
  webhooks_.reconfigure(config_);
  chat_jobs_.reconfigure(config_);
  asio::co_spawn(io_, tools_.reconfigure(config_),
                 [](std::exception_ptr e) { log_exception(e, "mcp_servers reload"); });
  turns_.reconfigure(config_);
  builtin_.reconfigure(config_);
  ledger_.reconfigure(config_);
  compactor_.reconfigure(config_);
  conversation_.reconfigure(config_);
  api_.reconfigure(config_);
  responses_.reconfigure(config_);
  dashboard_.reconfigure(config_);
  if (telegram_) telegram_->reconfigure(config_);
  if (config_.gateway.telegram.enabled != static_cast<bool>(telegram_)) {
    spdlog::warn("gateway.telegram.enabled changes take effect at the next restart");
  }
  if (discord_) discord_->reconfigure(config_);
  if (config_.gateway.discord.enabled != static_cast<bool>(discord_)) {
    spdlog::warn("gateway.discord.enabled changes take effect at the next restart");
  }
  if (slack_) slack_->reconfigure(config_);
  if (config_.gateway.slack.enabled != static_cast<bool>(slack_)) {
    spdlog::warn("gateway.slack.enabled changes take effect at the next restart");
  }
}

// Every queued write is committed before the thread ends; then the WAL is checkpointed.
void Gateway::close_store() {
  worker_.stop();
  if (checkpointer_) checkpointer_->stop();
  const auto stats = worker_.stats();
  db_->close();
  if (shared_) shared_->stop();  // after the last commit: a turn's lock outlives its rows
  spdlog::info("state store closed: {} jobs in {} commits, {} background checkpoints", stats.jobs,
               stats.commits, checkpointer_ ? checkpointer_->checkpoints() : 0);
}

void Gateway::on_drain_signal(DrainKind kind, const char* signal_name) {
  const auto budget = kind == DrainKind::restart ? config_.agent.restart_drain_timeout
                                                 : config_.agent.stop_drain_timeout;
  if (!lifecycle_.begin_drain(kind, Clock::now(), budget)) {
    spdlog::info("{}: already draining, {:.1f}s left", signal_name,
                 static_cast<double>(lifecycle_.drain_left(Clock::now()).count()) / 1000.0);
    return;
  }
  spdlog::info("{}: {} — draining active work for up to {:.1f}s", signal_name,
               kind == DrainKind::restart ? "planned restart" : "stopping",
               static_cast<double>(budget.count()) / 1000.0);
  asio::co_spawn(io_, drain(), [](std::exception_ptr e) { log_exception(e, "drain"); });
}

asio::awaitable<void> Gateway::drain() {
  notifier_.stopping(
      draining_status(static_cast<long>(pending_work()), lifecycle_.drain_left(Clock::now())));
  if (http_) http_->begin_drain();
  if (telegram_) telegram_->stop_polling();  // updates wait at Telegram for the next process
  if (discord_) discord_->stop_polling();    // the session is resumed by the next process
  if (slack_) slack_->stop_polling();        // unacknowledged envelopes go to the next process
  if (scheduler_) scheduler_->stop();        // no new runs; a cut one is finished next start
  asio::steady_timer tick(io_);
  while (true) {
    const auto now = Clock::now();
    const auto work = pending_work();
    if (work == 0) break;
    if (now >= lifecycle_.drain_deadline()) {
      spdlog::warn("drain budget spent; interrupting {} unfinished request(s)", work);
      // Turns end with a reply saying they were cut by a restart; give those replies a
      // moment to be written, then drop whatever is left.
      turns_.interrupt_all();
      const auto grace = Clock::now() + std::chrono::seconds(2);
      while (http_ && http_->requests_in_flight() > 0 && Clock::now() < grace) {
        tick.expires_after(std::chrono::milliseconds(20));
        co_await tick.async_wait(kTuple);
      }
      if (http_) http_->close_all();
      break;
    }
    notifier_.status(draining_status(std::max<long>(turns_.active_turns(), static_cast<long>(work)),
                                     lifecycle_.drain_left(now)));
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(kTuple);
  }
  co_await tools_.stop();  // their process groups end after the drain, not before
  close_store();
  const std::chrono::duration<double> took = Clock::now() - lifecycle_.drain_started();
  metrics_.observe_drain(took);
  lifecycle_.mark_stopped();
  if (status_server_) status_server_->stop();
  spdlog::info("drained in {:.3f}s; exiting with {}", took.count(), lifecycle_.exit_code());
  io_.stop();
}

asio::awaitable<void> Gateway::signal_loop() {
  asio::signal_set signals(io_, SIGUSR1, SIGTERM, SIGINT);
  signals.add(SIGHUP);
  if (test_hooks_enabled()) signals.add(SIGUSR2);
  // What arrived while starting is acted on now, in order (a stop during start-up drains).
  for (const int signal : take_early_signals()) {
    spdlog::info("signal {} arrived while starting; handling it now", signal);
    on_signal(signal);
  }
  while (true) {
    auto [ec, signal] = co_await signals.async_wait(kTuple);
    if (ec) break;
    on_signal(signal);
  }
}

void Gateway::on_signal(int signal) {
  switch (signal) {
    case SIGHUP:
      reload();
      break;
    case SIGUSR1:
      on_drain_signal(DrainKind::restart, "SIGUSR1");
      break;
    case SIGTERM:
      on_drain_signal(DrainKind::stop, "SIGTERM");
      break;
    case SIGINT:
      on_drain_signal(DrainKind::stop, "SIGINT");
      break;
    case SIGUSR2:
      // Test hook only (HERMES_TEST_HOOKS=1): wedge the event loop so tests can prove the
      // systemd watchdog catches it.
      spdlog::warn("test hook: wedging the event loop");
      for (;;) ::pause();
    default:
      break;
  }
}

std::string Gateway::store_problem() const {
  if (!store_file_problem_.empty()) return store_file_problem_;
  if (const auto failing = worker_.failing(); !failing.empty()) {
    return "the state store fails: " + failing;
  }
  return {};
}

void Gateway::check_store_file() {
  if (!sqlite_) {
    // No file to watch: an empty transaction each tick finds a lost server (degraded: /health
    // sends the load balancer elsewhere) and, once it is back, reconnects, even with no turns.
    asio::co_spawn(io_, worker_.run([] {}), asio::detached);
  } else {
    // The same check every transaction makes (SqliteConnection::check_file_in_place).
    store_file_problem_ = sqlite_->file_problem();
  }
  const auto problem = store_problem();
  if (problem != reported_problem_) {
    if (problem.empty()) {
      spdlog::info("state store: working again");
    } else {
      spdlog::error("degraded: {}", problem);
    }
    reported_problem_ = problem;
  }
}

// Budgets count what every gateway spent: the ledger is read again from the database each
// second (its own calls count at once in between).
asio::awaitable<void> Gateway::shared_spend_loop() {
  asio::steady_timer tick(io_);
  while (lifecycle_.state() == LifecycleState::serving) {
    tick.expires_after(std::chrono::seconds(1));
    co_await tick.async_wait(kTuple);
    try {
      co_await ledger_.load(usage::unix_seconds_now());
    } catch (const std::exception& e) {
      spdlog::debug("budgets: could not read the shared spend ({})", e.what());
    }
  }
}

asio::awaitable<void> Gateway::status_loop() {
  asio::steady_timer tick(io_);
  while (lifecycle_.state() == LifecycleState::serving) {
    check_store_file();
    notifier_.status(current_status());
    metrics_.set_active_runs(turns_.active_turns());
    tick.expires_after(std::chrono::seconds(1));
    co_await tick.async_wait(kTuple);
  }
}

// Test hook only (HERMES_TEST_HOOKS=1, HERMES_TEST_READY_DELAY_MS=N): a slow start, so tests
// can watch systemd keep the unit "activating" until READY=1.
void delay_ready_for_tests() {
  const auto delay = test_hook_millis("HERMES_TEST_READY_DELAY_MS", 0, 600000);
  if (delay) std::this_thread::sleep_for(*delay);
}

// Every MCP server starts (in parallel, each within its connect_timeout) before READY; the
// loop runs for that alone, before any platform takes work.
void Gateway::start_tools() {
  run_before_ready(tools_.start(), "MCP servers");
  builtin_.start();
}

// The budgets' spend so far this month, from state.db, before any turn is taken.
void Gateway::load_usage() {
  run_before_ready(ledger_.load(usage::unix_seconds_now()), "loading usage for budgets");
}

// Runs the loop for `work` alone, to its end, before any platform takes work.
void Gateway::run_before_ready(asio::awaitable<void> work, const char* what) {
  bool done = false;
  asio::co_spawn(io_, std::move(work), [&done, what](std::exception_ptr e) {
    log_exception(e, what);
    done = true;
  });
  while (!done && io_.run_one() > 0) {
  }
  if (io_.stopped()) io_.restart();
}

// False (and logged) when the listener cannot be had: a config problem, not a crash, so the
// start is refused (under systemd exit 78 stops the restart loop).
bool Gateway::start_api_server(std::vector<InheritedSocket> inherited) {
  int listener = -1;
  try {
    listener = open_api_listener(std::move(inherited));
  } catch (const std::system_error& e) {
    const auto& api = config_.gateway.api_server;
    const std::string hint =
        e.code() == std::errc::address_in_use
            ? "; another program listens there: stop it or choose another port in " +
                  paths_.config_file.string()
            : "";
    spdlog::error("not starting: {} (gateway.api_server.host {}, gateway.api_server.port {}){}",
                  e.what(), api.host, api.port, hint);
    return false;
  }
  http_ = std::make_unique<HttpServer>(
      io_, listener, [this](HttpRequest request) { return handle(std::move(request)); }, metrics_);
  http_->start();
  return true;
}

void Gateway::start_telegram() {
  telegram_ = std::make_unique<TelegramPlatform>(
      io_, config_,
      TelegramPlatform::Context{store_, telegram_store_, conversation_, metrics_,
                                [this] { return std::string(to_string(lifecycle_.state())); },
                                ledger_, shared_.get()});
  telegram_->set_jobs(job_hooks());
  telegram_->start();
  spdlog::info("telegram: polling {}",
               config_.gateway.telegram.api_base.find("api.telegram.org") != std::string::npos
                   ? std::string("the Bot API")
                   : config_.gateway.telegram.api_base);
}

void Gateway::start_discord() {
  discord_ = std::make_unique<DiscordPlatform>(
      io_, config_,
      DiscordPlatform::Context{store_, discord_store_, conversation_, metrics_,
                               [this] { return std::string(to_string(lifecycle_.state())); },
                               ledger_, shared_.get()});
  discord_->set_jobs(job_hooks());
  discord_->start();
  spdlog::info("discord: connecting through {}", config_.gateway.discord.api_base);
}

void Gateway::start_slack() {
  slack_ = std::make_unique<SlackPlatform>(
      io_, config_,
      SlackPlatform::Context{store_, slack_store_, conversation_, metrics_,
                             [this] { return std::string(to_string(lifecycle_.state())); }, ledger_,
                             shared_.get()});
  slack_->start();
  spdlog::info("slack: connecting through {}", config_.gateway.slack.api_base);
}

// The socket `hermes gateway status` and `hermes gateway cooldowns` ask.
void Gateway::start_status_server() {
  status_server_ = std::make_unique<StatusServer>(
      io_, status_socket_path(paths_.home),
      [this](std::string_view request) { return answer_status_request(request); });
  status_server_->start();
}

std::string Gateway::answer_status_request(std::string_view request) {
  if (request == "clear-cooldowns") {
    auto status = nlohmann::json::parse(render_runtime_status());
    status["cleared"] = turns_.clear_cooldowns();
    status["provider_cooldowns"] = nlohmann::json::array();
    return status.dump();
  }
  if (request == "end-platform-sessions") {  // uninstall: no session is resumed after this
    nlohmann::json ended = nlohmann::json::array();
    if (discord_) {
      discord_->end_session_at_stop();
      ended.push_back("discord");
    }
    return nlohmann::json{{"ended_at_stop", ended}}.dump();
  }
  if (!request.empty() && request != "status") {
    return nlohmann::json{
        {"error", "unknown request; send status, clear-cooldowns or end-platform-sessions"}}
        .dump();
  }
  return render_runtime_status();
}

void Gateway::announce_ready() {
  delay_ready_for_tests();
  lifecycle_.mark_serving();
  notifier_.ready(current_status());
  spdlog::info("hermes-gateway {} serving (pid {}, home {}, ready in {:.0f} ms)", kVersion,
               ::getpid(), paths_.home.string(), uptime() * 1000);
}

void Gateway::start_watchdog() {
  if (auto interval = SystemdNotifier::watchdog_ping_interval()) {
    watchdog_ = std::make_unique<Watchdog>(ticker_, notifier_, *interval);
    watchdog_->start();
  }
}

// What runs once the gateway serves: resumed work and the periodic loops.
void Gateway::start_background_work() {
  if (config_.gateway.api_server.enabled) {
    asio::co_spawn(io_, api_.resume_interrupted_turns(),
                   [](std::exception_ptr e) { log_exception(e, "resuming interrupted turns"); });
    asio::co_spawn(io_, responses_.resume_cut_responses(),
                   [](std::exception_ptr e) { log_exception(e, "resuming cut responses"); });
  }
  asio::co_spawn(io_, status_loop(), [](std::exception_ptr e) { log_exception(e, "status"); });
  if (shared_) {
    asio::co_spawn(io_, shared_spend_loop(),
                   [](std::exception_ptr e) { log_exception(e, "budgets"); });
  }
}

std::optional<cron::RunOutbox> Gateway::outbox_of(const std::string& platform) {
  if (platform == "telegram" && config_.gateway.telegram.enabled) {
    return cron::RunOutbox{&telegram_store_, [this] {
                             if (telegram_) telegram_->send_queued();
                           }};
  }
  if (platform == "discord" && config_.gateway.discord.enabled) {
    return cron::RunOutbox{&discord_store_,
                           [this] {
                             if (discord_) discord_->send_queued();
                           },
                           2000};  // Discord's limit on a message's content
  }
  return std::nullopt;
}

chat::JobHooks Gateway::job_hooks() {
  chat::JobHooks hooks;
  hooks.command = [this](std::string origin, std::string args) {
    return chat_jobs_.command(std::move(origin), std::move(args));
  };
  hooks.tool = [this](std::string origin, std::string arguments) {
    return chat_jobs_.tool(std::move(origin), std::move(arguments));
  };
  hooks.tool_name = cron::ChatJobs::kToolName;
  hooks.tool_schema = cron::ChatJobs::tool_schema();
  return hooks;
}

void Gateway::start_scheduler() {
  cron::Scheduler::Context context{
      worker_,  job_tables_,   conversation_,
      metrics_, shared_.get(), [this](const std::string& platform) {
                                     return outbox_of(platform); }};
  scheduler_ = std::make_unique<cron::Scheduler>(io_, std::move(context), config_);
  scheduler_->start();
}

int Gateway::run() {
  start_tools();
  load_usage();
  auto inherited = take_inherited_sockets();
  restarts_ = count_restarts(inherited, notifier_);
  if (!config_.gateway.api_server.enabled) {
    for (const auto& socket : inherited) ::close(socket.fd);
  } else if (!start_api_server(std::move(inherited))) {
    return kExitConfig;
  }
  if (config_.gateway.telegram.enabled) start_telegram();
  if (config_.gateway.discord.enabled) start_discord();
  if (config_.gateway.slack.enabled) start_slack();
  start_status_server();
  asio::co_spawn(io_, signal_loop(), [](std::exception_ptr e) { log_exception(e, "signals"); });

  announce_ready();
  start_watchdog();
  lag_probe_.start();
  start_background_work();
  start_scheduler();
  io_.run();
  return lifecycle_.exit_code();
}

}  // namespace

int run_gateway(const Options& options) {
  const HomePaths paths = resolve_home(options.home, options.config);
  LoadedConfig loaded = load(paths);
  if (!loaded.config) {
    for (const auto& e : loaded.errors) spdlog::error("config: {}", e);
    spdlog::error("not starting: fix {} (check it with: hermes-gateway --check-config)",
                  paths.config_file.string());
    return kExitConfig;
  }
  if (const auto problems = cron::cron_config_problems(*loaded.config); !problems.empty()) {
    for (const auto& p : problems) spdlog::error("config: {}", p);
    spdlog::error("not starting: fix {} (check it with: hermes-gateway --check-config)",
                  paths.config_file.string());
    return kExitConfig;
  }
  std::string holder;
  auto lock = InstanceLock::acquire(paths.home, holder);
  if (!lock) {
    spdlog::error("not starting: another hermes-gateway (pid {}) is running for {}", holder,
                  paths.home.string());
    return kExitConfig;
  }
  std::unique_ptr<Gateway> gateway;
  try {
    if (!shared_backend(*loaded.config)) {
      // Before SQLite maps state.db-shm: a refused write through that mapping is a SIGBUS.
      state::exit_clearly_on_bus_error(paths.state_db);
      state::check_store_files_writable(paths.state_db);
    }
    gateway = std::make_unique<Gateway>(paths, std::move(*loaded.config));
  } catch (const state::StoreUnavailable& e) {
    // The database (either of its connections) cannot be reached: a failed start systemd
    // tries again (exit 1), not a refused one (78), since the server may come up by itself.
    spdlog::error("not starting: {}", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    // Opening the store is the part of the start that meets the disk: a refused start, so
    // systemd does not loop on it.
    spdlog::error("not starting: {}", e.what());
    return kExitConfig;
  }
  return gateway->run();
}

}  // namespace hermes::daemon
