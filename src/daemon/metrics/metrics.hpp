#pragma once

#include <chrono>
#include <iterator>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>

namespace hermes::daemon {

// A histogram of durations per label value (label values from config or code: bounded).
class LabelledHistogram {
 public:
  static constexpr double kBuckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  void observe(const std::string& label, double seconds);
  void render(std::ostream& out, const char* name, const char* label_name) const;

 private:
  struct Series {
    long long counts[std::size(kBuckets) + 1] = {};  // per bucket, not cumulative
    double sum = 0;
  };
  std::map<std::string, Series> series_;
};

// Counters and gauges for GET /metrics, rendered in the Prometheus text format.
// Touched only from the event loop thread.
class Metrics {
 public:
  void count_request(const std::string& route, int status) { ++requests_[{route, status}]; }
  void count_turn(const std::string& outcome) { ++turns_[outcome]; }
  void count_provider_error(const std::string& reason) { ++provider_errors_[reason]; }
  void count_retry() { ++retries_; }
  void count_rotation() { ++rotations_; }
  void count_fallback() { ++fallbacks_; }
  void observe_drain(std::chrono::duration<double> duration);
  // One tool call of `server` ("" when no server had the tool) and how long it took.
  void observe_tool_call(const std::string& server, std::chrono::duration<double> took);
  void tool_call_started() { ++tool_calls_running_; }
  void tool_call_ended() { --tool_calls_running_; }
  // Whether each configured MCP server is ready now.
  void set_mcp_servers_up(std::map<std::string, bool> up) { mcp_up_ = std::move(up); }
  // Each enabled platform: whether it is up (platform_health) and its last event (unix
  // seconds, 0 = none yet).
  struct PlatformLiveness {
    bool up = true;
    double last_event_at = 0;
  };
  void set_platforms(std::map<std::string, PlatformLiveness> platforms) {
    platforms_ = std::move(platforms);
  }
  // How late the loop ran a timer that was due (LoopLagProbe).
  void observe_loop_lag(std::chrono::steady_clock::duration lag);
  // Upper bounds (seconds) of the lag histogram's buckets, +Inf aside.
  static constexpr double kLagBuckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

  // What one provider call cost (priced models only), and its tokens by kind: prompt,
  // completion, and of the prompt the part written to and read from the provider's prompt cache
  // (kinds cache_write, cache_read; counted when present).
  void count_tokens(const std::string& provider, const std::string& model, long prompt,
                    long completion, long cache_write = 0, long cache_read = 0);
  void count_cost(const std::string& provider, const std::string& model, double usd) {
    cost_[{provider, model}] += usd;
  }
  void observe_turn(const std::string& platform, std::chrono::duration<double> took) {
    turn_duration_.observe(platform, took.count());
  }
  void observe_first_token(const std::string& provider, std::chrono::duration<double> took) {
    first_token_.observe(provider, took.count());
  }
  // Each budget's spend in its current period (for chat budgets: the chat that spent most).
  void set_budget_spend(std::map<std::string, std::pair<double, double>> spent_and_limit) {
    budgets_ = std::move(spent_and_limit);
  }

  // Telegram reply parts that failed every attempt, kept until Telegram answers again.
  void set_telegram_abandoned(long n) { telegram_abandoned_ = n; }

  void set_active_runs(long n) { active_runs_ = n; }
  // Scheduled jobs and webhooks: runs ended here by status (ok, failed, skipped), the runs in
  // the store by delivery (delivered, pending, abandoned, local, silent), webhook requests.
  void count_cron_run(const std::string& status) { ++cron_runs_[status]; }
  void set_cron_deliveries(std::map<std::string, long long> by_delivery) {
    cron_deliveries_ = std::move(by_delivery);
  }
  void count_webhook(const std::string& route, const std::string& result) {
    ++webhooks_[{route, result}];
  }
  void set_sessions(long n) { sessions_ = n; }

  std::string render(const std::string& version, double uptime_seconds) const;

 private:
  // render()'s groups of families, called in the order scrapers have always seen.
  void render_traffic(std::ostream& out) const;     // HTTP requests, turns, provider errors
  void render_workload(std::ostream& out) const;    // active runs, sessions, drains
  void render_liveness(std::ostream& out) const;    // MCP servers and platforms up
  void render_tool_calls(std::ostream& out) const;  // running and by server
  void render_loop_lag(std::ostream& out) const;    // histogram and max
  void render_usage(std::ostream& out) const;       // tokens and cost
  void render_latency(std::ostream& out) const;     // turn and first-token histograms
  void render_budgets(std::ostream& out) const;     // spent, Telegram backlog, limits

  std::map<std::pair<std::string, int>, long long> requests_;
  std::map<std::string, long long> turns_;
  std::map<std::string, long long> cron_runs_;
  std::map<std::string, long long> cron_deliveries_;
  std::map<std::pair<std::string, std::string>, long long> webhooks_;
  std::map<std::string, long long> provider_errors_;
  long long retries_ = 0;
  long long rotations_ = 0;
  long long fallbacks_ = 0;
  long active_runs_ = 0;
  long sessions_ = 0;
  long long drains_ = 0;
  double drain_seconds_sum_ = 0;
  std::map<std::string, std::pair<long long, double>> tool_calls_;  // server: count, seconds
  std::map<std::string, bool> mcp_up_;
  std::map<std::string, PlatformLiveness> platforms_;
  long tool_calls_running_ = 0;
  long long lag_counts_[std::size(kLagBuckets) + 1] = {};  // per bucket, not cumulative
  double lag_sum_ = 0;
  double lag_max_ = 0;
  std::map<std::tuple<std::string, std::string, std::string>, long long> tokens_;
  std::map<std::pair<std::string, std::string>, double> cost_;
  LabelledHistogram turn_duration_;
  LabelledHistogram first_token_;
  std::map<std::string, std::pair<double, double>> budgets_;
  long telegram_abandoned_ = 0;
};

}  // namespace hermes::daemon
