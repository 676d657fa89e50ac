#include "daemon/dashboard/dashboard_json.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

namespace hermes::daemon::dashboard {

namespace {

using nlohmann::json;

json optional_time(const std::optional<double>& at) {
  return at ? json(*at) : json(nullptr);
}

json gateway_json(const GatewayFacts& g) {
  return {{"state", g.state},
          {"version", g.version},
          {"pid", g.pid},
          {"uptime_seconds", g.uptime_seconds},
          {"started_at", g.started_at},
          {"restarts", g.restarts},
          {"sessions", g.sessions},
          {"store_problem", g.store_problem},
          {"reload", {{"at", g.reload_at}, {"ok", g.reload_ok}, {"error", g.reload_error}}}};
}

json row(const PlatformStatus& p) {
  return {{"name", p.name},
          {"state", p.state},
          {"detail", p.detail},
          {"last_event_at", p.last_event_at},
          {"last_delivery_at", p.last_delivery_at},
          {"abandoned", p.abandoned}};
}

json row(const ToolFacts& t) {
  return {{"name", t.name},
          {"kind", t.kind},
          {"state", t.state},
          {"tools", t.tools},
          {"last_error", t.last_error}};
}

json row(const ActiveRun& r) {
  return {{"id", r.id},
          {"platform", r.platform},
          {"session_id", r.session_id},
          {"started_at", r.started_at},
          {"step", r.step}};
}

json row(const ProviderCooldown& c) {
  return {{"provider", c.provider},
          {"key_index", c.key_index},
          {"reason", c.reason},
          {"seconds_left", c.seconds_left}};
}

json row(const usage::UsageLedger::BudgetUse& b) {
  const double percent = b.limit_usd > 0 ? 100.0 * b.spent_usd / b.limit_usd : 0.0;
  return {{"name", b.name},
          {"limit_usd", b.limit_usd},
          {"spent_usd", b.spent_usd},
          {"percent", percent},
          {"resets_at", b.resets_at}};
}

json row(const TurnFailure& f) {
  return {{"at", f.at},
          {"platform", f.platform},
          {"session_id", f.session_id},
          {"provider", f.provider},
          {"model", f.model},
          {"reason", f.reason},
          {"hint", f.hint}};
}

json row(const cron::Job& j) {
  return {{"id", j.id},
          {"name", j.name},
          {"schedule", j.schedule},
          {"enabled", j.enabled},
          {"next_run", optional_time(j.next_run)},
          {"last_run", optional_time(j.last_run)},
          {"last_status", j.last_status},
          {"deliver", j.deliver}};
}

json totals_json(const std::vector<usage::UsageTotal>& totals, const char* key) {
  json out = json::array();
  for (const auto& t : totals) {
    out.push_back(
        {{key, t.group}, {"cost_usd", t.cost_usd}, {"tokens", t.total_tokens}, {"calls", t.calls}});
  }
  return out;
}

// The stored tool_calls (OpenAI's array) as {id, name, arguments}; unreadable ones are skipped.
json tool_calls_json(const std::string& stored) {
  json out = json::array();
  if (stored.empty()) return out;
  const auto calls = json::parse(stored, nullptr, false);
  if (!calls.is_array()) return out;
  for (const auto& call : calls) {
    if (!call.is_object()) continue;
    const auto function = call.value("function", json::object());
    if (!function.is_object()) continue;
    out.push_back({{"id", call.value("id", "")},
                   {"name", function.value("name", "")},
                   {"arguments", function.value("arguments", "")}});
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

json row(const SessionRow& s) {
  return {{"id", s.id},
          {"platform", s.platform},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at},
          {"messages", s.messages},
          {"title", s.title}};
}

// A list as the array of its items' rows.
template <typename Item>
json array_of(const std::vector<Item>& items) {
  json out = json::array();
  for (const auto& item : items) out.push_back(row(item));
  return out;
}

std::string utc_date(std::int64_t day) {
  const std::time_t at = day * 86400;
  std::tm tm{};
  gmtime_r(&at, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

void add_to(usage::UsageTotal& total, const usage::UsageLedger::DayUse& use) {
  total.calls += use.calls;
  total.total_tokens += use.tokens;
  total.cost_usd += use.cost_usd;
}

std::vector<usage::UsageTotal> biggest_first(std::map<std::string, usage::UsageTotal> groups) {
  std::vector<usage::UsageTotal> out;
  for (auto& [name, total] : groups) {
    total.group = name;
    out.push_back(std::move(total));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.cost_usd > b.cost_usd; });
  return out;
}

}  // namespace

SpendTotals spend_totals(const usage::UsageLedger::UsageDays& use, std::int64_t first_day) {
  std::map<std::int64_t, usage::UsageTotal> days;
  std::map<std::string, usage::UsageTotal> models, providers;
  for (const auto& [key, day_use] : use) {
    const auto& [day, provider, model] = key;
    if (day < first_day) continue;
    add_to(days[day], day_use);
    add_to(models[model], day_use);
    add_to(providers[provider], day_use);
  }
  SpendTotals totals;
  for (auto& [day, total] : days) {
    total.group = utc_date(day);
    totals.days.push_back(std::move(total));
  }
  totals.by_model = biggest_first(std::move(models));
  totals.by_provider = biggest_first(std::move(providers));
  return totals;
}

std::string overview_json(const Overview& o) {
  return json{{"gateway", gateway_json(o.gateway)}, {"platforms", array_of(o.platforms)},
              {"tools", array_of(o.tools)},         {"runs", array_of(o.runs)},
              {"cooldowns", array_of(o.cooldowns)}, {"budgets", array_of(o.budgets)},
              {"failures", array_of(o.failures)},   {"jobs", array_of(o.jobs)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string spend_json(const SpendTotals& totals) {
  return json{{"days", totals_json(totals.days, "day")},
              {"by_model", totals_json(totals.by_model, "name")},
              {"by_provider", totals_json(totals.by_provider, "name")}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string sessions_json(const std::vector<SessionRow>& sessions) {
  return json{{"sessions", array_of(sessions)}}.dump(-1, ' ', false,
                                                     json::error_handler_t::replace);
}

std::string transcript_json(const SessionTranscript& t) {
  json messages = json::array();
  for (const auto& m : t.messages) {
    messages.push_back({{"role", m.role},
                        {"content", m.content},
                        {"tool_calls", tool_calls_json(m.tool_calls)},
                        {"tool_call_id", m.tool_call_id}});
  }
  return json{{"id", t.session.id},
              {"platform", t.session.platform},
              {"created_at", t.session.created_at},
              {"messages", messages}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse with_dashboard_headers(HttpResponse response) {
  response.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse dashboard_json(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return with_dashboard_headers(std::move(response));
}

HttpResponse dashboard_error(int status, std::string_view message) {
  return dashboard_json(status, json{{"error", {{"message", message}}}}.dump(
                                    -1, ' ', false, json::error_handler_t::replace));
}

std::string cross_site_refusal(std::string_view host, std::string_view origin, bool key_required) {
  if (!origin.empty() && origin != "http://" + std::string(host) &&
      origin != "https://" + std::string(host)) {
    return "Refused: this request comes from another site (" + std::string(origin) +
           "); the dashboard's API answers its own page only.";
  }
  if (key_required) return {};
  // The name without its port: "127.0.0.1:8642", "[::1]:8642", "localhost".
  std::string_view name = host;
  if (name.starts_with('[')) {
    name = name.substr(0, name.find(']') + 1);
  } else if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  if (name == "127.0.0.1" || name == "localhost" || name == "[::1]") return {};
  return "Refused: this gateway has no API key, so its dashboard answers only on 127.0.0.1 or "
         "localhost (this request was for " +
         std::string(host) + "); set gateway.api_server.key to reach it by another name.";
}

std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
               hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string query_value(std::string_view query, std::string_view name, std::string_view fallback) {
  for (const auto& [key, value] : query_params(query)) {
    if (key == name) return percent_decoded(value);
  }
  return std::string(fallback);
}

}  // namespace hermes::daemon::dashboard
