#include "common/config_loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <unordered_set>

namespace hermes {

namespace {

// The longest an MCP server may take to start (mcp_servers.*.connect_timeout).
constexpr std::chrono::milliseconds kMaxMcpConnectTimeout{60000};

// 0.1 → "0.1", 1000000 → "1000000": bounds as a person writes them.
std::string shown_number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", value);
  return text;
}

// A child of a mapping, or an empty node: yaml-cpp throws when indexing a missing node.
YAML::Node child(const YAML::Node& node, const char* key) {
  if (node.IsMap()) {
    if (YAML::Node value = node[key]; value.IsDefined()) return value;
  }
  return YAML::Node();
}

// Reads one YAML document into Config, collecting every problem instead of stopping at the first.
class ConfigReader {
 public:
  ConfigReader(std::string_view file_name, const Environment& env)
      : file_name_(file_name), env_(env) {}

  ConfigLoadResult read(const YAML::Node& root);

 private:
  std::string where(const YAML::Node& node, const std::string& key) const {
    std::string out = file_name_;
    if (node.IsDefined() && !node.Mark().is_null()) {
      out += ":" + std::to_string(node.Mark().line + 1);
    }
    return out + ": " + key + ": ";
  }
  void error(const YAML::Node& node, const std::string& key, const std::string& what) {
    result_.errors.push_back(where(node, key) + what);
  }
  void warn(const YAML::Node& node, const std::string& key, const std::string& what) {
    result_.warnings.push_back(where(node, key) + what);
  }

  // What to quote back in a message: the text as written when it came from a variable, so a
  // secret put in the wrong place is never echoed.
  static std::string shown(const YAML::Node& node, const std::string& value) {
    if (node.IsScalar() && node.Scalar().find("${") != std::string::npos) return node.Scalar();
    return value;
  }

  static std::string join(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }

  // Warns about keys this version does not know, so a typo is never silently ignored.
  void check_keys(const YAML::Node& map, const std::string& path,
                  std::initializer_list<std::string_view> known);
  bool expect_map(const YAML::Node& node, const std::string& path);

  // Scalars are expanded (${VAR}) before they are interpreted.
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path);
  void read_string(const YAML::Node& parent, const std::string& parent_path, const char* key,
                   std::string& out);
  void read_bool(const YAML::Node& parent, const std::string& parent_path, const char* key,
                 bool& out);
  template <typename Int>
  void read_int(const YAML::Node& parent, const std::string& parent_path, const char* key,
                long long min, long long max, Int& out);
  void read_seconds(const YAML::Node& parent, const std::string& parent_path, const char* key,
                    std::chrono::milliseconds& out);
  // A finite number in [min, max].
  void read_number(const YAML::Node& parent, const std::string& parent_path, const char* key,
                   double min, double max, double& out);
  // Entries whose variables are unset are dropped with a warning (an optional second key).
  std::vector<std::string> read_string_list(const YAML::Node& node, const std::string& path);

  void read_model(const YAML::Node& node);
  void read_providers(const YAML::Node& node);
  void read_provider_keys(const YAML::Node& body, const std::string& path,
                          ProviderConfig& provider);
  void read_provider_api(const YAML::Node& body, const std::string& path, ProviderConfig& provider);
  void read_fallbacks(const YAML::Node& node);
  void read_agent(const YAML::Node& node);
  void read_gateway(const YAML::Node& node);
  void read_discord(const YAML::Node& discord);
  void read_slack(const YAML::Node& slack);
  void check_snowflakes(const YAML::Node& list, const std::string& path,
                        const std::vector<std::string>& ids, const char* what);
  void validate_discord(const YAML::Node& root);
  void validate_slack(const YAML::Node& root);
  void check_slack_token(const YAML::Node& slack, const char* key, std::string& token,
                         const char* env_name, std::string_view prefix, const char* what);
  void read_database(const YAML::Node& node);
  void read_mcp_servers(const YAML::Node& node);
  void read_mcp_tool_filter(const YAML::Node& tools, const std::string& path,
                            McpToolFilter& filter);
  void read_approvals(const YAML::Node& node);
  void read_compression(const YAML::Node& node);
  void read_pricing(const YAML::Node& node);
  void read_budgets(const YAML::Node& node);
  void read_display(const YAML::Node& node);
  void read_cron(const YAML::Node& node);
  void read_webhooks(const YAML::Node& node);
  void read_builtin_tools(const YAML::Node& node);
  void read_terminal(const YAML::Node& node);
  void validate_webhooks(const YAML::Node& root);
  std::map<std::string, std::string> read_string_map(const YAML::Node& node,
                                                     const std::string& path);
  void validate(const YAML::Node& root);

  std::string file_name_;
  const Environment& env_;
  Config config_;
  ConfigLoadResult result_;
};

void ConfigReader::check_keys(const YAML::Node& map, const std::string& path,
                              std::initializer_list<std::string_view> known) {
  std::unordered_set<std::string> seen;  // a set: 80,000 keys must not take quadratic time
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    // yaml-cpp keeps one of two equal keys silently; which one a user meant is unknowable.
    if (!seen.insert(key).second) {
      error(entry.first, join(path, key), "duplicate key; keep only one");
    }
    bool found = false;
    for (auto k : known) found = found || k == key;
    if (!found) warn(entry.first, join(path, key), "unknown key, ignored (check the spelling)");
  }
}

bool ConfigReader::expect_map(const YAML::Node& node, const std::string& path) {
  if (node.IsMap()) return true;
  if (!node.IsNull()) error(node, path, "expected a mapping of keys to values");
  return false;
}

std::optional<std::string> ConfigReader::scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) {
    error(node, path,
          node.IsSequence() ? "expected a single value, got a list"
                            : "expected a single value, got a mapping");
    return std::nullopt;
  }
  auto expanded = expand_variables(node.Scalar(), env_);
  if (!expanded.error.empty()) {
    error(node, path, expanded.error);
    return std::nullopt;
  }
  for (const auto& name : expanded.unset) {
    warn(node, path, "${" + name + "} is not set in the environment or .env; using \"\"");
  }
  return std::move(expanded.value);
}

