#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/config_loader.hpp"

namespace hermes {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kFullConfig = R"(
model:
  provider: openai
  default: gpt-4o-mini
providers:
  openai:
    base_url: https://api.openai.com/v1/
    api_keys: ["${OPENAI_API_KEY}", "${OPENAI_API_KEY_2}"]
  openrouter:
    base_url: https://openrouter.ai/api/v1
    api_key: ${OPENROUTER_API_KEY}
    request_timeout: 30
fallback_providers:
  - { provider: openrouter, model: openai/gpt-4o-mini }
agent:
  system_prompt: "Be brief."
  api_max_retries: 4
  request_timeout: 90
  restart_drain_timeout: 45.5
  stop_drain_timeout: 5
gateway:
  api_server: { enabled: true, host: 0.0.0.0, port: 9000, key: "${API_SERVER_KEY}" }
  telegram: { enabled: true, allowed_users: [12345, "@alice"] }
)";

Environment test_env() {
  Environment env;
  env.set("OPENAI_API_KEY", "sk-first");
  env.set("OPENAI_API_KEY_2", "sk-second");
  env.set("OPENROUTER_API_KEY", "sk-or-x");
  env.set("API_SERVER_KEY", "local-key");
  env.set("TELEGRAM_BOT_TOKEN", "123:abc");
  return env;
}

TEST(Config, ParsesEverySectionIntoStructs) {
  const auto result = parse_config(kFullConfig, "config.yaml", test_env());
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors.front());
  EXPECT_TRUE(result.warnings.empty());
  const Config& c = *result.config;
  EXPECT_EQ(c.model.provider, "openai");
  EXPECT_EQ(c.model.default_model, "gpt-4o-mini");
  ASSERT_EQ(c.providers.size(), 2u);
  EXPECT_EQ(c.providers.at("openai").base_url, "https://api.openai.com/v1");  // slash trimmed
  EXPECT_THAT(c.providers.at("openai").api_keys, ElementsAre("sk-first", "sk-second"));
  EXPECT_THAT(c.providers.at("openrouter").api_keys, ElementsAre("sk-or-x"));
  EXPECT_EQ(c.providers.at("openrouter").request_timeout, std::chrono::seconds(30));
  ASSERT_EQ(c.fallback_providers.size(), 1u);
  EXPECT_EQ(c.fallback_providers[0].model, "openai/gpt-4o-mini");
  EXPECT_EQ(c.agent.system_prompt, "Be brief.");
  EXPECT_EQ(c.agent.api_max_retries, 4);
  EXPECT_EQ(c.agent.request_timeout, std::chrono::seconds(90));
  EXPECT_EQ(c.agent.restart_drain_timeout, std::chrono::milliseconds(45500));
  EXPECT_EQ(c.agent.stop_drain_timeout, std::chrono::seconds(5));
  EXPECT_EQ(c.gateway.api_server.host, "0.0.0.0");
  EXPECT_EQ(c.gateway.api_server.port, 9000);
  EXPECT_EQ(c.gateway.api_server.key, "local-key");
  EXPECT_TRUE(c.gateway.telegram.enabled);
  EXPECT_EQ(c.gateway.telegram.bot_token, "123:abc");  // from TELEGRAM_BOT_TOKEN
  EXPECT_EQ(c.gateway.telegram.api_base, "https://api.telegram.org");
  EXPECT_THAT(c.gateway.telegram.allowed_users, ElementsAre("12345", "@alice"));
}

TEST(Config, DefaultsMatchTheContract) {
  const auto result = parse_config(
      "model: {provider: local, default: m}\nproviders: {local: {base_url: "
      "'http://127.0.0.1:1'}}\n",
      "config.yaml", {});
  ASSERT_TRUE(result.config);
  const Config& c = *result.config;
  EXPECT_EQ(c.agent.api_max_retries, 3);
  EXPECT_EQ(c.agent.request_timeout, std::chrono::seconds(120));
  EXPECT_EQ(c.agent.restart_drain_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.agent.stop_drain_timeout, std::chrono::seconds(10));
  EXPECT_TRUE(c.gateway.api_server.enabled);
  EXPECT_EQ(c.gateway.api_server.host, "127.0.0.1");
  EXPECT_EQ(c.gateway.api_server.port, 8642);
  EXPECT_FALSE(c.gateway.telegram.enabled);
  EXPECT_TRUE(c.gateway.group_sessions_per_user);
  EXPECT_EQ(c.database.backend, "sqlite");
  EXPECT_EQ(c.database.synchronous, Durability::normal);
}

constexpr const char* kBase =
    "model: {provider: p, default: m}\nproviders: {p: {base_url: 'http://127.0.0.1:1'}}\n";

