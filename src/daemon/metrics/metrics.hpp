#pragma once

#include <chrono>
#include <iterator>
#include <map>
#include <string>
#include <utility>

namespace hermes::daemon {

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
  // How late the loop ran a timer that was due (LoopLagProbe).
  void observe_loop_lag(std::chrono::steady_clock::duration lag);
  // Upper bounds (seconds) of the lag histogram's buckets, +Inf aside.
  static constexpr double kLagBuckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

  void set_active_runs(long n) { active_runs_ = n; }
  void set_sessions(long n) { sessions_ = n; }

  std::string render(const std::string& version, double uptime_seconds) const;

 private:
  std::map<std::pair<std::string, int>, long long> requests_;
  std::map<std::string, long long> turns_;
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
  long tool_calls_running_ = 0;
  long long lag_counts_[std::size(kLagBuckets) + 1] = {};  // per bucket, not cumulative
  double lag_sum_ = 0;
  double lag_max_ = 0;
};

}  // namespace hermes::daemon