void ConfigReader::read_string(const YAML::Node& parent, const std::string& parent_path,
                               const char* key, std::string& out) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return;
  if (auto value = scalar(node, join(parent_path, key))) out = std::move(*value);
}

void ConfigReader::read_bool(const YAML::Node& parent, const std::string& parent_path,
                             const char* key, bool& out) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return;
  const auto path = join(parent_path, key);
  auto value = scalar(node, path);
  if (!value) return;
  if (*value == "true" || *value == "yes" || *value == "on") {
    out = true;
  } else if (*value == "false" || *value == "no" || *value == "off") {
    out = false;
  } else {
    error(node, path, "expected true or false, got '" + shown(node, *value) + "'");
  }
}

template <typename Int>
void ConfigReader::read_int(const YAML::Node& parent, const std::string& parent_path,
                            const char* key, long long min, long long max, Int& out) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return;
  const auto path = join(parent_path, key);
  auto value = scalar(node, path);
  if (!value) return;
  long long parsed = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc{} || ptr != end || parsed < min || parsed > max) {
    error(node, path,
          "expected an integer " + std::to_string(min) + "-" + std::to_string(max) + ", got '" +
              shown(node, *value) + "'");
    return;
  }
  out = static_cast<Int>(parsed);
}

void ConfigReader::read_seconds(const YAML::Node& parent, const std::string& parent_path,
                                const char* key, std::chrono::milliseconds& out) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return;
  const auto path = join(parent_path, key);
  auto value = scalar(node, path);
  if (!value) return;
  double seconds = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, seconds);
  constexpr double kMaxSeconds = 86400;
  if (ec != std::errc{} || ptr != end || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > kMaxSeconds) {
    error(node, path,
          "expected a number of seconds above 0 and at most 86400, got '" + shown(node, *value) +
              "'");
    return;
  }
  out = std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000)));
}

void ConfigReader::read_number(const YAML::Node& parent, const std::string& parent_path,
                               const char* key, double min, double max, double& out) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return;
  const auto path = join(parent_path, key);
  auto value = scalar(node, path);
  if (!value) return;
  double parsed = 0;
  const char* end = value->data() + value->size();
  auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
  if (ec != std::errc{} || ptr != end || !std::isfinite(parsed) || parsed < min || parsed > max) {
    error(node, path,
          "expected a number from " + shown_number(min) + " to " + shown_number(max) + ", got '" +
              shown(node, *value) + "'");
    return;
  }
  out = parsed;
}

std::vector<std::string> ConfigReader::read_string_list(const YAML::Node& node,
                                                        const std::string& path) {
  std::vector<std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    error(node, path, "expected a list");
    return out;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const auto item_path = path + "[" + std::to_string(i) + "]";
    if (!item.IsScalar()) {
      error(item, item_path, "expected a single value");
      continue;
    }
    auto expanded = expand_variables(item.Scalar(), env_);
    if (!expanded.error.empty()) {
      error(item, item_path, expanded.error);
    } else if (!expanded.unset.empty() && expanded.value.empty()) {
      warn(
          item, item_path,
          "${" + expanded.unset.front() + "} is not set in the environment or .env; entry skipped");
    } else if (!expanded.value.empty()) {
      out.push_back(std::move(expanded.value));
    }
  }
  return out;
}

void ConfigReader::read_model(const YAML::Node& node) {
  if (!expect_map(node, "model")) return;
  check_keys(node, "model", {"provider", "default", "context_length"});
  read_string(node, "model", "provider", config_.model.provider);
  read_string(node, "model", "default", config_.model.default_model);
  read_int(node, "model", "context_length", 256, 100000000, config_.model.context_length);
}

void ConfigReader::read_providers(const YAML::Node& node) {
  if (!expect_map(node, "providers")) return;
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    const std::string path = "providers." + name;
    const YAML::Node body = entry.second;
    if (!expect_map(body, path)) continue;
    check_keys(body, path,
               {"base_url", "api", "api_keys", "api_key", "request_timeout", "context_length",
                "max_tokens", "prompt_caching"});
    ProviderConfig provider;
    provider.name = name;
    read_string(body, path, "base_url", provider.base_url);
    while (!provider.base_url.empty() && provider.base_url.back() == '/') {
      provider.base_url.pop_back();
    }
    if (provider.base_url.empty()) {
      error(body, path + ".base_url", "required, e.g. https://api.openai.com/v1");
    } else if (!provider.base_url.starts_with("http://") &&
               !provider.base_url.starts_with("https://")) {
      error(body["base_url"], path + ".base_url",
            "expected an http:// or https:// URL, got '" +
                shown(body["base_url"], provider.base_url) + "'");
    }
    read_provider_keys(body, path, provider);
    read_provider_api(body, path, provider);
    if (body["request_timeout"].IsDefined()) {
      std::chrono::milliseconds timeout{};
      read_seconds(body, path, "request_timeout", timeout);
      if (timeout.count() > 0) provider.request_timeout = timeout;
    }
    if (body["context_length"].IsDefined() && !body["context_length"].IsNull()) {
      long length = 0;
      read_int(body, path, "context_length", 256, 100000000, length);
      if (length > 0) provider.context_length = length;
    }
    config_.providers.emplace(name, std::move(provider));
  }
}

namespace {

// A key as it is meant: surrounding blanks (a trailing space in .env) are not part of it, and
// a blank key is no key (sent, it would fail every call with a misleading 401).
std::string trimmed_key(std::string key) {
  const auto first = key.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = key.find_last_not_of(" \t\r\n");
  return key.substr(first, last - first + 1);
}

}  // namespace