std::vector<std::string> errors_of(const std::string& extra, const Environment& env = {}) {
  return parse_config(std::string(kBase) + extra, "/h/config.yaml", env).errors;
}

TEST(Config, DatabaseDurabilityIsNormalOrFullAndAnythingElseIsNamed) {
  const auto full =
      parse_config(std::string(kBase) + "database: {synchronous: full}\n", "/h/config.yaml", {});
  ASSERT_TRUE(full.config);
  EXPECT_EQ(full.config->database.synchronous, Durability::full);
  EXPECT_THAT(errors_of("database:\n  synchronous: off\n"),
              ElementsAre(HasSubstr("/h/config.yaml:4: database.synchronous: expected normal "
                                    "(survives a crash of the process) or full")));
  EXPECT_THAT(errors_of("database: {backend: mysql}\n"),
              ElementsAre(HasSubstr("database.backend: expected sqlite")));
}

TEST(Config, CronAndWebhookRoutes) {
  const auto parsed = parse_config(std::string(kBase) +
                                       "cron: {timezone: Europe/Berlin, catch_up: skip, "
                                       "max_parallel: 3}\n"
                                       "webhooks:\n  routes:\n"
                                       "    gh: {secret: s3cret, prompt: 'New: {issue.title}', "
                                       "deliver: 'telegram:1'}\n"
                                       "    ping: {signature: generic, cron_job: ab12cd34}\n",
                                   "/h/config.yaml", {});
  ASSERT_TRUE(parsed.config) << parsed.errors.front();
  EXPECT_EQ(parsed.config->cron.timezone, "Europe/Berlin");
  EXPECT_TRUE(parsed.config->cron.catch_up_skip);
  EXPECT_EQ(parsed.config->cron.max_parallel, 3);
  const auto& routes = parsed.config->webhook_routes;
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes.at("gh").signature, WebhookSignature::github);
  EXPECT_EQ(routes.at("gh").secret, "s3cret");
  EXPECT_EQ(routes.at("ping").signature, WebhookSignature::generic);
  EXPECT_EQ(routes.at("ping").cron_job, "ab12cd34");
  EXPECT_THAT(errors_of("cron: {catch_up: sometimes}\n"),
              ElementsAre(HasSubstr("cron.catch_up: expected once")));
  EXPECT_THAT(errors_of("webhooks: {routes: {gh: {secret: x}}}\n"),
              ElementsAre(HasSubstr("give either prompt")));
  EXPECT_THAT(errors_of("webhooks: {routes: {'a/b': {secret: x, prompt: p}}}\n"),
              ElementsAre(HasSubstr("a route name is 1-64 letters")));
  EXPECT_THAT(errors_of("webhooks: {routes: {gh: {secret: x, prompt: p, signature: hmac}}}\n"),
              ElementsAre(HasSubstr("expected github")));
}

TEST(Config, TheDashboardIsOnByDefaultAndCanBeTurnedOff) {
  const auto defaults = parse_config(kBase, "/h/config.yaml", {});
  ASSERT_TRUE(defaults.config);
  EXPECT_TRUE(defaults.config->gateway.dashboard.enabled);
  const auto off =
      parse_config(std::string(kBase) + "gateway: {dashboard: {enabled: false}}\n", "/h/c", {});
  ASSERT_TRUE(off.config) << off.errors.front();
  EXPECT_FALSE(off.config->gateway.dashboard.enabled);
  const auto unknown = parse_config(
      std::string(kBase) + "gateway: {dashboard: {enabled: true, port: 9}}\n", "/h/c", {});
  EXPECT_THAT(unknown.warnings,
              ::testing::Contains(::testing::HasSubstr("gateway.dashboard.port")));
  EXPECT_THAT(errors_of("gateway: {dashboard: {enabled: maybe}}\n"),
              ::testing::Contains(::testing::HasSubstr("gateway.dashboard.enabled")));
}

