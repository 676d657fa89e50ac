#include "daemon/cron/job_tables.hpp"

#include <cstdio>
#include <random>

#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon::cron {

namespace {

#define JOB_COLUMNS                                                                               \
  "id, name, prompt, schedule, deliver, origin, model, enabled, repeat_count, runs, created_at, " \
  "next_run, last_run, last_status"
#define RUN_COLUMNS                                                                         \
  "id, job_id, source, scheduled_for, started_at, finished_at, status, delivery, deliver, " \
  "prompt, model, message_id, error, result"

std::optional<double> optional_real(const state::Statement& row, int column) {
  return row.is_null(column) ? std::nullopt : std::optional<double>(row.real(column));
}

Job job_of(const state::Statement& row) {
  Job job;
  job.id = row.text(0);
  job.name = row.text(1);
  job.prompt = row.text(2);
  job.schedule = row.text(3);
  job.deliver = row.text(4);
  job.origin = row.text(5);
  job.model = row.text(6);
  job.enabled = row.integer(7) != 0;
  job.repeat = row.integer(8);
  job.runs = row.integer(9);
  job.created_at = row.real(10);
  job.next_run = optional_real(row, 11);
  job.last_run = optional_real(row, 12);
  job.last_status = row.text(13);
  return job;
}

Run run_of(const state::Statement& row) {
  Run run;
  run.id = row.integer(0);
  run.job_id = row.text(1);
  run.source = row.text(2);
  run.scheduled_for = row.real(3);
  run.started_at = optional_real(row, 4);
  run.finished_at = optional_real(row, 5);
  run.status = row.text(6);
  run.delivery = row.text(7);
  run.deliver = row.text(8);
  run.prompt = row.text(9);
  run.model = row.text(10);
  run.message_id = row.text(11);
  run.error = row.text(12);
  run.result = row.text(13);
  return run;
}

void bind_optional(state::Statement& statement, int index, std::optional<double> value) {
  if (value) statement.bind(index, *value);  // unbound: NULL
}

}  // namespace

std::string new_job_id() {
  static std::mt19937_64 generator{std::random_device{}()};
  char text[9];
  std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(generator() & 0xffffffffu));
  return text;
}