void ConfigReader::read_provider_keys(const YAML::Node& body, const std::string& path,
                                      ProviderConfig& provider) {
  if (body["api_key"].IsDefined()) {
    std::string single;
    read_string(body, path, "api_key", single);
    single = trimmed_key(std::move(single));
    if (!single.empty()) provider.api_keys.push_back(std::move(single));
  }
  for (auto& key : read_string_list(body["api_keys"], path + ".api_keys")) {
    key = trimmed_key(std::move(key));
    if (!key.empty()) provider.api_keys.push_back(std::move(key));
  }
  // Keys were asked for (a hosted provider) but none is usable, e.g. every ${VAR} unset: a
  // gateway that starts anyway fails every turn with a misleading 401. A local server is
  // configured without api_key(s) at all.
  const bool keys_given = body["api_key"].IsDefined() || body["api_keys"].IsDefined();
  if (keys_given && provider.api_keys.empty()) {
    error(body["api_keys"].IsDefined() ? body["api_keys"] : body["api_key"], path + ".api_keys",
          "no usable key (every entry is empty, blank or names an unset variable); set the key "
          "in .env or the environment, or remove api_keys for a keyless local server");
  }
}

namespace {

// The host of an http(s) URL ("https://api.anthropic.com/v1" → "api.anthropic.com").
std::string_view url_host(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  return url.substr(0, url.find(':'));
}

}  // namespace

void ConfigReader::read_provider_api(const YAML::Node& body, const std::string& path,
                                     ProviderConfig& provider) {
  provider.api = url_host(provider.base_url) == "api.anthropic.com" ? ProviderApi::anthropic
                                                                    : ProviderApi::openai;
  if (body["api"].IsDefined() && !body["api"].IsNull()) {
    std::string api;
    read_string(body, path, "api", api);
    if (api == "openai") {
      provider.api = ProviderApi::openai;
    } else if (api == "anthropic") {
      provider.api = ProviderApi::anthropic;
    } else {
      error(body["api"], path + ".api",
            "expected openai or anthropic, got '" + shown(body["api"], api) + "'");
    }
  }
  read_int(body, path, "max_tokens", 1, 10000000, provider.max_tokens);
  read_bool(body, path, "prompt_caching", provider.prompt_caching);
}

void ConfigReader::read_fallbacks(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    error(node, "fallback_providers", "expected a list of {provider, model}");
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const auto path = "fallback_providers[" + std::to_string(i) + "]";
    FallbackProvider fallback;
    if (item.IsScalar()) {
      if (auto name = scalar(item, path)) fallback.provider = std::move(*name);
    } else if (expect_map(item, path)) {
      check_keys(item, path, {"provider", "model"});
      read_string(item, path, "provider", fallback.provider);
      read_string(item, path, "model", fallback.model);
    } else {
      continue;
    }
    if (fallback.provider.empty()) {
      error(item, path + ".provider", "required: the name of an entry under providers");
      continue;
    }
    config_.fallback_providers.push_back(std::move(fallback));
  }
}

void ConfigReader::read_agent(const YAML::Node& node) {
  if (!expect_map(node, "agent")) return;
  check_keys(
      node, "agent",
      {"system_prompt", "api_max_retries", "request_timeout", "turn_timeout", "turn_hard_timeout",
       "restart_drain_timeout", "stop_drain_timeout", "max_tool_iterations"});
  auto& agent = config_.agent;
  read_string(node, "agent", "system_prompt", agent.system_prompt);
  read_int(node, "agent", "api_max_retries", 1, 20, agent.api_max_retries);
  read_seconds(node, "agent", "request_timeout", agent.request_timeout);
  read_seconds(node, "agent", "turn_timeout", agent.turn_timeout);
  read_seconds(node, "agent", "turn_hard_timeout", agent.turn_hard_timeout);
  read_seconds(node, "agent", "restart_drain_timeout", agent.restart_drain_timeout);
  read_seconds(node, "agent", "stop_drain_timeout", agent.stop_drain_timeout);
  read_int(node, "agent", "max_tool_iterations", 1, 1000, agent.max_tool_iterations);
}

std::map<std::string, std::string> ConfigReader::read_string_map(const YAML::Node& node,
                                                                 const std::string& path) {
  std::map<std::string, std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!expect_map(node, path)) return out;
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    if (auto value = scalar(entry.second, path + "." + name)) out[name] = std::move(*value);
  }
  return out;
}

void ConfigReader::read_mcp_tool_filter(const YAML::Node& tools, const std::string& path,
                                        McpToolFilter& filter) {
  if (!tools.IsDefined() || tools.IsNull() || !expect_map(tools, path)) return;
  check_keys(tools, path, {"include", "exclude", "require_approval", "max_tools"});
  filter.include = read_string_list(tools["include"], path + ".include");
  filter.exclude = read_string_list(tools["exclude"], path + ".exclude");
  filter.require_approval = read_string_list(tools["require_approval"], path + ".require_approval");
  read_int(tools, path, "max_tools", 1, 10000, filter.max_tools);
}

