#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "daemon/cron/zone.hpp"
#include "daemon/dashboard/dashboard_json.hpp"
#include "daemon/platforms/http_types.hpp"
#include "daemon/usage/usage_ledger.hpp"

namespace hermes::daemon {
class TurnRunner;
namespace state {
class StoreWorker;
class SqlConnection;
}  // namespace state
namespace usage {
class UsageLedger;
}
}  // namespace hermes::daemon

namespace hermes::daemon::dashboard {

// The dashboard's side of the API server: the page and its assets (built in), and /ui/api's
// JSON and actions. What is in memory comes from `snapshot`; sessions, spend and jobs are read
// on the store worker, never on the event loop.
class Dashboard {
 public:
  struct Sources {
    std::function<Overview()> snapshot;  // everything but the jobs
    TurnRunner& turns;
    usage::UsageLedger& ledger;
    state::StoreWorker& worker;
    state::SqlConnection& db;
    cron::JobTables& jobs;
    std::function<void()> wake_scheduler;  // a job was queued to run now
  };
  Dashboard(Sources sources, const Config& config);
  void reconfigure(const Config& config);
  bool enabled() const { return enabled_; }

  // The route table's two entries: GET /ui, /ui/auth and /ui/assets/{name}; every /ui/api one
  // (the path says which; `id` is the path's {id}).
  HttpResponse serve_page(std::string_view path) const;
  boost::asio::awaitable<HttpResponse> serve_api(HttpRequest request, std::string id);

  // GET /ui, /ui/assets/{name}; /ui/auth (whether the page must ask for the key).
  HttpResponse page(std::string_view path) const;
  HttpResponse auth() const;

  boost::asio::awaitable<HttpResponse> overview();
  boost::asio::awaitable<HttpResponse> spend(std::string query);
  boost::asio::awaitable<HttpResponse> sessions(std::string query);
  boost::asio::awaitable<HttpResponse> session(std::string id);
  boost::asio::awaitable<HttpResponse> matching_sessions(std::string text, long long limit);
  HttpResponse stop_run(const std::string& id);
  HttpResponse clear_cooldowns();
  // `change`: run, pause or resume.
  boost::asio::awaitable<HttpResponse> change_job(std::string id, std::string change);

  // How long a read of the store answers every tab that asks (ten tabs polling cost the store
  // what one does): the recent sessions, and the jobs of the overview.
  static constexpr std::chrono::seconds kSessionsFresh{5};
  static constexpr std::chrono::seconds kJobsFresh{2};

  static constexpr long long kMaxSpendDays = usage::UsageLedger::kUsageDays;
  static constexpr long long kMaxSessions = 200;  // TurnRunner::kRecentSessions

 private:
  bool enabled_ = true;
  bool key_required_ = false;
  cron::Zone zone_ = cron::Zone::utc();
  Sources sources_;
  // Answers read from the store, by what was asked, and when.
  struct Kept {
    std::string body;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::string, Kept> kept_;
  std::optional<std::string> kept(const std::string& key, std::chrono::seconds fresh) const;
  void keep(const std::string& key, std::string body);
  std::optional<std::vector<cron::Job>> jobs_;
  std::chrono::steady_clock::time_point jobs_at_;
};

// The answer to any /ui request while gateway.dashboard.enabled is false.
HttpResponse dashboard_off();

}  // namespace hermes::daemon::dashboard