TEST(Config, BuiltinToolsDefaultToAllInTheSandbox) {
  const auto defaults = parse_config(kBase, "/h/config.yaml", {});
  ASSERT_TRUE(defaults.config);
  const auto& tools = defaults.config->tools;
  EXPECT_TRUE(tools.terminal && tools.files && tools.web_fetch && tools.memory &&
              tools.session_search);
  EXPECT_TRUE(tools.sandbox);
  EXPECT_TRUE(tools.terminal_network);
  EXPECT_EQ(tools.terminal_timeout, std::chrono::seconds(180));
  EXPECT_FALSE(tools.web_allow_private);

  const auto parsed = parse_config(std::string(kBase) +
                                       "tools:\n  builtin: [files, memory]\n"
                                       "  workspace: /srv/work\n"
                                       "  terminal: {timeout: 20, network: none, sandbox: off}\n"
                                       "  web_fetch: {allow_private: true}\n",
                                   "/h/config.yaml", {});
  ASSERT_TRUE(parsed.config) << parsed.errors.front();
  const auto& set = parsed.config->tools;
  EXPECT_FALSE(set.terminal);
  EXPECT_TRUE(set.files);
  EXPECT_FALSE(set.web_fetch);
  EXPECT_TRUE(set.memory);
  EXPECT_FALSE(set.session_search);
  EXPECT_EQ(set.workspace, "/srv/work");
  EXPECT_EQ(set.terminal_timeout, std::chrono::seconds(20));
  EXPECT_FALSE(set.terminal_network);
  EXPECT_FALSE(set.sandbox);
  EXPECT_TRUE(set.web_allow_private);

  EXPECT_THAT(errors_of("tools: {builtin: [terminal, shell]}\n"),
              ElementsAre(HasSubstr("tools.builtin: unknown tool 'shell'")));
  EXPECT_THAT(errors_of("tools: {terminal: {network: host}}\n"),
              ElementsAre(HasSubstr("tools.terminal.network: expected all or none")));
  EXPECT_THAT(errors_of("tools: {terminal: {sandbox: maybe}}\n"),
              ElementsAre(HasSubstr("tools.terminal.sandbox: expected on or off")));
  EXPECT_THAT(errors_of("tools: {terminal: {timeout: 0}}\n"),
              ElementsAre(HasSubstr("tools.terminal.timeout")));
}

TEST(Config, AWebhookRouteWithoutASecretIsRefusedUnlessTheApiServerIsLoopbackOnly) {
  const std::string route = "webhooks: {routes: {open: {prompt: 'hi {x}'}}}\n";
  EXPECT_TRUE(parse_config(std::string(kBase) + route, "/h/config.yaml", {}).config)
      << "127.0.0.1 by default: only this machine can send it";
  EXPECT_THAT(errors_of("gateway: {api_server: {host: 0.0.0.0, key: k}}\n" + route),
              ElementsAre(HasSubstr("webhooks.routes.open: has no secret while the API server "
                                    "listens on 0.0.0.0")));
}

TEST(Config, GroupSessionsPerUserIsABooleanUnderGateway) {
  const auto shared = parse_config(
      std::string(kBase) + "gateway: {group_sessions_per_user: false}\n", "/h/config.yaml", {});
  ASSERT_TRUE(shared.config) << shared.errors.front();
  EXPECT_FALSE(shared.config->gateway.group_sessions_per_user);
  EXPECT_THAT(errors_of("gateway:\n  group_sessions_per_user: sometimes\n"),
              ElementsAre(HasSubstr("/h/config.yaml:4: gateway.group_sessions_per_user: expected "
                                    "true or false")));
}

TEST(Config, ThePostgresBackendTakesItsUrlFromTheConfigOrTheEnvironmentAndNeedsOne) {
  const std::string url = "postgresql://hermes:pw@db:5432/hermes";
  const auto given =
      parse_config(std::string(kBase) + "database: {backend: postgres, url: '" + url + "'}\n",
                   "/h/config.yaml", {});
  ASSERT_TRUE(given.config) << given.errors.front();
  EXPECT_EQ(given.config->database.backend, "postgres");
  EXPECT_EQ(given.config->database.url, url);
  Environment env;
  env.set("HERMES_DATABASE_URL", "host=db dbname=hermes");
  const auto from_env =
      parse_config(std::string(kBase) + "database: {backend: postgres}\n", "/h/config.yaml", env);
  ASSERT_TRUE(from_env.config);
  EXPECT_EQ(from_env.config->database.url, "host=db dbname=hermes");
  EXPECT_THAT(errors_of("database: {backend: postgres}\n"),
              ElementsAre(HasSubstr("database.backend postgres needs a URL")));
  // The value may hold a password: the error says what is wrong, not what was written.
  const auto bad = errors_of("database: {backend: postgres, url: 'secret-ish'}\n");
  ASSERT_THAT(bad, ElementsAre(HasSubstr("expected a postgresql:// URL")));
  EXPECT_THAT(bad[0], Not(HasSubstr("secret-ish")));
  const auto sqlite =
      parse_config(std::string(kBase) + "database: {url: '" + url + "'}\n", "/h/config.yaml", {});
  ASSERT_TRUE(sqlite.config);
  EXPECT_EQ(sqlite.config->database.backend, "sqlite");
  EXPECT_THAT(sqlite.warnings, ElementsAre(HasSubstr("used only with database.backend: postgres")));
}