void ConfigReader::read_mcp_servers(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!expect_map(node, "mcp_servers")) return;
  for (const auto& entry : node) {
    const std::string name = entry.first.Scalar();
    const std::string path = "mcp_servers." + name;
    const YAML::Node body = entry.second;
    if (!expect_map(body, path)) continue;
    check_keys(body, path,
               {"command", "args", "env", "url", "headers", "enabled", "timeout", "connect_timeout",
                "tools"});
    McpServerConfig server;
    server.name = name;
    bool name_ok = !name.empty() && name.size() <= 64;
    for (const char c : name) {
      name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
    }
    if (!name_ok) {
      error(entry.first, path,
            "a server name may hold only letters, digits, '_' and '-' (it becomes part of the "
            "tool names)");
    }
    read_string(body, path, "command", server.command);
    server.args = read_string_list(body["args"], path + ".args");
    server.env = read_string_map(body["env"], path + ".env");
    read_string(body, path, "url", server.url);
    server.headers = read_string_map(body["headers"], path + ".headers");
    read_bool(body, path, "enabled", server.enabled);
    read_seconds(body, path, "timeout", server.timeout);
    read_seconds(body, path, "connect_timeout", server.connect_timeout);
    if (server.connect_timeout > kMaxMcpConnectTimeout) {
      // Servers start before READY: past systemd's start timeout (90 s by default) the unit
      // would fail to start and be killed, however healthy the server is.
      error(body["connect_timeout"], path + ".connect_timeout",
            "at most " + std::to_string(kMaxMcpConnectTimeout.count() / 1000) +
                " seconds (servers start before the gateway reports ready, and systemd gives it "
                "90 s), got '" +
                body["connect_timeout"].Scalar() + "'");
    }
    read_mcp_tool_filter(body["tools"], path + ".tools", server.tools);
    if (server.command.empty() == server.url.empty()) {
      error(body, path,
            server.command.empty() ? "needs command (a stdio server) or url (a Streamable HTTP "
                                     "server)"
                                   : "has both command and url; keep one");
    } else if (!server.url.empty() && !server.url.starts_with("http://") &&
               !server.url.starts_with("https://")) {
      error(body["url"], path + ".url",
            "expected an http:// or https:// URL, got '" + shown(body["url"], server.url) + "'");
    }
    config_.mcp_servers.emplace(name, std::move(server));
  }
}

void ConfigReader::read_compression(const YAML::Node& node) {
  if (!expect_map(node, "compression")) return;
  check_keys(node, "compression", {"enabled", "threshold", "protect_last_n", "summary_model"});
  auto& c = config_.compression;
  read_bool(node, "compression", "enabled", c.enabled);
  read_number(node, "compression", "threshold", 0.1, 1.0, c.threshold);
  read_int(node, "compression", "protect_last_n", 0, 10000, c.protect_last_n);
  read_string(node, "compression", "summary_model", c.summary_model);
}

void ConfigReader::read_pricing(const YAML::Node& node) {
  if (!expect_map(node, "pricing")) return;
  for (const auto& entry : node) {
    const std::string model = entry.first.Scalar();
    const std::string path = "pricing." + model;
    if (!expect_map(entry.second, path)) continue;
    check_keys(entry.second, path, {"input", "output", "cache_write", "cache_read"});
    ModelPrice price;
    read_number(entry.second, path, "input", 0, 1e6, price.input);
    read_number(entry.second, path, "output", 0, 1e6, price.output);
    for (const char* cache : {"cache_write", "cache_read"}) {
      if (!entry.second[cache].IsDefined() || entry.second[cache].IsNull()) continue;
      double value = 0;
      read_number(entry.second, path, cache, 0, 1e6, value);
      (std::string_view(cache) == "cache_write" ? price.cache_write : price.cache_read) = value;
    }
    config_.pricing[model] = price;
  }
}

void ConfigReader::read_budgets(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    error(node, "budgets", "expected a list of {name, scope, limit_usd, period}");
    return;
  }
  std::unordered_set<std::string> names;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    const auto path = "budgets[" + std::to_string(i) + "]";
    if (!expect_map(item, path)) continue;
    check_keys(item, path, {"name", "scope", "limit_usd", "period"});
    BudgetConfig budget;
    read_string(item, path, "name", budget.name);
    if (budget.name.empty()) {
      error(item, path + ".name", "required: a name the hint and /metrics can show");
    } else if (!names.insert(budget.name).second) {
      error(item["name"], path + ".name", "'" + budget.name + "' is used twice; names must differ");
    }
    std::string scope = "gateway", period = "day";
    read_string(item, path, "scope", scope);
    read_string(item, path, "period", period);
    if (scope == "chat") {
      budget.scope = BudgetScope::chat;
    } else if (scope == "key") {
      budget.scope = BudgetScope::key;
    } else if (scope == "gateway") {
      budget.scope = BudgetScope::gateway;
    } else {
      error(item["scope"], path + ".scope", "expected chat, key or gateway, got '" + scope + "'");
    }
    if (period == "day") {
      budget.period = BudgetPeriod::day;
    } else if (period == "month") {
      budget.period = BudgetPeriod::month;
    } else {
      error(item["period"], path + ".period", "expected day or month, got '" + period + "'");
    }
    if (!item["limit_usd"].IsDefined()) {
      error(item, path + ".limit_usd", "required: the most to spend in a period, in USD");
    }
    read_number(item, path, "limit_usd", 0, 1e9, budget.limit_usd);
    config_.budgets.push_back(std::move(budget));
  }
}

void ConfigReader::read_display(const YAML::Node& node) {
  if (!expect_map(node, "display")) return;
  check_keys(node, "display", {"busy_input_mode", "tool_progress"});
  std::string progress = "new";
  read_string(node, "display", "tool_progress", progress);
  if (progress == "off") {
    config_.display.tool_progress = ToolProgress::off;
  } else if (progress == "all") {
    config_.display.tool_progress = ToolProgress::all;
  } else if (progress == "new") {
    config_.display.tool_progress = ToolProgress::changed;
  } else {
    error(node["tool_progress"], "display.tool_progress",
          "expected off, new (a line when the tool changes) or all (a line per call), got '" +
              progress + "'");
  }
  std::string mode = "queue";
  read_string(node, "display", "busy_input_mode", mode);
  if (mode == "interrupt") {
    config_.display.busy_input_interrupt = true;
  } else if (mode != "queue") {
    error(node["busy_input_mode"], "display.busy_input_mode",
          "expected queue (a message waits for the running turn) or interrupt (it stops it), "
          "got '" +
              mode + "'");
  }
}

void ConfigReader::read_cron(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!expect_map(node, "cron")) return;
  check_keys(node, "cron", {"timezone", "catch_up", "max_parallel"});
  read_string(node, "cron", "timezone", config_.cron.timezone);
  std::string catch_up = "once";
  read_string(node, "cron", "catch_up", catch_up);
  if (catch_up == "skip") {
    config_.cron.catch_up_skip = true;
  } else if (catch_up != "once") {
    error(node["catch_up"], "cron.catch_up",
          "expected once (the latest firing missed while the gateway was down runs at start) or "
          "skip, got '" +
              shown(node["catch_up"], catch_up) + "'");
  }
  read_int(node, "cron", "max_parallel", 1, 64, config_.cron.max_parallel);
}

