#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hermes {

// config.yaml, parsed once into plain structs; workers never see YAML.
// Defaults here are the documented defaults of the contract.

struct ModelConfig {
  std::string provider;          // a key of Config::providers
  std::string default_model;     // `model.default`
  long context_length = 128000;  // tokens the model takes in one request
};

// The wire format a provider speaks: OpenAI's chat completions, or Anthropic's Messages API.
enum class ProviderApi { openai, anthropic };

struct ProviderConfig {
  std::string name;
  std::string base_url;
  ProviderApi api = ProviderApi::openai;  // default anthropic when the host is api.anthropic.com
  std::vector<std::string> api_keys;      // the credential pool, rotated in order
  std::optional<std::chrono::milliseconds> request_timeout;  // overrides agent.request_timeout
  std::optional<long> context_length;                        // overrides model.context_length
  long max_tokens = 8192;      // anthropic: the required max_tokens when a request sets none
  bool prompt_caching = true;  // anthropic: cache_control breakpoints on the stable prefix
};

struct FallbackProvider {
  std::string provider;
  std::string model;  // empty: use model.default
};

struct AgentConfig {
  std::string system_prompt = "You are a helpful assistant.";
  int api_max_retries = 3;  // total attempts per provider call, at least 1
  // A provider's silence: to the first byte of its answer, then between bytes of a stream.
  std::chrono::milliseconds request_timeout{std::chrono::seconds{120}};
  // A turn's inactivity: no answer, no streamed byte, no tool result for this long ends it
  // (across retries, rotations and fallbacks); a turn that keeps making progress goes on.
  std::chrono::milliseconds turn_timeout{std::chrono::seconds{300}};
  // A turn at most, progress or not.
  std::chrono::milliseconds turn_hard_timeout{std::chrono::seconds{3600}};
  std::chrono::milliseconds restart_drain_timeout{std::chrono::seconds{60}};
  std::chrono::milliseconds stop_drain_timeout{std::chrono::seconds{10}};
  int max_tool_iterations = 25;  // provider calls per turn that may ask for tools
};

// Which of a server's tools are offered, and which wait for the user's approval (names as
// the server gives them).
struct McpToolFilter {
  std::vector<std::string> include;  // empty: all
  std::vector<std::string> exclude;
  std::vector<std::string> require_approval;
  // At most this many of the server's tools are offered (the first ones, after include and
  // exclude): every turn carries their schemas, and 10,000 of them overflow any context.
  int max_tools = 128;

  bool operator==(const McpToolFilter&) const = default;
};

// One `mcp_servers:` entry: a stdio server (command) or a Streamable HTTP one (url).
struct McpServerConfig {
  std::string name;  // [A-Za-z0-9_-], part of the tool names
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // besides PATH, HOME and LANG, all it gets
  std::string url;
  std::map<std::string, std::string> headers;
  bool enabled = true;
  std::chrono::milliseconds timeout{std::chrono::seconds{120}};  // per tool call
  std::chrono::milliseconds connect_timeout{std::chrono::seconds{60}};
  McpToolFilter tools;

  bool operator==(const McpServerConfig&) const = default;
};

// Summarising the oldest turns of a conversation before it outgrows the context window.
struct CompressionConfig {
  bool enabled = true;
  double threshold = 0.85;    // of the context budget, before a call
  int protect_last_n = 20;    // newest messages never summarised
  std::string summary_model;  // empty: the turn's model
};

// USD per million tokens.
struct ModelPrice {
  double input = 0;
  double output = 0;
  // Prompt caching (USD per million tokens); unset: priced as input.
  std::optional<double> cache_write;
  std::optional<double> cache_read;
};

enum class BudgetScope { chat, key, gateway };
enum class BudgetPeriod { day, month };  // UTC calendar days and months

struct BudgetConfig {
  std::string name;
  BudgetScope scope = BudgetScope::gateway;
  double limit_usd = 0;
  BudgetPeriod period = BudgetPeriod::day;
};

struct ApprovalsConfig {
  // Where nobody can answer an approval (the API server): allow the call, or (default) deny.
  bool unattended_allow = false;
};

struct ApiServerConfig {
  bool enabled = true;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8642;
  std::string key;  // empty: no bearer auth (allowed on loopback only)
};

struct TelegramConfig {
  bool enabled = false;
  std::string bot_token;
  std::string api_base = "https://api.telegram.org";
  std::vector<std::string> allowed_users;  // user ids or @usernames
  bool allow_all_users = false;            // empty allowed_users refuses to start unless set
  // In groups, answer only messages that mention the bot, reply to it or are commands.
  bool require_mention = true;
  // Replies appear as they are written (one message edited in place); false: all at once.
  bool streaming = true;
};

