#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/cron/next_fire.hpp"

namespace hermes::daemon::state {
class SqlConnection;
}

// Scheduled jobs and their runs as both backends store them (schema step 18): used on the
// store worker by the scheduler and directly by `hermes cron`, which works whether or not the
// gateway runs.
namespace hermes::daemon::cron {

struct Job {
  std::string id;
  std::string name;
  std::string prompt;
  std::string schedule;  // as written: `every 30m`, `0 8 * * 1-5`, …
  std::string deliver;   // the target, `origin` resolved: `local`, `telegram:123`
  std::string origin;    // the chat that made it (`telegram:123`), "" from the CLI
  std::string model;     // "" for the default
  bool enabled = true;
  long long repeat = 0;  // runs in all; 0 for no limit
  long long runs = 0;    // firings claimed so far
  double created_at = 0;
  std::optional<double> next_run;  // none: finished (a one-shot that ran, a repeat used up)
  std::optional<double> last_run;
  std::string last_status;  // of the newest finished run: ok, failed, skipped
};

// One firing of a job (or of a webhook route): claimed in the store before it runs, so it runs
// once whatever restarts or how many gateways there are.
struct Run {
  long long id = 0;
  std::string job_id;  // "" for a webhook's own run
  std::string source;  // schedule, manual, webhook
  double scheduled_for = 0;
  std::optional<double> started_at, finished_at;
  std::string status;    // queued, running, ok, failed, skipped
  std::string delivery;  // delivered, pending, abandoned, local, silent; "" before the end
  std::string deliver;   // the target
  std::string prompt;
  std::string model;
  std::string message_id;  // the platform's, once delivered
  std::string error;
  std::string result;  // the answer (or the failure's hint), as delivered
};

class JobTables {
 public:
  explicit JobTables(state::SqlConnection& db) : db_(db) {}

  void add(const Job& job);
  std::vector<Job> jobs(const std::string& origin = "");  // "" all; else that chat's
  std::optional<Job> job(const std::string& id);
  // False: no such job. Resuming computes the next firing from now.
  bool set_enabled(const std::string& id, bool enabled, std::optional<double> next_run);
  bool remove(const std::string& id);
  bool update(const Job& job);  // name, prompt, schedule, deliver, model, repeat, next_run
  std::vector<Job> due(double now);
  // Records what plan_firings decided for a job found due at `due`, if its next_run still is
  // `due` (else another gateway claimed it first: nothing is written, none returned). The run
  // to start now are queued; their ids are returned.
  struct Claim {
    bool claimed = false;
    std::vector<long long> run_ids;
  };
  Claim claim(const Job& job, double due, const FiringPlan& plan, double now);
  // A run outside the schedule (`hermes cron run`, a webhook): queued now. With a delivery id,
  // none when that id was seen before on the route (a redelivery).
  std::optional<long long> queue_run(const Run& run, const std::string& route = "",
                                     const std::string& delivery_id = "");
  std::vector<Run> runs_with_status(const std::string& status, long limit);
  // queued → running; false: someone else started it.
  bool start(long long run_id, double now);
  // The run's end, and the job's last status (its delivery follows from the outbox).
  void finish(const Run& run, double now);
  std::vector<Run> history(const std::string& job_id, long limit);
  std::optional<Run> run(long long id);
  // Of unfinished jobs, the one that fires next.
  std::optional<Job> next_to_fire();
  // Finished runs of the last day that failed or whose delivery was given up on.
  long long failed_since(double since);
  // Stored runs by delivery (delivered, pending, abandoned, local, silent), for /metrics.
  std::map<std::string, long long> deliveries();
  bool session_stored(const std::string& session_id);

 private:
  state::SqlConnection& db_;
};

// A new job's id: 8 random hex digits.
std::string new_job_id();

}  // namespace hermes::daemon::cron