void ConfigReader::read_webhooks(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!expect_map(node, "webhooks")) return;
  check_keys(node, "webhooks", {"routes"});
  const YAML::Node routes = node["routes"];
  if (!routes.IsDefined() || routes.IsNull() || !expect_map(routes, "webhooks.routes")) return;
  for (const auto& entry : routes) {
    const std::string name = entry.first.Scalar();
    const std::string path = "webhooks.routes." + name;
    const bool valid_name =
        !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        });
    if (!valid_name) {
      error(entry.first, path, "a route name is 1-64 letters, digits, - or _ (it is in the URL)");
      continue;
    }
    const YAML::Node body = entry.second;
    if (!expect_map(body, path)) continue;
    check_keys(body, path, {"secret", "signature", "prompt", "deliver", "cron_job"});
    WebhookRoute route;
    read_string(body, path, "secret", route.secret);
    route.secret = trimmed_key(route.secret);
    std::string signature = "github";
    read_string(body, path, "signature", signature);
    if (signature == "generic") {
      route.signature = WebhookSignature::generic;
    } else if (signature != "github") {
      error(body["signature"], path + ".signature",
            "expected github (X-Hub-Signature-256) or generic (X-Webhook-Signature), got '" +
                shown(body["signature"], signature) + "'");
    }
    read_string(body, path, "prompt", route.prompt);
    read_string(body, path, "deliver", route.deliver);
    read_string(body, path, "cron_job", route.cron_job);
    if (route.prompt.empty() == route.cron_job.empty()) {
      error(body, path,
            "give either prompt (what the agent is asked, with {payload.path} from the JSON "
            "body) or cron_job (the id of a job to fire), not both or neither");
    }
    config_.webhook_routes[name] = std::move(route);
  }
}

// A route is authenticated by its signature alone: without a secret anyone who reaches the
// port could make the agent work, so only a loopback-only API server may have one.
void ConfigReader::validate_webhooks(const YAML::Node& root) {
  const auto& api = config_.gateway.api_server;
  for (const auto& [name, route] : config_.webhook_routes) {
    if (!route.secret.empty() || is_loopback_host(api.host)) continue;
    error(child(child(root, "webhooks"), "routes")[name], "webhooks.routes." + name,
          "has no secret while the API server listens on " + api.host +
              ": anyone who can reach it could run the agent; set secret: ${...} (and the "
              "sender's signing secret to the same), or serve on 127.0.0.1 only");
  }
}

void ConfigReader::read_builtin_tools(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!expect_map(node, "tools")) return;
  check_keys(node, "tools", {"builtin", "workspace", "terminal", "web_fetch"});
  auto& tools = config_.tools;
  if (const YAML::Node builtin = node["builtin"]; builtin.IsDefined() && !builtin.IsNull()) {
    tools.terminal = tools.files = tools.web_fetch = tools.memory = tools.session_search = false;
    const std::map<std::string, bool*> groups{{"terminal", &tools.terminal},
                                              {"files", &tools.files},
                                              {"web_fetch", &tools.web_fetch},
                                              {"memory", &tools.memory},
                                              {"session_search", &tools.session_search}};
    for (const auto& name : read_string_list(builtin, "tools.builtin")) {
      const auto group = groups.find(name);
      if (group == groups.end()) {
        error(builtin, "tools.builtin",
              "unknown tool '" + name +
                  "'; expected any of terminal, files, web_fetch, memory, session_search");
        continue;
      }
      *group->second = true;
    }
  }
  read_string(node, "tools", "workspace", tools.workspace);
  read_terminal(node["terminal"]);
  const YAML::Node web = node["web_fetch"];
  if (web.IsDefined() && !web.IsNull() && expect_map(web, "tools.web_fetch")) {
    check_keys(web, "tools.web_fetch", {"allow_private"});
    read_bool(web, "tools.web_fetch", "allow_private", tools.web_allow_private);
  }
}

void ConfigReader::read_terminal(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull() || !expect_map(node, "tools.terminal")) return;
  auto& tools = config_.tools;
  check_keys(node, "tools.terminal", {"timeout", "network", "sandbox"});
  read_seconds(node, "tools.terminal", "timeout", tools.terminal_timeout);
  std::string network = "all";
  read_string(node, "tools.terminal", "network", network);
  if (network == "none") {
    tools.terminal_network = false;
  } else if (network != "all") {
    error(node["network"], "tools.terminal.network",
          "expected all or none (a network namespace with only loopback), got '" +
              shown(node["network"], network) + "'");
  }
  // YAML reads a bare `off`/`on` as a boolean; both spellings mean the same here.
  std::string sandbox = "on";
  read_string(node, "tools.terminal", "sandbox", sandbox);
  if (sandbox == "off" || sandbox == "false") {
    tools.sandbox = false;
  } else if (sandbox != "on" && sandbox != "true") {
    error(node["sandbox"], "tools.terminal.sandbox",
          "expected on or off (commands run unconfined), got '" + shown(node["sandbox"], sandbox) +
              "'");
  }
}

void ConfigReader::read_approvals(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!expect_map(node, "approvals")) return;
  check_keys(node, "approvals", {"unattended"});
  std::string unattended;
  read_string(node, "approvals", "unattended", unattended);
  if (unattended == "allow") {
    config_.approvals.unattended_allow = true;
  } else if (!unattended.empty() && unattended != "deny") {
    error(node["unattended"], "approvals.unattended",
          "expected deny or allow, got '" + shown(node["unattended"], unattended) + "'");
  }
}

