#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "daemon/cron/job_tables.hpp"
#include "daemon/cron/zone.hpp"

// What `hermes cron`, the /cron chat command and the cronjob tool do to jobs, written once: each
// runs inside one store transaction, on whichever thread holds the connection.
namespace hermes::daemon::cron {

struct NewJob {
  std::string schedule;
  std::string prompt;
  std::string name;     // "" : the prompt's start
  std::string deliver;  // "" : origin in a chat, local from the CLI
  std::string origin;   // the chat making it (`telegram:123`), "" from the CLI
  std::string model;
  long long repeat = 0;
};

// The job as stored, or one sentence saying what is wrong with the request.
std::variant<Job, std::string> add_job(JobTables& jobs, const NewJob& request, double now,
                                       const Zone& zone);

enum class JobChange { pause, resume, remove, run };
// `pause`, `resume`, `remove`, `run` (a CLI verb, a /cron word, a tool action); none otherwise.
std::optional<JobChange> job_change_named(std::string_view name);

struct ChangeResult {
  bool found = false;  // false: no such job (or not this chat's)
  std::optional<Job> job;
  std::optional<long long> run_id;  // run: the queued run
};

// `origin` "" reaches every job; a chat's origin only its own.
ChangeResult change_job(JobTables& jobs, JobChange change, const std::string& id,
                        const std::string& origin, double now, const Zone& zone);

// New name, prompt or schedule for a job of `origin`; the error sentence, or none when done
// (`found` false: no such job).
std::optional<std::string> update_job(JobTables& jobs, const std::string& id,
                                      const std::string& origin, const NewJob& changes, double now,
                                      const Zone& zone, bool& found);

// "a1b2c3d4 news: every 1h, next 2026-12-07 08:00 (UTC+01:00), to telegram:1": one line.
std::string describe_job(const Job& job, const Zone& zone);

}  // namespace hermes::daemon::cron
