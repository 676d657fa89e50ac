#include "daemon/cron/job_actions.hpp"

#include <chrono>
#include <cstdio>

#include "common/ascii_case.hpp"
#include "daemon/cron/delivery_target.hpp"

namespace hermes::daemon::cron {

namespace {

std::optional<double> first_firing(const Schedule& schedule, double created_at, double now,
                                   const Zone& zone) {
  const auto at =
      next_fire(schedule, static_cast<long long>(created_at), static_cast<long long>(now), zone);
  return at ? std::optional<double>(static_cast<double>(*at)) : std::nullopt;
}

}  // namespace

std::variant<Job, std::string> add_job(JobTables& jobs, const NewJob& request, double now,
                                       const Zone& zone) {
  auto parsed = parse_schedule_for_run(request.schedule);
  if (auto* error = std::get_if<std::string>(&parsed)) return std::move(*error);
  Job job;
  job.prompt = std::string(trim_space(request.prompt));
  if (job.prompt.empty()) return std::string("the prompt is empty: say what to do when it fires");
  if (job.prompt.size() > 16 * 1024) return std::string("the prompt is over 16 KiB; shorten it");
  auto target = parse_target(
      request.deliver.empty() ? (request.origin.empty() ? "local" : "origin") : request.deliver,
      request.origin);
  if (auto* error = std::get_if<std::string>(&target)) return std::move(*error);
  job.id = new_job_id();
  job.schedule = std::string(trim_space(request.schedule));
  job.name = request.name.empty() ? job.prompt.substr(0, 40) : request.name;
  job.deliver = target_text(std::get<DeliveryTarget>(target));
  job.origin = request.origin;
  job.model = request.model;
  job.repeat = request.repeat;
  job.created_at = static_cast<double>(static_cast<long long>(now));
  job.next_run = first_firing(std::get<Schedule>(parsed), job.created_at, job.created_at, zone);
  if (!job.next_run) return "'" + job.schedule + "' never fires from now on (that time has passed)";
  jobs.add(job);
  return job;
}

std::optional<JobChange> job_change_named(std::string_view name) {
  if (name == "pause") return JobChange::pause;
  if (name == "resume") return JobChange::resume;
  if (name == "remove") return JobChange::remove;
  if (name == "run") return JobChange::run;
  return std::nullopt;
}

ChangeResult change_job(JobTables& jobs, JobChange change, const std::string& id,
                        const std::string& origin, double now, const Zone& zone) {
  ChangeResult result;
  auto job = jobs.job(id);
  if (!job || (!origin.empty() && job->origin != origin)) return result;
  result.found = true;
  switch (change) {
    case JobChange::remove:
      jobs.remove(id);
      break;
    case JobChange::pause:
      jobs.set_enabled(id, false, job->next_run);
      job->enabled = false;
      break;
    case JobChange::resume: {
      auto parsed = parse_schedule_for_run(job->schedule);
      if (auto* schedule = std::get_if<Schedule>(&parsed)) {
        // From now on; a one-shot whose time passed while paused runs now rather than never.
        job->next_run = first_firing(*schedule, job->created_at, now, zone);
        if (!job->next_run && job->runs == 0) job->next_run = now;
      }
      jobs.set_enabled(id, true, job->next_run);
      job->enabled = true;
      break;
    }
    case JobChange::run: {
      Run run;
      run.job_id = id;
      run.source = "manual";
      run.scheduled_for = now;
      run.deliver = job->deliver;
      run.prompt = job->prompt;
      run.model = job->model;
      result.run_id = jobs.queue_run(run);
      break;
    }
  }
  result.job = std::move(job);
  return result;
}

std::optional<std::string> update_job(JobTables& jobs, const std::string& id,
                                      const std::string& origin, const NewJob& changes, double now,
                                      const Zone& zone, bool& found) {
  auto job = jobs.job(id);
  found = job && (origin.empty() || job->origin == origin);
  if (!found) return std::nullopt;
  if (!changes.name.empty()) job->name = changes.name;
  if (const auto prompt = trim_space(changes.prompt); !prompt.empty()) job->prompt = prompt;
  if (!changes.deliver.empty()) {
    auto target = parse_target(changes.deliver, origin);
    if (auto* error = std::get_if<std::string>(&target)) return *error;
    job->deliver = target_text(std::get<DeliveryTarget>(target));
  }
  if (!changes.schedule.empty()) {
    auto parsed = parse_schedule_for_run(changes.schedule);
    if (auto* error = std::get_if<std::string>(&parsed)) return *error;
    job->schedule = std::string(trim_space(changes.schedule));
    job->created_at = static_cast<double>(static_cast<long long>(now));  // intervals start anew
    job->next_run = first_firing(std::get<Schedule>(parsed), job->created_at, now, zone);
    if (!job->next_run) return "'" + job->schedule + "' never fires from now on";
  }
  jobs.update(*job);
  return std::nullopt;
}

std::string describe_job(const Job& job, const Zone& zone) {
  std::string when = "finished";
  if (job.next_run) {
    const auto at = static_cast<long long>(*job.next_run);
    const long offset = zone.offset_at(at);
    const std::chrono::sys_seconds local{std::chrono::seconds(at + offset)};
    const auto day = std::chrono::floor<std::chrono::days>(local);
    const std::chrono::year_month_day date{day};
    const std::chrono::hh_mm_ss time{local - day};
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u %02ld:%02ld (UTC%+03ld:%02ld)",
                  static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<long>(time.hours().count()),
                  static_cast<long>(time.minutes().count()), offset / 3600,
                  (offset < 0 ? -offset : offset) % 3600 / 60);
    when = std::string(job.enabled ? "next " : "paused, would run ") + text;
  }
  return job.id + " " + job.name + ": " + job.schedule + ", " + when + ", to " + job.deliver;
}

}  // namespace hermes::daemon::cron