TEST(Config, ContextCompressionPricingAndBudgets) {
  const auto parsed =
      parse_config(std::string(kBase) +
                       "compression: {threshold: 0.5, protect_last_n: 4, "
                       "summary_model: small}\n"
                       "pricing: {m: {input: 0.15, output: 0.6}}\n"
                       "budgets:\n"
                       "  - {name: daily-chat, scope: chat, limit_usd: 2, period: day}\n"
                       "  - {name: all, limit_usd: 50, period: month}\n",
                   "/h/config.yaml", {});
  ASSERT_TRUE(parsed.config) << parsed.errors.front();
  const auto& c = *parsed.config;
  EXPECT_EQ(c.model.context_length, 128000) << "the contract's default";
  EXPECT_DOUBLE_EQ(c.compression.threshold, 0.5);
  EXPECT_EQ(c.compression.protect_last_n, 4);
  EXPECT_EQ(c.compression.summary_model, "small");
  EXPECT_DOUBLE_EQ(c.pricing.at("m").output, 0.6);
  ASSERT_EQ(c.budgets.size(), 2u);
  EXPECT_EQ(c.budgets[0].scope, BudgetScope::chat);
  EXPECT_EQ(c.budgets[1].scope, BudgetScope::gateway) << "the default scope";
  EXPECT_EQ(c.budgets[1].period, BudgetPeriod::month);

  EXPECT_THAT(errors_of("compression: {threshold: 2}\n"),
              ElementsAre(HasSubstr("compression.threshold: expected a number from 0.1 to 1")));
  EXPECT_THAT(errors_of("budgets: [{name: b, scope: team, limit_usd: 1}]\n"),
              ElementsAre(HasSubstr("budgets[0].scope: expected chat, key or gateway")));
  EXPECT_THAT(errors_of("budgets: [{name: b}]\n"),
              ElementsAre(HasSubstr("budgets[0].limit_usd: required")));
  EXPECT_THAT(errors_of("budgets: [{name: b, limit_usd: 1}, {name: b, limit_usd: 2}]\n"),
              ElementsAre(HasSubstr("'b' is used twice")));
  EXPECT_THAT(errors_of("pricing: {m: {input: -1}}\n"),
              ElementsAre(HasSubstr("pricing.m.input: expected a number from 0")));
  EXPECT_THAT(parse_config("model: {provider: p, default: m, context_length: 10}\n"
                           "providers: {p: {base_url: 'http://127.0.0.1:1'}}\n",
                           "/h/config.yaml", {})
                  .errors,
              ElementsAre(HasSubstr("model.context_length: expected an integer")));
}

TEST(Config, AnOpenTelegramBotMustBeAskedForAndKeysThatVanishAreAnError) {
  const std::string telegram = "gateway:\n  telegram: {enabled: true, bot_token: t}\n";
  EXPECT_THAT(errors_of(telegram),
              ElementsAre(HasSubstr("gateway.telegram.allowed_users: empty, so anyone on "
                                    "Telegram could use the bot")));
  EXPECT_THAT(errors_of("gateway:\n  telegram: {enabled: true, bot_token: t, "
                        "allow_all_users: true}\n"),
              ::testing::IsEmpty());
  // Every key names an unset variable: refused, not started with 0 keys.
  EXPECT_THAT(parse_config("model: {provider: p, default: m}\n"
                           "providers: {p: {base_url: 'http://127.0.0.1:1', api_keys: "
                           "['${NOT_SET_ANYWHERE}']}}\n",
                           "/h/config.yaml", {})
                  .errors,
              ElementsAre(HasSubstr("providers.p.api_keys: no usable key")));
}