void JobTables::add(const Job& job) {
  auto insert =
      db_.prepare("INSERT INTO cron_jobs(" JOB_COLUMNS ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  insert.bind(1, job.id)
      .bind(2, job.name)
      .bind(3, job.prompt)
      .bind(4, job.schedule)
      .bind(5, job.deliver)
      .bind(6, job.origin)
      .bind(7, job.model)
      .bind(8, job.enabled ? 1LL : 0LL)
      .bind(9, job.repeat)
      .bind(10, job.runs)
      .bind(11, job.created_at);
  bind_optional(insert, 12, job.next_run);
  bind_optional(insert, 13, job.last_run);
  insert.bind(14, job.last_status);
  insert.step();
}

std::vector<Job> JobTables::jobs(const std::string& origin) {
  auto query = db_.prepare("SELECT " JOB_COLUMNS
                           " FROM cron_jobs WHERE (? = '' OR origin = ?) ORDER BY created_at, id");
  query.bind(1, origin).bind(2, origin);
  std::vector<Job> out;
  while (query.step()) out.push_back(job_of(query));
  return out;
}

std::optional<Job> JobTables::job(const std::string& id) {
  auto query = db_.prepare("SELECT " JOB_COLUMNS " FROM cron_jobs WHERE id = ?");
  query.bind(1, id);
  if (!query.step()) return std::nullopt;
  return job_of(query);
}

bool JobTables::set_enabled(const std::string& id, bool enabled, std::optional<double> next_run) {
  auto update =
      db_.prepare("UPDATE cron_jobs SET enabled = ?, next_run = ? WHERE id = ? RETURNING id");
  update.bind(1, enabled ? 1LL : 0LL);
  bind_optional(update, 2, next_run);
  update.bind(3, id);
  return update.step();
}

bool JobTables::remove(const std::string& id) {
  auto remove = db_.prepare("DELETE FROM cron_jobs WHERE id = ? RETURNING id");
  remove.bind(1, id);
  return remove.step();
}

bool JobTables::update(const Job& job) {
  auto update = db_.prepare(
      "UPDATE cron_jobs SET name = ?, prompt = ?, schedule = ?, deliver = ?, model = ?, "
      "repeat_count = ?, next_run = ? WHERE id = ? RETURNING id");
  update.bind(1, job.name)
      .bind(2, job.prompt)
      .bind(3, job.schedule)
      .bind(4, job.deliver)
      .bind(5, job.model)
      .bind(6, job.repeat);
  bind_optional(update, 7, job.next_run);
  update.bind(8, job.id);
  return update.step();
}

std::vector<Job> JobTables::due(double now) {
  auto query = db_.prepare("SELECT " JOB_COLUMNS
                           " FROM cron_jobs WHERE enabled = 1 AND next_run <= ? ORDER BY next_run");
  query.bind(1, now);
  std::vector<Job> out;
  while (query.step()) out.push_back(job_of(query));
  return out;
}

JobTables::Claim JobTables::claim(const Job& job, double due, const FiringPlan& plan, double now) {
  Claim claim;
  const long long runs = job.runs + static_cast<long long>(plan.runs.size());
  std::optional<double> next;
  if (plan.next && (job.repeat == 0 || runs < job.repeat)) next = static_cast<double>(*plan.next);
  // Compare and set: only the gateway that still finds `due` there records this firing.
  auto move = db_.prepare(
      "UPDATE cron_jobs SET next_run = ?, runs = ? WHERE id = ? AND next_run = ? RETURNING id");
  bind_optional(move, 1, next);
  move.bind(2, runs).bind(3, job.id).bind(4, due);
  if (!move.step()) return claim;
  claim.claimed = true;
  for (const long long at : plan.skipped) {
    db_.prepare(
           "INSERT INTO cron_runs(job_id, source, scheduled_for, finished_at, status, delivery, "
           "deliver, prompt, model) VALUES(?, 'schedule', ?, ?, 'skipped', '', ?, ?, ?) "
           "ON CONFLICT DO NOTHING")
        .bind(1, job.id)
        .bind(2, static_cast<double>(at))
        .bind(3, now)
        .bind(4, job.deliver)
        .bind(5, job.prompt)
        .bind(6, job.model)
        .step();
  }
  if (!plan.skipped.empty() && plan.runs.empty()) {
    db_.prepare("UPDATE cron_jobs SET last_status = 'skipped' WHERE id = ?").bind(1, job.id).step();
  }
  for (const long long at : plan.runs) {
    auto queue = db_.prepare(
        "INSERT INTO cron_runs(job_id, source, scheduled_for, status, delivery, deliver, prompt, "
        "model) VALUES(?, 'schedule', ?, 'queued', '', ?, ?, ?) ON CONFLICT DO NOTHING "
        "RETURNING id");
    queue.bind(1, job.id)
        .bind(2, static_cast<double>(at))
        .bind(3, job.deliver)
        .bind(4, job.prompt)
        .bind(5, job.model);
    if (queue.step()) claim.run_ids.push_back(queue.integer(0));
  }
  return claim;
}

std::optional<long long> JobTables::queue_run(const Run& run, const std::string& route,
                                              const std::string& delivery_id) {
  auto queue = db_.prepare(
      "INSERT INTO cron_runs(job_id, source, scheduled_for, status, delivery, deliver, prompt, "
      "model, webhook_route, delivery_id) VALUES(?, ?, ?, 'queued', '', ?, ?, ?, ?, ?) "
      "ON CONFLICT DO NOTHING RETURNING id");
  queue.bind(1, run.job_id)
      .bind(2, run.source)
      .bind(3, run.scheduled_for)
      .bind(4, run.deliver)
      .bind(5, run.prompt)
      .bind(6, run.model)
      .bind(7, route);
  if (!delivery_id.empty()) queue.bind(8, delivery_id);  // unbound: NULL, never a duplicate
  if (!queue.step()) return std::nullopt;
  return queue.integer(0);
}

std::vector<Run> JobTables::runs_with_status(const std::string& status, long limit) {
  auto query =
      db_.prepare("SELECT " RUN_COLUMNS " FROM cron_runs WHERE status = ? ORDER BY id LIMIT ?");
  query.bind(1, status).bind(2, static_cast<long long>(limit));
  std::vector<Run> out;
  while (query.step()) out.push_back(run_of(query));
  return out;
}

bool JobTables::start(long long run_id, double now) {
  auto update = db_.prepare(
      "UPDATE cron_runs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued' "
      "RETURNING id");
  update.bind(1, now).bind(2, run_id);
  return update.step();
}

void JobTables::finish(const Run& run, double now) {
  // A delivery the outbox already settled (or is settling) keeps its word.
  db_.prepare(
         "UPDATE cron_runs SET status = ?, finished_at = ?, error = ?, result = ?, "
         "delivery = CASE WHEN delivery IN ('delivered', 'abandoned') THEN delivery ELSE ? END "
         "WHERE id = ?")
      .bind(1, run.status)
      .bind(2, now)
      .bind(3, run.error)
      .bind(4, run.result)
      .bind(5, run.delivery)
      .bind(6, run.id)
      .step();
  if (run.job_id.empty()) return;
  db_.prepare("UPDATE cron_jobs SET last_run = ?, last_status = ? WHERE id = ?")
      .bind(1, now)
      .bind(2, run.status)
      .bind(3, run.job_id)
      .step();
}

std::vector<Run> JobTables::history(const std::string& job_id, long limit) {
  auto query = db_.prepare("SELECT " RUN_COLUMNS
                           " FROM cron_runs WHERE job_id = ? ORDER BY scheduled_for DESC, id DESC "
                           "LIMIT ?");
  query.bind(1, job_id).bind(2, static_cast<long long>(limit));
  std::vector<Run> out;
  while (query.step()) out.push_back(run_of(query));
  return out;
}

std::optional<Run> JobTables::run(long long id) {
  auto query = db_.prepare("SELECT " RUN_COLUMNS " FROM cron_runs WHERE id = ?");
  query.bind(1, id);
  if (!query.step()) return std::nullopt;
  return run_of(query);
}

std::optional<Job> JobTables::next_to_fire() {
  auto query = db_.prepare("SELECT " JOB_COLUMNS
                           " FROM cron_jobs WHERE enabled = 1 AND next_run IS NOT NULL "
                           "ORDER BY next_run LIMIT 1");
  if (!query.step()) return std::nullopt;
  return job_of(query);
}

long long JobTables::failed_since(double since) {
  auto query = db_.prepare(
      "SELECT COUNT(*) FROM cron_runs WHERE finished_at >= ? AND "
      "(status = 'failed' OR delivery = 'abandoned')");
  query.bind(1, since);
  return query.step() ? query.integer(0) : 0;
}

std::map<std::string, long long> JobTables::deliveries() {
  auto query = db_.prepare(
      "SELECT delivery, COUNT(*) FROM cron_runs WHERE delivery <> '' GROUP BY delivery");
  std::map<std::string, long long> out;
  while (query.step()) out[query.text(0)] = query.integer(1);
  return out;
}

bool JobTables::session_stored(const std::string& session_id) {
  auto query = db_.prepare("SELECT 1 FROM sessions WHERE id = ?");
  query.bind(1, session_id);
  return query.step();
}

}  // namespace hermes::daemon::cron
