#include "daemon/dashboard/dashboard.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "common/runtime_status.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/cron/cron_config.hpp"
#include "daemon/cron/job_actions.hpp"
#include "daemon/dashboard/dashboard_assets.hpp"
#include "daemon/state/store_worker.hpp"
#include "daemon/usage/usage_ledger.hpp"

namespace hermes::daemon::dashboard {

namespace asio = boost::asio;

namespace {

// A whole number in [1, max] from a query parameter; `fallback` when absent or not one.
long long bounded_number(const std::string& text, long long fallback, long long max) {
  long long value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 1) return fallback;
  return std::min(value, max);
}

}  // namespace

HttpResponse dashboard_off() {
  return dashboard_error(404,
                         "The dashboard is turned off (gateway.dashboard.enabled: false in the "
                         "config); turn it on and reload the gateway to use it.");
}

Dashboard::Dashboard(Sources sources, const Config& config) : sources_(std::move(sources)) {
  reconfigure(config);
}

void Dashboard::reconfigure(const Config& config) {
  enabled_ = config.gateway.dashboard.enabled;
  key_required_ = !config.gateway.api_server.key.empty();
  std::string problem;  // logged by the scheduler, which reads the same zone
  zone_ = cron::configured_zone(config, problem);
}

HttpResponse Dashboard::serve_page(std::string_view path) const {
  if (!enabled_) return dashboard_off();
  if (path == "/ui/auth") return auth();
  return page(path);
}

asio::awaitable<HttpResponse> Dashboard::serve_api(HttpRequest request, std::string id) {
  if (!enabled_) co_return dashboard_off();
  const std::string refusal =
      cross_site_refusal(request.header("Host"), request.header("Origin"), key_required_);
  if (!refusal.empty()) {
    spdlog::warn("dashboard: {} {}: {}", request.method, request.path(), refusal);
    co_return dashboard_error(403, refusal);
  }
  const std::string path(request.path());
  std::string query(request.query());
  if (path == "/ui/api/overview") co_return co_await overview();
  if (path == "/ui/api/spend") co_return co_await spend(std::move(query));
  if (path == "/ui/api/sessions") co_return co_await sessions(std::move(query));
  if (path.starts_with("/ui/api/sessions/")) co_return co_await session(std::move(id));
  if (path.starts_with("/ui/api/runs/")) co_return stop_run(id);
  if (path == "/ui/api/cooldowns/clear") co_return clear_cooldowns();
  std::string change = path.substr(path.rfind('/') + 1);  // /ui/api/cron/{id}/run|pause|resume
  co_return co_await change_job(std::move(id), std::move(change));
}

HttpResponse Dashboard::page(std::string_view path) const {
  for (const auto& asset : assets()) {
    if (asset.path != path) continue;
    HttpResponse response;
    response.content_type = std::string(asset.content_type);
    response.body = std::string(asset.body);
    return with_dashboard_headers(std::move(response));
  }
  return dashboard_error(404, "No such file in the dashboard: " + std::string(path));
}

HttpResponse Dashboard::auth() const {
  return dashboard_json(200, nlohmann::json{{"key_required", key_required_}}.dump());
}

std::optional<std::string> Dashboard::kept(const std::string& key,
                                           std::chrono::seconds fresh) const {
  const auto found = kept_.find(key);
  if (found == kept_.end() || std::chrono::steady_clock::now() - found->second.at >= fresh) {
    return std::nullopt;
  }
  return found->second.body;
}

void Dashboard::keep(const std::string& key, std::string body) {
  if (kept_.size() > 64) kept_.clear();  // a bound on what queries can add
  kept_[key] = {std::move(body), std::chrono::steady_clock::now()};
}

asio::awaitable<HttpResponse> Dashboard::overview() {
  const auto now = std::chrono::steady_clock::now();
  if (!jobs_ || now - jobs_at_ >= kJobsFresh) {
    std::vector<cron::Job> jobs;
    std::function<void()> read = [this, &jobs] { jobs = sources_.jobs.jobs(); };
    co_await sources_.worker.run(std::move(read));
    jobs_ = std::move(jobs);
    jobs_at_ = now;
  }
  Overview overview = sources_.snapshot();
  overview.jobs = *jobs_;
  co_return dashboard_json(200, overview_json(overview));
}