TEST(Config, SlackTokensAreCheckedByKindWithoutShowingThem) {
  Environment env;
  env.set("SLACK_BOT_TOKEN", " xoxb-1-2-abc\n");
  env.set("SLACK_APP_TOKEN", "xapp-1-A1-2-def");
  const auto result = parse_config(
      "model: {provider: p, default: m}\nproviders: {p: {base_url: 'http://127.0.0.1:1'}}\n"
      "gateway:\n  slack: {enabled: true, allowed_users: [U0123ABCD, W9], require_mention: "
      "false, api_base: 'http://127.0.0.1:9/api'}\n",
      "/h/config.yaml", env);
  ASSERT_THAT(result.errors, ::testing::IsEmpty());
  const auto& s = result.config->gateway.slack;
  EXPECT_EQ(s.bot_token, "xoxb-1-2-abc");  // from SLACK_BOT_TOKEN, trimmed
  EXPECT_EQ(s.app_token, "xapp-1-A1-2-def");
  EXPECT_THAT(s.allowed_users, ElementsAre("U0123ABCD", "W9"));
  EXPECT_FALSE(s.require_mention);
  EXPECT_TRUE(s.streaming);

  struct Row {
    std::string yaml;
    std::string error;
  };
  const std::string tokens = "bot_token: xoxb-b, app_token: xapp-a, ";
  const std::vector<Row> rows = {
      {"gateway: {slack: {enabled: true, " + tokens + "}}\n",
       "gateway.slack.allowed_users: empty, so anyone in the workspace could use the bot"},
      {"gateway: {slack: {enabled: true, app_token: xapp-a, allow_all_users: true}}\n",
       "gateway.slack.bot_token: required when slack is enabled (or set SLACK_BOT_TOKEN)"},
      {"gateway: {slack: {enabled: true, bot_token: xoxb-b, allow_all_users: true}}\n",
       "gateway.slack.app_token: required when slack is enabled (or set SLACK_APP_TOKEN)"},
      {"gateway: {slack: {enabled: true, bot_token: xapp-secretvalue, app_token: xapp-a, "
       "allow_all_users: true}}\n",
       "gateway.slack.bot_token: expected the Bot User OAuth Token from your app's OAuth & "
       "Permissions page (xoxb-…), got the other Slack token"},
      {"gateway: {slack: {enabled: true, bot_token: xoxb-b, app_token: secretvalue, "
       "allow_all_users: true}}\n",
       "gateway.slack.app_token: expected the App-Level Token with connections:write from "
       "your app's Basic Information page (xapp-…), got a value that does not start with xapp-"},
      {"gateway: {slack: {enabled: true, " + tokens + "allowed_users: ['@alice']}}\n",
       "gateway.slack.allowed_users[0]: expected a Slack member id"},
      {"gateway: {slack: {enabled: true, " + tokens +
           "allow_all_users: true, api_base: "
           "slack.com}}\n",
       "gateway.slack.api_base: expected an http:// or https:// URL"},
  };
  for (const auto& row : rows) {
    const auto errors = errors_of(row.yaml);
    EXPECT_THAT(errors, ::testing::Contains(HasSubstr(row.error))) << row.yaml;
    for (const auto& e : errors) EXPECT_THAT(e, ::testing::Not(HasSubstr("secretvalue"))) << e;
  }
  EXPECT_THAT(errors_of("gateway: {slack: {enabled: true, " + tokens + "allow_all_users: true}}\n"),
              ::testing::IsEmpty());
  EXPECT_THAT(errors_of("gateway: {slack: {enabled: false, bot_token: wrong}}\n"),
              ::testing::IsEmpty());
}

TEST(Config, DiscordIdsStayTextAndAnOpenBotMustBeAskedFor) {
  Environment env;
  env.set("DISCORD_BOT_TOKEN", "  MTIz.abc.def \n");
  const auto result = parse_config(
      "model: {provider: p, default: m}\nproviders: {p: {base_url: 'http://127.0.0.1:1'}}\n"
      "gateway:\n  discord: {enabled: true, allowed_users: [1234567890123456789, "
      "'18446744073709551615'],\n    free_response_channels: [987654321098765432], "
      "require_mention: false, api_base: 'http://127.0.0.1:9'}\n",
      "/h/config.yaml", env);
  ASSERT_THAT(result.errors, ::testing::IsEmpty());
  const auto& d = result.config->gateway.discord;
  EXPECT_TRUE(d.enabled);
  EXPECT_EQ(d.bot_token, "MTIz.abc.def");  // from DISCORD_BOT_TOKEN, trimmed
  // 19 and 20 digits, exactly as written: a double would have rounded them.
  EXPECT_THAT(d.allowed_users, ElementsAre("1234567890123456789", "18446744073709551615"));
  EXPECT_THAT(d.free_response_channels, ElementsAre("987654321098765432"));
  EXPECT_FALSE(d.require_mention);
  EXPECT_TRUE(d.streaming);

  struct Row {
    std::string yaml;
    std::string error;
  };
  const std::vector<Row> rows = {
      {"gateway: {discord: {enabled: true, bot_token: t}}\n",
       "gateway.discord.allowed_users: empty, so anyone who can message the bot"},
      {"gateway: {discord: {enabled: true, allow_all_users: true}}\n",
       "gateway.discord.bot_token: required when discord is enabled (or set DISCORD_BOT_TOKEN)"},
      {"gateway: {discord: {enabled: true, bot_token: '  ', allow_all_users: true}}\n",
       "gateway.discord.bot_token: required"},
      {"gateway: {discord: {enabled: true, bot_token: t, allowed_users: ['@alice']}}\n",
       "gateway.discord.allowed_users[0]: expected a Discord user id (digits"},
      {"gateway: {discord: {enabled: true, bot_token: t, allow_all_users: true, "
       "free_response_channels: [1, general]}}\n",
       "gateway.discord.free_response_channels[1]: expected a Discord channel id"},
      {"gateway: {discord: {enabled: true, bot_token: t, allow_all_users: true, api_base: "
       "discord.com}}\n",
       "gateway.discord.api_base: expected an http:// or https:// URL"},
      {"gateway: {discord: {streaming: sometimes}}\n",
       "gateway.discord.streaming: expected true or false"},
  };
  for (const auto& row : rows) {
    EXPECT_THAT(errors_of(row.yaml), ::testing::Contains(HasSubstr(row.error))) << row.yaml;
  }
  EXPECT_THAT(errors_of("gateway: {discord: {enabled: true, bot_token: t, allow_all_users: "
                        "true}}\n"),
              ::testing::IsEmpty());
  // Disabled: nothing is asked of it.
  EXPECT_THAT(errors_of("gateway: {discord: {enabled: false}}\n"), ::testing::IsEmpty());
}