void ConfigReader::read_database(const YAML::Node& node) {
  if (!expect_map(node, "database")) return;
  check_keys(node, "database", {"backend", "synchronous", "url"});
  auto& database = config_.database;
  if (const YAML::Node backend = node["backend"]; backend.IsDefined() && !backend.IsNull()) {
    if (auto value = scalar(backend, "database.backend")) {
      if (*value == "sqlite" || *value == "postgres") {
        database.backend = *value;
      } else {
        error(backend, "database.backend",
              "expected sqlite (one gateway, $HERMES_HOME/state.db) or postgres (several "
              "gateways on one database), got '" +
                  shown(backend, *value) + "'");
      }
    }
  }
  if (const YAML::Node url = node["url"]; url.IsDefined() && !url.IsNull()) {
    if (auto value = scalar(url, "database.url")) database.url = *value;
  }
  if (database.url.empty()) {
    if (auto from_env = env_.get("HERMES_DATABASE_URL")) database.url = *from_env;
  }
  if (database.backend == "postgres") {
    const auto& u = database.url;
    if (u.empty()) {
      error(node, "database.url",
            "database.backend postgres needs a URL: set database.url (e.g. "
            "postgresql://hermes:PASSWORD@db.example:5432/hermes) or HERMES_DATABASE_URL");
    } else if (u.rfind("postgresql://", 0) != 0 && u.rfind("postgres://", 0) != 0 &&
               u.find('=') == std::string::npos) {
      // Shown without its value: it may hold a password.
      error(node["url"] ? node["url"] : node, "database.url",
            "expected a postgresql:// URL or a libpq conninfo string (host=... dbname=...)");
    }
  } else if (node["url"].IsDefined() && !node["url"].IsNull()) {
    warn(node["url"], "database.url", "used only with database.backend: postgres; ignored");
  }
  if (const YAML::Node sync = node["synchronous"]; sync.IsDefined() && !sync.IsNull()) {
    if (auto value = scalar(sync, "database.synchronous")) {
      if (*value == "normal") {
        database.synchronous = Durability::normal;
      } else if (*value == "full") {
        database.synchronous = Durability::full;
      } else {
        error(sync, "database.synchronous",
              "expected normal (survives a crash of the process) or full (survives a power "
              "loss), got '" +
                  shown(sync, *value) + "'");
      }
    }
  }
}

void ConfigReader::read_gateway(const YAML::Node& node) {
  if (!expect_map(node, "gateway")) return;
  check_keys(
      node, "gateway",
      {"api_server", "dashboard", "telegram", "discord", "slack", "group_sessions_per_user"});
  read_bool(node, "gateway", "group_sessions_per_user", config_.gateway.group_sessions_per_user);

  const YAML::Node api = node["api_server"];
  if (api.IsDefined() && expect_map(api, "gateway.api_server")) {
    const std::string path = "gateway.api_server";
    check_keys(api, path, {"enabled", "host", "port", "key"});
    auto& server = config_.gateway.api_server;
    read_bool(api, path, "enabled", server.enabled);
    read_string(api, path, "host", server.host);
    read_int(api, path, "port", 1, 65535, server.port);
    read_string(api, path, "key", server.key);
  }

  const YAML::Node dashboard = node["dashboard"];
  if (dashboard.IsDefined() && expect_map(dashboard, "gateway.dashboard")) {
    check_keys(dashboard, "gateway.dashboard", {"enabled"});
    read_bool(dashboard, "gateway.dashboard", "enabled", config_.gateway.dashboard.enabled);
  }

  const YAML::Node telegram = node["telegram"];
  if (telegram.IsDefined() && expect_map(telegram, "gateway.telegram")) {
    const std::string path = "gateway.telegram";
    check_keys(telegram, path,
               {"enabled", "bot_token", "api_base", "allowed_users", "allow_all_users",
                "require_mention", "streaming"});
    auto& tg = config_.gateway.telegram;
    read_bool(telegram, path, "enabled", tg.enabled);
    read_string(telegram, path, "bot_token", tg.bot_token);
    read_string(telegram, path, "api_base", tg.api_base);
    tg.allowed_users = read_string_list(telegram["allowed_users"], path + ".allowed_users");
    read_bool(telegram, path, "allow_all_users", tg.allow_all_users);
    read_bool(telegram, path, "require_mention", tg.require_mention);
    read_bool(telegram, path, "streaming", tg.streaming);
  }
  read_discord(node["discord"]);
  read_slack(node["slack"]);
}

void ConfigReader::read_slack(const YAML::Node& slack) {
  if (!slack.IsDefined() || !expect_map(slack, "gateway.slack")) return;
  const std::string path = "gateway.slack";
  check_keys(slack, path,
             {"enabled", "bot_token", "app_token", "api_base", "allowed_users", "allow_all_users",
              "require_mention", "streaming"});
  auto& sc = config_.gateway.slack;
  read_bool(slack, path, "enabled", sc.enabled);
  read_string(slack, path, "bot_token", sc.bot_token);
  read_string(slack, path, "app_token", sc.app_token);
  read_string(slack, path, "api_base", sc.api_base);
  sc.allowed_users = read_string_list(slack["allowed_users"], path + ".allowed_users");
  read_bool(slack, path, "allow_all_users", sc.allow_all_users);
  read_bool(slack, path, "require_mention", sc.require_mention);
  read_bool(slack, path, "streaming", sc.streaming);
}

void ConfigReader::read_discord(const YAML::Node& discord) {
  if (!discord.IsDefined() || !expect_map(discord, "gateway.discord")) return;
  const std::string path = "gateway.discord";
  check_keys(discord, path,
             {"enabled", "bot_token", "api_base", "allowed_users", "allow_all_users",
              "require_mention", "free_response_channels", "streaming"});
  auto& dc = config_.gateway.discord;
  read_bool(discord, path, "enabled", dc.enabled);
  read_string(discord, path, "bot_token", dc.bot_token);
  read_string(discord, path, "api_base", dc.api_base);
  dc.allowed_users = read_string_list(discord["allowed_users"], path + ".allowed_users");
  read_bool(discord, path, "allow_all_users", dc.allow_all_users);
  read_bool(discord, path, "require_mention", dc.require_mention);
  dc.free_response_channels =
      read_string_list(discord["free_response_channels"], path + ".free_response_channels");
  read_bool(discord, path, "streaming", dc.streaming);
}