struct DiscordConfig {
  bool enabled = false;
  std::string bot_token;
  std::string api_base = "https://discord.com/api/v10";
  std::vector<std::string> allowed_users;  // user ids (snowflakes, kept as text)
  bool allow_all_users = false;            // empty allowed_users refuses to start unless set
  // In guild channels, answer only mentions of the bot, replies to it and commands…
  bool require_mention = true;
  // …except in these channels (ids), where every message is for the bot.
  std::vector<std::string> free_response_channels;
  bool streaming = true;
};

// gateway.slack: a Slack app through Socket Mode (no public URL needed).
struct SlackConfig {
  bool enabled = false;
  std::string bot_token;  // xoxb-…: the Web API (auth.test, chat.postMessage, chat.update)
  std::string app_token;  // xapp-…: Socket Mode (apps.connections.open, connections:write)
  std::string api_base = "https://slack.com/api";
  std::vector<std::string> allowed_users;  // Slack member ids (U…, W…)
  bool allow_all_users = false;            // empty allowed_users refuses to start unless set
  // In channels, answer only mentions of the bot (app_mention) and commands.
  bool require_mention = true;
  bool streaming = true;
};

// display.tool_progress: no lines, a line when the tool changes (new), or one per call (all).
enum class ToolProgress { off, changed, all };

// How chats show a turn in progress.
struct DisplayConfig {
  ToolProgress tool_progress = ToolProgress::changed;
  // display.busy_input_mode: a message during a turn waits for it (queue, the default) or
  // stops it and runs next (interrupt).
  bool busy_input_interrupt = false;
};

// The page at GET /ui and its JSON under /ui/api on the API server's port.
struct DashboardConfig {
  bool enabled = true;
};

struct GatewayConfig {
  ApiServerConfig api_server;
  DashboardConfig dashboard;
  TelegramConfig telegram;
  DiscordConfig discord;
  SlackConfig slack;
  // In a group, channel or thread each person has a session of their own (false: one shared
  // session per chat or thread).
  bool group_sessions_per_user = true;
};

// How hard a commit to state.db is pushed to disk (SQLite WAL `PRAGMA synchronous`).
enum class Durability {
  normal,  // a committed turn survives a crash of the process (not a power loss)
  full,    // a committed turn survives a power loss too (one fsync per group commit)
};

struct DatabaseConfig {
  std::string backend = "sqlite";               // sqlite ($HERMES_HOME/state.db) | postgres (url)
  Durability synchronous = Durability::normal;  // sqlite only
  // postgres: a libpq URL or conninfo string (database.url, else $HERMES_DATABASE_URL).
  std::string url;
};

// Scheduled jobs: cron expressions are read in `timezone` ("" the system's); firings missed
// while no gateway ran run once at start (the latest) or are all skipped; at most
// `max_parallel` runs at once.
struct CronConfig {
  std::string timezone;
  bool catch_up_skip = false;
  int max_parallel = 2;
};

// tools: the agent's built-in tools (terminal, file tools, web_fetch, memory, session_search).
// The terminal runs each command in the kernel sandbox (hermes-sandbox) unless sandbox is off.
struct BuiltinToolsConfig {
  bool terminal = true;
  bool files = true;  // read_file, write_file, patch, list_files, search_files
  bool web_fetch = true;
  bool memory = true;
  bool session_search = true;
  std::string workspace;  // "" = <home>/workspace; relative paths are from the home
  std::chrono::milliseconds terminal_timeout{180'000};
  bool terminal_network = true;  // network: all; false = none (a network namespace of its own)
  bool sandbox = true;           // sandbox: off runs commands unconfined (logged at start)
  bool web_allow_private = false;
  bool operator==(const BuiltinToolsConfig&) const = default;
};

enum class WebhookSignature { github, generic };

// webhooks.routes.<name>: POST /webhooks/<name> on the API port, authenticated by its
// signature; runs `prompt` (with {payload.path} filled in) or fires the job `cron_job`.
struct WebhookRoute {
  std::string secret;
  WebhookSignature signature = WebhookSignature::github;
  std::string prompt;
  std::string deliver = "local";
  std::string cron_job;
};

struct Config {
  ModelConfig model;
  std::map<std::string, ProviderConfig> providers;
  std::vector<FallbackProvider> fallback_providers;
  AgentConfig agent;
  GatewayConfig gateway;
  DatabaseConfig database;
  std::map<std::string, McpServerConfig> mcp_servers;
  ApprovalsConfig approvals;
  CompressionConfig compression;
  DisplayConfig display;
  std::map<std::string, ModelPrice> pricing;  // by model name
  std::vector<BudgetConfig> budgets;
  CronConfig cron;
  std::map<std::string, WebhookRoute> webhook_routes;  // webhooks.routes
  BuiltinToolsConfig tools;
};

// True for addresses only this machine can reach: 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace hermes