TEST(Config, OnlyARegularFileOfSaneSizeIsReadAsTheConfig) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("hermes-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_THAT(load_config_file(dir, {}).errors, ElementsAre(HasSubstr("is a directory")));
  const auto fifo = dir / "fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(load_config_file(fifo, {}).errors, ElementsAre(HasSubstr("not a regular file")));
  const auto big = dir / "big.yaml";
  {
    std::ofstream out(big);
    out << std::string(kMaxConfigBytes + 1, '#');
  }
  EXPECT_THAT(load_config_file(big, {}).errors,
              ElementsAre(HasSubstr("a config is at most 1048576 bytes")));
  std::filesystem::remove_all(dir);
}

TEST(Config, TurnTimeoutIsInactivityUnderAHardCap) {
  const auto result =
      parse_config(std::string(kBase) + "agent: {turn_timeout: 45, turn_hard_timeout: 900}\n",
                   "/h/config.yaml", {});
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->agent.turn_timeout, std::chrono::seconds(45));
  EXPECT_EQ(result.config->agent.turn_hard_timeout, std::chrono::seconds(900));
  const auto defaults = parse_config(kBase, "/h/config.yaml", {});
  EXPECT_EQ(defaults.config->agent.turn_timeout, std::chrono::seconds(300));
  EXPECT_EQ(defaults.config->agent.turn_hard_timeout, std::chrono::seconds(3600));
  EXPECT_THAT(
      parse_config(std::string(kBase) + "agent: {turn_hard_timeout: 0}\n", "/h/config.yaml", {})
          .errors,
      ElementsAre(HasSubstr("agent.turn_hard_timeout")));
}

TEST(Config, PortErrorNamesFileLineKeyAndValue) {
  EXPECT_THAT(errors_of("gateway:\n  api_server:\n    port: abc\n"),
              ElementsAre("/h/config.yaml:5: gateway.api_server.port: expected an integer "
                          "1-65535, got 'abc'"));
  EXPECT_THAT(errors_of("gateway: {api_server: {port: 70000}}\n"),
              ElementsAre(HasSubstr("gateway.api_server.port: expected an integer 1-65535, got "
                                    "'70000'")));
}

TEST(Config, NonLoopbackHostWithoutKeyIsRefused) {
  EXPECT_THAT(errors_of("gateway: {api_server: {host: 0.0.0.0}}\n"),
              ElementsAre(HasSubstr("gateway.api_server.host: '0.0.0.0' is reachable from other "
                                    "machines but gateway.api_server.key is empty")));
  EXPECT_TRUE(errors_of("gateway: {api_server: {host: 0.0.0.0, key: k}}\n").empty());
  EXPECT_TRUE(errors_of("gateway: {api_server: {host: 127.0.0.2}}\n").empty());
  EXPECT_TRUE(errors_of("gateway: {api_server: {host: '::1'}}\n").empty());
}

// Loopback is decided on the address, not on how it is written (hardening: the long IPv6 form
// was refused, and a name starting "127." was trusted).
TEST(Config, LoopbackIsTheAddressNotItsSpelling) {
  struct Row {
    const char* host;
    bool loopback;
  };
  for (const auto& row :
       {Row{"127.0.0.1", true}, Row{"127.255.0.9", true}, Row{"localhost", true}, Row{"::1", true},
        Row{"[::1]", true}, Row{"0:0:0:0:0:0:0:1", true}, Row{"0000:0000::0001", true},
        Row{"::ffff:127.0.0.1", true}, Row{"0.0.0.0", false}, Row{"::", false},
        Row{"10.0.0.1", false}, Row{"128.0.0.1", false}, Row{"127.example.com", false},
        Row{"127.0.0.1.nip.io", false}, Row{"::2", false}, Row{"::ffff:10.0.0.1", false},
        Row{"", false}, Row{"[::1", false}}) {
    EXPECT_EQ(is_loopback_host(row.host), row.loopback) << row.host;
  }
}