// Discord ids are snowflakes: decimal text up to 20 digits (read as text, never a double).
void ConfigReader::check_snowflakes(const YAML::Node& list, const std::string& path,
                                    const std::vector<std::string>& ids, const char* what) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& id = ids[i];
    const bool digits =
        !id.empty() && id.size() <= 20 &&
        std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      const YAML::Node item = list.IsSequence() && i < list.size() ? list[i] : list;
      error(item, path + "[" + std::to_string(i) + "]",
            std::string("expected a Discord ") + what +
                " id (digits, e.g. 123456789012345678), got '" + shown(item, id) + "'");
    }
  }
}

void ConfigReader::validate_discord(const YAML::Node& root) {
  auto& dc = config_.gateway.discord;
  if (dc.bot_token.empty()) {
    if (auto from_env = env_.get("DISCORD_BOT_TOKEN")) dc.bot_token = *from_env;
  }
  dc.bot_token = trimmed_key(dc.bot_token);
  const YAML::Node discord = child(child(root, "gateway"), "discord");
  if (!dc.enabled) return;
  if (dc.bot_token.empty()) {
    error(discord, "gateway.discord.bot_token",
          "required when discord is enabled (or set DISCORD_BOT_TOKEN); copy it from the "
          "Developer Portal's Bot page");
  }
  if (!dc.api_base.starts_with("http://") && !dc.api_base.starts_with("https://")) {
    error(child(discord, "api_base"), "gateway.discord.api_base",
          "expected an http:// or https:// URL, got '" +
              shown(child(discord, "api_base"), dc.api_base) + "'");
  }
  check_snowflakes(child(discord, "allowed_users"), "gateway.discord.allowed_users",
                   dc.allowed_users, "user");
  check_snowflakes(child(discord, "free_response_channels"),
                   "gateway.discord.free_response_channels", dc.free_response_channels, "channel");
  if (dc.allowed_users.empty() && !dc.allow_all_users) {
    // Anyone who shares a server with the bot would spend the owner's credit.
    error(child(discord, "allowed_users"), "gateway.discord.allowed_users",
          "empty, so anyone who can message the bot could use it (and your API credit); list "
          "the Discord user ids allowed, or set gateway.discord.allow_all_users: true to open "
          "it on purpose");
  }
}

// A token from the file or the environment, trimmed; with the wrong prefix it is named (never
// shown: it may be the other secret pasted in the wrong place).
void ConfigReader::check_slack_token(const YAML::Node& slack, const char* key, std::string& token,
                                     const char* env_name, std::string_view prefix,
                                     const char* what) {
  if (token.empty()) {
    if (auto from_env = env_.get(env_name)) token = *from_env;
  }
  token = trimmed_key(token);
  if (!config_.gateway.slack.enabled) return;
  const std::string path = std::string("gateway.slack.") + key;
  if (token.empty()) {
    error(slack, path,
          std::string("required when slack is enabled (or set ") + env_name + "): the " + what);
  } else if (!token.starts_with(prefix)) {
    // Never its value: only what kind of token it looks like.
    const bool swapped = token.starts_with(prefix == "xoxb-" ? "xapp-" : "xoxb-");
    error(child(slack, key), path,
          std::string("expected the ") + what + " (" + std::string(prefix) + "…), got " +
              (swapped ? "the other Slack token: the xoxb- one is bot_token, the xapp- one "
                         "app_token"
                       : "a value that does not start with " + std::string(prefix)));
  }
}

void ConfigReader::validate_slack(const YAML::Node& root) {
  auto& sc = config_.gateway.slack;
  const YAML::Node slack = child(child(root, "gateway"), "slack");
  check_slack_token(slack, "bot_token", sc.bot_token, "SLACK_BOT_TOKEN", "xoxb-",
                    "Bot User OAuth Token from your app's OAuth & Permissions page");
  check_slack_token(slack, "app_token", sc.app_token, "SLACK_APP_TOKEN", "xapp-",
                    "App-Level Token with connections:write from your app's Basic Information "
                    "page");
  if (!sc.enabled) return;
  if (!sc.api_base.starts_with("http://") && !sc.api_base.starts_with("https://")) {
    error(child(slack, "api_base"), "gateway.slack.api_base",
          "expected an http:// or https:// URL, got '" +
              shown(child(slack, "api_base"), sc.api_base) + "'");
  }
  const YAML::Node users = child(slack, "allowed_users");
  for (std::size_t i = 0; i < sc.allowed_users.size(); ++i) {
    const auto& id = sc.allowed_users[i];
    const bool member_id = id.size() >= 2 && id.size() <= 24 && (id[0] == 'U' || id[0] == 'W') &&
                           std::all_of(id.begin(), id.end(), [](char c) {
                             return std::isupper(static_cast<unsigned char>(c)) ||
                                    std::isdigit(static_cast<unsigned char>(c));
                           });
    if (!member_id) {
      const YAML::Node item = users.IsSequence() && i < users.size() ? users[i] : users;
      error(item, "gateway.slack.allowed_users[" + std::to_string(i) + "]",
            "expected a Slack member id (U or W and capitals or digits, e.g. U0123ABCD; in Slack: "
            "your profile > ⋮ > Copy member ID), got '" +
                shown(item, id) + "'");
    }
  }
  if (sc.allowed_users.empty() && !sc.allow_all_users) {
    // Anyone in the workspace could spend the owner's credit.
    error(users, "gateway.slack.allowed_users",
          "empty, so anyone in the workspace could use the bot (and your API credit); list the "
          "Slack member ids allowed, or set gateway.slack.allow_all_users: true to open it on "
          "purpose");
  }
}

