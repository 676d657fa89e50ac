#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/runtime_status.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/cron/job_tables.hpp"
#include "daemon/dashboard/session_browser.hpp"
#include "daemon/platforms/http_types.hpp"
#include "daemon/usage/usage_ledger.hpp"
#include "daemon/usage/usage_tables.hpp"

// The dashboard's JSON (GET /ui/api/…) from plain values, and the headers every /ui answer
// carries: pure, so the shapes are table-tested without a gateway.
namespace hermes::daemon::dashboard {

struct GatewayFacts {
  std::string state;
  std::string version;
  long pid = 0;
  double uptime_seconds = 0;
  double started_at = 0;
  long restarts = 0;  // since the service was started (the systemd fd store's count)
  long long sessions = 0;
  std::string store_problem;
  double reload_at = 0;  // the last SIGHUP's (0: none yet), its result and error
  bool reload_ok = true;
  std::string reload_error;
};

struct ToolFacts {
  std::string name;
  std::string kind;  // mcp | builtin
  std::string state;
  long tools = 0;
  std::string last_error;
};

// Everything GET /ui/api/overview shows.
struct Overview {
  GatewayFacts gateway;
  std::vector<PlatformStatus> platforms;
  std::vector<ToolFacts> tools;
  std::vector<ActiveRun> runs;
  std::vector<ProviderCooldown> cooldowns;
  std::vector<usage::UsageLedger::BudgetUse> budgets;
  std::vector<TurnFailure> failures;
  std::vector<cron::Job> jobs;
};

std::string overview_json(const Overview& overview);

// The spend of the days from `first_day` (unix seconds / 86400) on, from the ledger's
// in-memory use per day, provider and model: per UTC day in order, and per model and per
// provider, biggest cost first.
struct SpendTotals {
  std::vector<usage::UsageTotal> days;  // group: YYYY-MM-DD
  std::vector<usage::UsageTotal> by_model;
  std::vector<usage::UsageTotal> by_provider;
};
SpendTotals spend_totals(const usage::UsageLedger::UsageDays& use, std::int64_t first_day);
std::string spend_json(const SpendTotals& totals);
std::string sessions_json(const std::vector<SessionRow>& sessions);
std::string transcript_json(const SessionTranscript& transcript);

// A JSON answer (or an error in the API's shape) with the dashboard's headers.
HttpResponse dashboard_json(int status, std::string body);
HttpResponse dashboard_error(int status, std::string_view message);
// Adds Content-Security-Policy, X-Content-Type-Options, Referrer-Policy and Cache-Control.
HttpResponse with_dashboard_headers(HttpResponse response);

// Why a /ui/api request is refused (403) whatever its key: "" when it is not. A browser's
// request from another site (its Origin is not this Host) is refused, so no page elsewhere can
// press the dashboard's buttons; and without an API key, a Host other than the loopback
// names, so a DNS name rebound to 127.0.0.1 cannot read it either.
std::string cross_site_refusal(std::string_view host, std::string_view origin, bool key_required);

// `%41b+c` → "Ab c" (a query parameter's value); malformed escapes are kept as written.
std::string percent_decoded(std::string_view text);
// The value of `name` in `query`, decoded; `fallback` when absent.
std::string query_value(std::string_view query, std::string_view name,
                        std::string_view fallback = {});

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

}  // namespace hermes::daemon::dashboard