TEST(Config, BlankKeysAreNoKeysAndKeysAreTrimmed) {
  auto result = parse_config(
      "model: {provider: p, default: m}\n"
      "providers: {p: {base_url: 'http://x/v1', api_keys: ['  sk-a  ', '   ']}}\n",
      "c.yaml", {});
  ASSERT_THAT(result.errors, ::testing::IsEmpty());
  EXPECT_EQ(result.config->providers.at("p").api_keys, std::vector<std::string>{"sk-a"});
  result = parse_config(
      "model: {provider: p, default: m}\nproviders: {p: {base_url: 'http://x/v1', api_key: ' '}}\n",
      "c.yaml", {});
  EXPECT_THAT(result.errors, ElementsAre(HasSubstr("providers.p.api_keys: no usable key")));
}

TEST(Config, EachKindOfBadValueIsNamed) {
  EXPECT_THAT(errors_of("agent: {api_max_retries: 0}\n"),
              ElementsAre(HasSubstr("agent.api_max_retries: expected an integer 1-20, got '0'")));
  EXPECT_THAT(errors_of("agent: {request_timeout: -1}\n"),
              ElementsAre(HasSubstr("agent.request_timeout: expected a number of seconds")));
  EXPECT_THAT(
      errors_of("agent: {stop_drain_timeout: [1]}\n"),
      ElementsAre(HasSubstr("agent.stop_drain_timeout: expected a single value, got a list")));
  EXPECT_THAT(
      errors_of("gateway: {api_server: {enabled: maybe}}\n"),
      ElementsAre(HasSubstr("gateway.api_server.enabled: expected true or false, got 'maybe'")));
  EXPECT_THAT(
      errors_of("gateway: {telegram: {enabled: true, allow_all_users: true}}\n"),
      ElementsAre(HasSubstr("gateway.telegram.bot_token: required when telegram is enabled")));
  // Servers start before READY: past systemd's start timeout the unit would fail to start.
  EXPECT_THAT(errors_of("mcp_servers: {s: {command: x, connect_timeout: 600}}\n"),
              ElementsAre(HasSubstr("mcp_servers.s.connect_timeout: at most 60 seconds")));
  EXPECT_THAT(errors_of("mcp_servers: {s: {command: x, connect_timeout: 60}}\n"),
              ::testing::IsEmpty());
  EXPECT_THAT(errors_of("mcp_servers: {s: {command: x, tools: {max_tools: 0}}}\n"),
              ElementsAre(HasSubstr("mcp_servers.s.tools.max_tools: expected an integer 1-10000")));
  EXPECT_THAT(errors_of("fallback_providers: [{provider: nowhere}]\n"),
              ElementsAre(HasSubstr("fallback_providers[0].provider: 'nowhere' is not defined")));
  EXPECT_THAT(errors_of("agent: {system_prompt: '${UNCLOSED'}\n"),
              ElementsAre(HasSubstr("agent.system_prompt: unclosed \"${\"")));
}

TEST(Config, ProviderProblems) {
  auto result = parse_config(
      "model: {provider: p, default: m}\nproviders: {p: {base_url: ftp://x}}\n", "c.yaml", {});
  EXPECT_THAT(result.errors,
              ElementsAre(HasSubstr("providers.p.base_url: expected an http:// or https:// URL")));
  result = parse_config("model: {provider: q, default: m}\nproviders: {p: {}}\n", "c.yaml", {});
  EXPECT_THAT(result.errors, ElementsAre(HasSubstr("providers.p.base_url: required"),
                                         HasSubstr("model.provider: 'q' is not defined")));
  result = parse_config("providers: {}\n", "c.yaml", {});
  EXPECT_THAT(result.errors, ElementsAre(HasSubstr("model.provider: required"),
                                         HasSubstr("model.default: required")));
}