void ConfigReader::validate(const YAML::Node& root) {
  const YAML::Node model = child(root, "model");
  if (config_.model.provider.empty()) {
    error(model, "model.provider", "required: the name of an entry under providers");
  } else if (!config_.providers.contains(config_.model.provider)) {
    error(child(model, "provider"), "model.provider",
          "'" + config_.model.provider + "' is not defined under providers");
  }
  if (config_.model.default_model.empty()) {
    error(model, "model.default", "required: the model name to ask the provider for");
  }
  const YAML::Node fallbacks = child(root, "fallback_providers");
  for (std::size_t i = 0; i < config_.fallback_providers.size(); ++i) {
    const auto& name = config_.fallback_providers[i].provider;
    if (!config_.providers.contains(name)) {
      error(fallbacks, "fallback_providers[" + std::to_string(i) + "].provider",
            "'" + name + "' is not defined under providers");
    }
  }

  const auto& server = config_.gateway.api_server;
  const YAML::Node api = child(child(root, "gateway"), "api_server");
  if (server.enabled && server.host.empty()) {
    error(api, "gateway.api_server.host", "must not be empty (use 127.0.0.1 for local only)");
  } else if (server.enabled && server.key.empty() && !is_loopback_host(server.host)) {
    error(child(api, "host"), "gateway.api_server.host",
          "'" + shown(child(api, "host"), server.host) +
              "' is reachable from other machines but gateway.api_server.key is empty; set a key "
              "or bind 127.0.0.1");
  }

  auto& tg = config_.gateway.telegram;
  if (tg.bot_token.empty()) {
    if (auto from_env = env_.get("TELEGRAM_BOT_TOKEN")) tg.bot_token = *from_env;
  }
  const YAML::Node telegram = child(child(root, "gateway"), "telegram");
  if (tg.enabled && tg.bot_token.empty()) {
    error(telegram, "gateway.telegram.bot_token",
          "required when telegram is enabled (or set TELEGRAM_BOT_TOKEN)");
  }
  if (tg.enabled && !tg.api_base.starts_with("http://") && !tg.api_base.starts_with("https://")) {
    error(child(telegram, "api_base"), "gateway.telegram.api_base",
          "expected an http:// or https:// URL, got '" +
              shown(child(telegram, "api_base"), tg.api_base) + "'");
  }
  if (tg.enabled && tg.allowed_users.empty() && !tg.allow_all_users) {
    // Anyone who finds the bot would spend the owner's credit.
    error(child(telegram, "allowed_users"), "gateway.telegram.allowed_users",
          "empty, so anyone on Telegram could use the bot (and your API credit); list the user "
          "ids or @usernames allowed, or set gateway.telegram.allow_all_users: true to open it "
          "on purpose");
  }
  validate_discord(root);
  validate_slack(root);
  if (!server.enabled && !tg.enabled && !config_.gateway.discord.enabled &&
      !config_.gateway.slack.enabled) {
    warn(child(root, "gateway"), "gateway",
         "no platform is enabled; the gateway will serve nothing");
  }
}

ConfigLoadResult ConfigReader::read(const YAML::Node& root) {
  if (!root.IsMap()) {
    result_.errors.push_back(file_name_ +
                             ": expected a YAML mapping at the top level (model:, providers:, …)");
    return std::move(result_);
  }
  check_keys(
      root, "",
      {"model", "providers", "fallback_providers", "agent", "gateway", "database", "mcp_servers",
       "approvals", "compression", "pricing", "budgets", "display", "cron", "webhooks", "tools"});
  read_model(child(root, "model"));
  read_providers(child(root, "providers"));
  read_fallbacks(child(root, "fallback_providers"));
  read_agent(child(root, "agent"));
  read_gateway(child(root, "gateway"));
  read_database(child(root, "database"));
  read_mcp_servers(child(root, "mcp_servers"));
  read_approvals(child(root, "approvals"));
  read_compression(child(root, "compression"));
  read_pricing(child(root, "pricing"));
  read_budgets(child(root, "budgets"));
  read_display(child(root, "display"));
  read_cron(child(root, "cron"));
  read_webhooks(child(root, "webhooks"));
  read_builtin_tools(child(root, "tools"));
  validate(root);
  validate_webhooks(root);
  if (result_.errors.empty()) result_.config = std::move(config_);
  return std::move(result_);
}

}  // namespace

ConfigLoadResult parse_config(std::string_view yaml_text, std::string_view file_name,
                              const Environment& env) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    ConfigLoadResult result;
    result.errors.push_back(std::string(file_name) + ":" + std::to_string(e.mark.line + 1) +
                            ": not valid YAML: " + e.msg);
    return result;
  }
  return ConfigReader(file_name, env).read(root);
}

ConfigLoadResult load_config_file(const std::filesystem::path& file, const Environment& env) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  const auto refuse = [&](const std::string& why) {
    ConfigLoadResult result;
    result.errors.push_back(file.string() + ": " + why);
    return result;
  };
  if (ec == std::errc::permission_denied) {
    return refuse("cannot be reached (permission denied on " + file.parent_path().string() +
                  "); check the permissions of the home directory");
  }
  if (!std::filesystem::exists(status)) {
    return refuse(
        "no such file; create it (start from config.example.yaml) or pass "
        "--home/--config");
  }
  // Only a regular file of sane size: a FIFO would block the start, /dev/zero eat memory.
  if (!std::filesystem::is_regular_file(status)) {
    return refuse(std::filesystem::is_directory(status)
                      ? "is a directory; --config names the file itself (…/config.yaml)"
                      : "is not a regular file");
  }
  if (const auto size = std::filesystem::file_size(file, ec); !ec && size > kMaxConfigBytes) {
    return refuse("is " + std::to_string(size) + " bytes; a config is at most " +
                  std::to_string(kMaxConfigBytes) + " bytes");
  }
  std::ifstream in(file);
  if (!in) {
    ConfigLoadResult result;
    result.errors.push_back(file.string() + ": cannot be read (check its permissions)");
    return result;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), file.string(), env);
}

}  // namespace hermes
