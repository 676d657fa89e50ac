#include "daemon/metrics/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace hermes::daemon {

namespace {

// Label values are ours (routes, reasons), but escape anyway: the format requires it.
std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void header(std::ostream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

// A family of one unlabelled sample.
template <typename Value>
void single(std::ostream& out, const char* name, const char* type, const char* help, Value value) {
  header(out, name, type, help);
  out << name << ' ' << value << '\n';
}

// One sample with one label: name{label="label_value"} value
template <typename Value>
void sample(std::ostream& out, const char* name, const char* label, const std::string& label_value,
            Value value) {
  out << name << '{' << label << "=\"" << escape(label_value) << "\"} " << value << '\n';
}

// The stream's default 6 significant digits would print a unix time as 1.71235e+09.
std::string unix_time(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3f", seconds);
  return buffer;
}

}  // namespace

void LabelledHistogram::observe(const std::string& label, double seconds) {
  auto& series = series_[label];
  std::size_t bucket = 0;
  while (bucket < std::size(kBuckets) && seconds > kBuckets[bucket]) ++bucket;
  ++series.counts[bucket];
  series.sum += std::max(0.0, seconds);
}

void LabelledHistogram::render(std::ostream& out, const char* name, const char* label_name) const {
  for (const auto& [label, series] : series_) {
    const std::string labels = std::string(label_name) + "=\"" + escape(label) + "\"";
    long long cumulative = 0;
    for (std::size_t i = 0; i < std::size(kBuckets); ++i) {
      cumulative += series.counts[i];
      out << name << "_bucket{" << labels << ",le=\"" << kBuckets[i] << "\"} " << cumulative
          << '\n';
    }
    cumulative += series.counts[std::size(kBuckets)];
    out << name << "_bucket{" << labels << ",le=\"+Inf\"} " << cumulative << '\n'
        << name << "_sum{" << labels << "} " << series.sum << '\n'
        << name << "_count{" << labels << "} " << cumulative << '\n';
  }
}

void Metrics::count_tokens(const std::string& provider, const std::string& model, long prompt,
                           long completion, long cache_write, long cache_read) {
  tokens_[{provider, model, "prompt"}] += prompt;
  tokens_[{provider, model, "completion"}] += completion;
  if (cache_write > 0) tokens_[{provider, model, "cache_write"}] += cache_write;
  if (cache_read > 0) tokens_[{provider, model, "cache_read"}] += cache_read;
}

void Metrics::observe_drain(std::chrono::duration<double> duration) {
  ++drains_;
  drain_seconds_sum_ += duration.count();
}

void Metrics::observe_tool_call(const std::string& server, std::chrono::duration<double> took) {
  auto& [count, seconds] = tool_calls_[server.empty() ? "none" : server];
  ++count;
  seconds += took.count();
}

void Metrics::observe_loop_lag(std::chrono::steady_clock::duration lag) {
  const double seconds = std::max(0.0, std::chrono::duration<double>(lag).count());
  std::size_t bucket = 0;
  while (bucket < std::size(kLagBuckets) && seconds > kLagBuckets[bucket]) ++bucket;
  ++lag_counts_[bucket];
  lag_sum_ += seconds;
  lag_max_ = std::max(lag_max_, seconds);
}

std::string Metrics::render(const std::string& version, double uptime_seconds) const {
  std::ostringstream out;
  header(out, "hermes_build_info", "gauge", "Build information.");
  out << "hermes_build_info{version=\"" << escape(version) << "\"} 1\n";
  single(out, "hermes_uptime_seconds", "gauge", "Seconds since the daemon started.",
         uptime_seconds);
  render_traffic(out);
  render_workload(out);
  render_liveness(out);
  render_tool_calls(out);
  render_loop_lag(out);
  render_usage(out);
  render_latency(out);
  render_budgets(out);
  return out.str();
}

void Metrics::render_traffic(std::ostream& out) const {
  header(out, "hermes_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [key, n] : requests_) {
    out << "hermes_http_requests_total{route=\"" << escape(key.first) << "\",status=\""
        << key.second << "\"} " << n << '\n';
  }
  header(out, "hermes_turns_total", "counter", "Agent turns by outcome.");
  for (const auto& [outcome, n] : turns_) sample(out, "hermes_turns_total", "outcome", outcome, n);
  header(out, "hermes_provider_errors_total", "counter", "Provider errors by failover reason.");
  for (const auto& [reason, n] : provider_errors_) {
    sample(out, "hermes_provider_errors_total", "reason", reason, n);
  }
  single(out, "hermes_provider_retries_total", "counter", "Provider calls retried.", retries_);
  single(out, "hermes_credential_rotations_total", "counter", "Switches to the next API key.",
         rotations_);
  single(out, "hermes_provider_fallbacks_total", "counter", "Switches to a fallback provider.",
         fallbacks_);
}

void Metrics::render_workload(std::ostream& out) const {
  single(out, "hermes_active_runs", "gauge", "Agent turns running now.", active_runs_);
  single(out, "hermes_sessions", "gauge", "Stored sessions.", sessions_);
  header(out, "hermes_cron_runs_total", "counter", "Job and webhook runs ended, by status.");
  for (const auto& [status, n] : cron_runs_)
    sample(out, "hermes_cron_runs_total", "status", status, n);
  header(out, "hermes_cron_run_deliveries", "gauge", "Stored job and webhook runs by delivery.");
  for (const auto& [delivery, n] : cron_deliveries_) {
    sample(out, "hermes_cron_run_deliveries", "delivery", delivery, n);
  }
  header(out, "hermes_webhook_requests_total", "counter", "Webhook requests by route and result.");
  for (const auto& [key, n] : webhooks_) {
    out << "hermes_webhook_requests_total{route=\"" << escape(key.first) << "\",result=\""
        << escape(key.second) << "\"} " << n << '\n';
  }
  header(out, "hermes_drain_duration_seconds", "summary", "Time spent draining before exit.");
  out << "hermes_drain_duration_seconds_count " << drains_ << '\n'
      << "hermes_drain_duration_seconds_sum " << drain_seconds_sum_ << '\n';
}

void Metrics::render_liveness(std::ostream& out) const {
  header(out, "hermes_mcp_server_up", "gauge", "1 while the MCP server is ready.");
  for (const auto& [server, up] : mcp_up_) {
    sample(out, "hermes_mcp_server_up", "server", server, up ? 1 : 0);
  }
  header(out, "hermes_platform_up", "gauge",
         "1 unless the platform is in error or silent past its limit.");
  for (const auto& [platform, liveness] : platforms_) {
    sample(out, "hermes_platform_up", "platform", platform, liveness.up ? 1 : 0);
  }
  header(out, "hermes_platform_last_event_timestamp_seconds", "gauge",
         "When the platform last answered or sent an event (0 = not yet).");
  for (const auto& [platform, liveness] : platforms_) {
    sample(out, "hermes_platform_last_event_timestamp_seconds", "platform", platform,
           unix_time(liveness.last_event_at));
  }
}

void Metrics::render_tool_calls(std::ostream& out) const {
  single(out, "hermes_tool_calls_running", "gauge", "Tool calls running now.", tool_calls_running_);
  header(out, "hermes_tool_call_duration_seconds", "summary", "Tool calls by MCP server.");
  for (const auto& [server, totals] : tool_calls_) {
    sample(out, "hermes_tool_call_duration_seconds_count", "server", server, totals.first);
    sample(out, "hermes_tool_call_duration_seconds_sum", "server", server, totals.second);
  }
}

void Metrics::render_loop_lag(std::ostream& out) const {
  header(out, "hermes_event_loop_lag_seconds", "histogram",
         "How late the event loop ran a timer that was due: time the loop was held by work.");
  long long cumulative = 0;
  for (std::size_t i = 0; i < std::size(kLagBuckets); ++i) {
    cumulative += lag_counts_[i];
    out << "hermes_event_loop_lag_seconds_bucket{le=\"" << kLagBuckets[i] << "\"} " << cumulative
        << '\n';
  }
  cumulative += lag_counts_[std::size(kLagBuckets)];
  out << "hermes_event_loop_lag_seconds_bucket{le=\"+Inf\"} " << cumulative << '\n'
      << "hermes_event_loop_lag_seconds_sum " << lag_sum_ << '\n'
      << "hermes_event_loop_lag_seconds_count " << cumulative << '\n';
  single(out, "hermes_event_loop_lag_max_seconds", "gauge", "The longest loop lag seen.", lag_max_);
}

void Metrics::render_usage(std::ostream& out) const {
  header(out, "hermes_tokens_total", "counter",
         "Tokens of provider calls (retries, fallbacks and summaries included).");
  for (const auto& [key, n] : tokens_) {
    const auto& [provider, model, kind] = key;
    out << "hermes_tokens_total{provider=\"" << escape(provider) << "\",model=\"" << escape(model)
        << "\",kind=\"" << kind << "\"} " << n << '\n';
  }
  header(out, "hermes_cost_usd_total", "counter", "What provider calls cost, from pricing:.");
  for (const auto& [key, usd] : cost_) {
    out << "hermes_cost_usd_total{provider=\"" << escape(key.first) << "\",model=\""
        << escape(key.second) << "\"} " << usd << '\n';
  }
}

void Metrics::render_latency(std::ostream& out) const {
  header(out, "hermes_turn_duration_seconds", "histogram", "Agent turns, start to answer.");
  turn_duration_.render(out, "hermes_turn_duration_seconds", "platform");
  header(out, "hermes_upstream_first_token_seconds", "histogram",
         "From a provider request to its first token.");
  first_token_.render(out, "hermes_upstream_first_token_seconds", "provider");
}

// The Telegram backlog sits between the two budget families: scrapers keep the order they know.
void Metrics::render_budgets(std::ostream& out) const {
  header(out, "hermes_budget_spent_usd", "gauge",
         "Spent in each budget's current period (chat budgets: the chat that spent most).");
  for (const auto& [name, spend] : budgets_) {
    sample(out, "hermes_budget_spent_usd", "budget", name, spend.first);
  }
  single(out, "hermes_telegram_replies_abandoned", "gauge",
         "Telegram reply parts that failed every attempt, kept to send when it answers again.",
         telegram_abandoned_);
  header(out, "hermes_budget_limit_usd", "gauge", "Each budget's limit per period.");
  for (const auto& [name, spend] : budgets_) {
    sample(out, "hermes_budget_limit_usd", "budget", name, spend.second);
  }
}

}  // namespace hermes::daemon