TEST(Config, AProvidersWireFormatFollowsItsHostUnlessApiSaysAndAnthropicKeysAreChecked) {
  auto result = parse_config(
      "model: {provider: a, default: m}\n"
      "providers:\n"
      "  a: {base_url: 'https://api.anthropic.com/v1'}\n"
      "  b: {base_url: 'http://127.0.0.1:9/v1', api: anthropic, max_tokens: 1024, "
      "prompt_caching: false}\n"
      "  c: {base_url: 'https://user@api.anthropic.com:443/v1', api: openai}\n"
      "  d: {base_url: 'https://api.openai.com/v1'}\n"
      "pricing: {m: {input: 3, output: 15, cache_write: 3.75, cache_read: 0.3}, n: {input: 1, "
      "output: 2}}\n",
      "c.yaml", {});
  ASSERT_THAT(result.errors, ::testing::IsEmpty());
  const auto& providers = result.config->providers;
  EXPECT_EQ(providers.at("a").api, ProviderApi::anthropic) << "by its host";
  EXPECT_EQ(providers.at("a").max_tokens, 8192);
  EXPECT_TRUE(providers.at("a").prompt_caching);
  EXPECT_EQ(providers.at("b").api, ProviderApi::anthropic) << "by api:";
  EXPECT_EQ(providers.at("b").max_tokens, 1024);
  EXPECT_FALSE(providers.at("b").prompt_caching);
  EXPECT_EQ(providers.at("c").api, ProviderApi::openai) << "api: wins over the host";
  EXPECT_EQ(providers.at("d").api, ProviderApi::openai);
  EXPECT_EQ(result.config->pricing.at("m").cache_write, 3.75);
  EXPECT_EQ(result.config->pricing.at("m").cache_read, 0.3);
  EXPECT_FALSE(result.config->pricing.at("n").cache_read) << "unset: priced as input";

  result = parse_config(
      "model: {provider: a, default: m}\n"
      "providers: {a: {base_url: 'http://x/v1', api: gemini, max_tokens: 0}}\n"
      "pricing: {m: {input: 1, output: 1, cache_read: -1}}\n",
      "c.yaml", {});
  EXPECT_THAT(result.errors,
              ElementsAre(HasSubstr("c.yaml:2: providers.a.api: expected openai or anthropic, got "
                                    "'gemini'"),
                          HasSubstr("providers.a.max_tokens: expected an integer 1-10000000"),
                          HasSubstr("pricing.m.cache_read")));
}

TEST(Config, UnknownKeysAreWarnedNotIgnored) {
  const auto result =
      parse_config(std::string(kBase) + "agent: {request_timout: 5}\nextra: 1\n", "c.yaml", {});
  ASSERT_TRUE(result.config);
  EXPECT_THAT(result.warnings, ::testing::UnorderedElementsAre(
                                   HasSubstr("c.yaml:3: agent.request_timout: unknown key"),
                                   HasSubstr("c.yaml:4: extra: unknown key")));
}

TEST(Config, DuplicateKeysAreAnError) {
  EXPECT_THAT(errors_of("agent:\n  request_timeout: 5\n  request_timeout: 9\n"),
              ElementsAre("/h/config.yaml:5: agent.request_timeout: duplicate key; keep only one"));
}

TEST(Config, UnsetKeyVariablesAreSkippedWithAWarning) {
  Environment env;
  env.set("K1", "sk-one");
  const auto result = parse_config(
      "model: {provider: p, default: m}\n"
      "providers: {p: {base_url: 'http://127.0.0.1:1', api_keys: ['${K1}', '${K2}']}}\n",
      "c.yaml", env);
  ASSERT_TRUE(result.config);
  EXPECT_THAT(result.config->providers.at("p").api_keys, ElementsAre("sk-one"));
  EXPECT_THAT(result.warnings, ElementsAre(HasSubstr("providers.p.api_keys[1]: ${K2} is not set")));
}

TEST(Config, InvalidYamlAndWrongShapes) {
  EXPECT_THAT(parse_config("model: [unclosed\n", "c.yaml", {}).errors,
              ElementsAre(HasSubstr("not valid YAML")));
  EXPECT_THAT(parse_config("- just\n- a list\n", "c.yaml", {}).errors,
              ElementsAre(HasSubstr("expected a YAML mapping at the top level")));
  EXPECT_THAT(parse_config("", "c.yaml", {}).errors,
              ElementsAre(HasSubstr("expected a YAML mapping at the top level")));
  EXPECT_THAT(errors_of("gateway: [1, 2]\n"),
              ElementsAre(HasSubstr("gateway: expected a mapping of keys to values")));
}

TEST(Config, SecretsNeverAppearInMessages) {
  Environment env;
  env.set("SECRET", "sk-very-secret-value");
  const auto result = parse_config(
      std::string(kBase) + "gateway: {api_server: {key: '${SECRET}', port: '${SECRET}'}}\n",
      "c.yaml", env);
  ASSERT_EQ(result.errors.size(), 1u);
  // The port value came from a variable: the message shows what was written, not the secret.
  EXPECT_THAT(result.errors[0], ::testing::Not(HasSubstr("sk-very-secret-value")));
}

TEST(Config, MissingFileIsAClearError) {
  const auto result = load_config_file("/nonexistent/hermes/config.yaml", {});
  EXPECT_THAT(result.errors,
              ElementsAre(HasSubstr("/nonexistent/hermes/config.yaml: no such file")));
}

}  // namespace
}  // namespace hermes