asio::awaitable<HttpResponse> Dashboard::spend(std::string query) {
  const long long days = bounded_number(query_value(query, "days"), 30, kMaxSpendDays);
  // From the UTC day `days - 1` days ago: today counts as one. In memory: no query, whatever
  // the number of tabs asking.
  const auto today = static_cast<long long>(unix_time_now()) / 86400;
  const auto totals = spend_totals(sources_.ledger.usage_days(), today - (days - 1));
  co_return dashboard_json(200, spend_json(totals));
}

asio::awaitable<HttpResponse> Dashboard::sessions(std::string query) {
  const std::string text = query_value(query, "q");
  const long long limit = bounded_number(query_value(query, "limit"), 50, kMaxSessions);
  if (!text.empty()) co_return co_await matching_sessions(text, limit);
  // The list every tab refreshes: the sessions turns were last taken on, read by their keys
  // at most every kSessionsFresh (the store's newest are added once, behind them).
  const std::string key = "sessions:" + std::to_string(limit);
  auto cached = kept(key, kSessionsFresh);
  if (cached) co_return dashboard_json(200, std::move(*cached));
  auto& turns = sources_.turns;
  if (!turns.knows_older_sessions()) {
    std::vector<std::string> older;
    std::function<void()> read = [this, &older] {
      older = SessionBrowser(sources_.db).newest_ids(TurnRunner::kRecentSessions);
    };
    co_await sources_.worker.run(std::move(read));
    turns.add_older_sessions(older);
  }
  const auto ids = turns.recent_sessions(static_cast<std::size_t>(limit));
  std::vector<SessionRow> rows;
  std::function<void()> read = [this, &rows, &ids] {
    rows = SessionBrowser(sources_.db).rows(ids);
  };
  co_await sources_.worker.run(std::move(read));
  std::string body = sessions_json(rows);
  keep(key, body);
  co_return dashboard_json(200, std::move(body));
}

asio::awaitable<HttpResponse> Dashboard::matching_sessions(std::string text, long long limit) {
  std::vector<SessionRow> rows;
  std::function<void()> read = [this, &rows, &text, limit] {
    rows = SessionBrowser(sources_.db).matching(text, limit);
  };
  co_await sources_.worker.run(std::move(read));
  co_return dashboard_json(200, sessions_json(rows));
}

asio::awaitable<HttpResponse> Dashboard::session(std::string id) {
  std::optional<SessionTranscript> transcript;
  std::function<void()> read = [this, &transcript, &id] {
    transcript = SessionBrowser(sources_.db).transcript(id);
  };
  co_await sources_.worker.run(std::move(read));
  if (!transcript) co_return dashboard_error(404, "No session '" + id + "' is stored.");
  co_return dashboard_json(200, transcript_json(*transcript));
}

HttpResponse Dashboard::stop_run(const std::string& id) {
  if (!sources_.turns.stop_run(id)) {
    return dashboard_error(404, "No run '" + id + "' is going on (it may have just finished).");
  }
  return dashboard_json(200, nlohmann::json{{"stopped", true}}.dump());
}

HttpResponse Dashboard::clear_cooldowns() {
  const auto cleared = sources_.turns.clear_cooldowns();
  return dashboard_json(200, nlohmann::json{{"cleared", cleared}}.dump());
}

asio::awaitable<HttpResponse> Dashboard::change_job(std::string id, std::string change) {
  const auto kind = cron::job_change_named(change);
  if (!kind) co_return dashboard_error(404, "Jobs can be run, paused or resumed here.");
  cron::ChangeResult changed;
  const double now = unix_time_now();
  // A copy: the worker's thread reads it while a SIGHUP may replace zone_.
  std::function<void()> write = [this, &changed, &id, kind, now, zone = zone_] {
    changed = cron::change_job(sources_.jobs, *kind, id, "", now, zone);
  };
  co_await sources_.worker.run(std::move(write));
  if (!changed.found) co_return dashboard_error(404, "No scheduled job '" + id + "'.");
  jobs_.reset();  // the next overview shows the change
  std::string message;
  if (*kind == cron::JobChange::run) {
    if (sources_.wake_scheduler) sources_.wake_scheduler();
    message = "Job " + id + " runs now.";
  } else {
    message = (*kind == cron::JobChange::pause ? "Paused " : "Resumed ") +
              cron::describe_job(*changed.job, zone_);
  }
  spdlog::info("dashboard: {}", message);
  co_return dashboard_json(200, nlohmann::json{{"ok", true}, {"message", message}}.dump());
}

}  // namespace hermes::daemon::dashboard
