#include "daemon/app/cron_cmd.hpp"

#include <charconv>
#include <ctime>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "common/config_loader.hpp"
#include "common/exit_codes.hpp"
#include "common/paths.hpp"
#include "common/runtime_status.hpp"
#include "daemon/cron/cron_config.hpp"
#include "daemon/cron/job_actions.hpp"
#include "daemon/cron/job_tables.hpp"
#include "daemon/state/migrations.hpp"
#include "daemon/state/pg_connection.hpp"
#include "daemon/state/sqlite_connection.hpp"

namespace hermes::daemon {

namespace {

using cron::Job;
using cron::JobTables;
using cron::Run;

// The command line after VERB: positional words and --flag value pairs (--json alone).
struct Words {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

std::optional<Words> split_words(const std::vector<std::string>& args, std::ostream& err) {
  Words words;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--json") {
      words.flags["--json"] = "1";
    } else if (arg.starts_with("--")) {
      if (i + 1 >= args.size()) {
        err << "error: " << arg << " needs a value\n";
        return std::nullopt;
      }
      words.flags[arg] = args[++i];
    } else {
      words.positional.push_back(arg);
    }
  }
  return words;
}

std::string local_time(std::optional<double> unix_seconds) {
  if (!unix_seconds) return "-";
  const auto t = static_cast<std::time_t>(*unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

nlohmann::json optional_json(std::optional<double> value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json job_json(const Job& job) {
  return {{"id", job.id},
          {"name", job.name},
          {"schedule", job.schedule},
          {"prompt", job.prompt},
          {"deliver", job.deliver},
          {"origin", job.origin},
          {"model", job.model},
          {"state", !job.next_run ? "finished"
                    : job.enabled ? "enabled"
                                  : "paused"},
          {"repeat", job.repeat},
          {"runs", job.runs},
          {"created_at", job.created_at},
          {"next_run", optional_json(job.next_run)},
          {"last_run", optional_json(job.last_run)},
          {"last_status", job.last_status}};
}

nlohmann::json run_json(const Run& run) {
  return {{"id", run.id},
          {"job_id", run.job_id},
          {"source", run.source},
          {"scheduled_for", run.scheduled_for},
          {"started_at", optional_json(run.started_at)},
          {"finished_at", optional_json(run.finished_at)},
          {"status", run.status},
          {"delivery", run.delivery},
          {"deliver", run.deliver},
          {"message_id", run.message_id},
          {"error", run.error},
          {"result", run.result}};
}

struct CronStore {
  Config config;
  std::unique_ptr<state::SqlConnection> db;
  std::string where;
};

// The configured store, brought to the current schema (a first `add` makes state.db).
std::optional<CronStore> open_cron_store(const Options& options, bool create, std::ostream& err) {
  const HomePaths paths = resolve_home(options.home, options.config);
  std::vector<std::string> warnings;
  const Environment env = Environment::from_process(paths.env_file, warnings);
  auto loaded = load_config_file(paths.config_file, env);
  CronStore store;
  if (loaded.config) store.config = std::move(*loaded.config);
  try {
    if (store.config.database.backend == "postgres") {
      store.where = "PostgreSQL " + state::describe_postgres_url(store.config.database.url);
      store.db = std::make_unique<state::PgConnection>(
          store.config.database.url, state::PgConnection::Options{std::chrono::seconds(2)});
    } else {
      store.where = paths.state_db.string();
      if (!create && !std::filesystem::exists(paths.state_db)) {
        err << "No jobs: " << store.where
            << " does not exist yet (add one with: hermes cron add SCHEDULE PROMPT)\n";
        return std::nullopt;
      }
      std::filesystem::create_directories(paths.state_db.parent_path());
      store.db = std::make_unique<state::SqliteConnection>(paths.state_db,
                                                           store.config.database.synchronous);
    }
    state::migrate(*store.db, state::schema_for(*store.db));
  } catch (const std::exception& e) {
    err << "error: cannot open the job store " << store.where << ": " << e.what() << '\n';
    return std::nullopt;
  }
  return store;
}

// Runs `work` in one transaction on the store.
void in_transaction(state::SqlConnection& db, const std::function<void()>& work) {
  db.begin();
  try {
    work();
    db.commit();
  } catch (...) {
    db.rollback();
    throw;
  }
}

cron::Zone zone_of(const Config& config) {
  std::string problem;  // the gateway refuses such a config; the CLI reads the job in UTC
  return cron::configured_zone(config, problem);
}

int list_jobs(JobTables& jobs, bool json, std::ostream& out) {
  const auto all = jobs.jobs();
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& job : all) list.push_back(job_json(job));
    out << nlohmann::json{{"jobs", list}}.dump(2) << '\n';
    return kExitOk;
  }
  if (all.empty()) {
    out << "No scheduled jobs. Add one: hermes cron add 'every 1h' 'Check the news'\n";
    return kExitOk;
  }
  out << std::left << std::setw(10) << "ID" << std::setw(18) << "NAME" << std::setw(18)
      << "SCHEDULE" << std::setw(11) << "STATE" << std::setw(21) << "NEXT RUN" << std::setw(9)
      << "LAST"
      << "DELIVER\n";
  for (const auto& job : all) {
    const char* state = !job.next_run ? "finished" : job.enabled ? "enabled" : "paused";
    out << std::left << std::setw(10) << job.id << std::setw(18) << job.name.substr(0, 17)
        << std::setw(18) << job.schedule.substr(0, 17) << std::setw(11) << state << std::setw(21)
        << local_time(job.next_run) << std::setw(9)
        << (job.last_status.empty() ? "-" : job.last_status) << job.deliver << '\n';
  }
  return kExitOk;
}

int add_job(JobTables& jobs, state::SqlConnection& db, const Config& config, const Words& words,
            std::ostream& out, std::ostream& err) {
  if (words.positional.size() != 2) {
    err << "usage: hermes cron add SCHEDULE PROMPT [--name N] [--deliver TARGET] [--repeat N]\n";
    return kExitUsage;
  }
  cron::NewJob request;
  request.schedule = words.positional[0];
  request.prompt = words.positional[1];
  const auto flag = [&words](const char* name) {
    return words.flags.contains(name) ? words.flags.at(name) : std::string();
  };
  request.name = flag("--name");
  request.model = flag("--model");
  request.deliver = flag("--deliver");
  if (const auto repeat = flag("--repeat"); !repeat.empty()) {
    const auto [end, ec] =
        std::from_chars(repeat.data(), repeat.data() + repeat.size(), request.repeat);
    if (ec != std::errc() || end != repeat.data() + repeat.size() || request.repeat < 0) {
      err << "error: --repeat is a number of runs (0: no limit)\n";
      return kExitUsage;
    }
  }
  std::variant<Job, std::string> added;
  const cron::Zone zone = zone_of(config);  // read before the transaction, not in it
  in_transaction(db, [&] { added = cron::add_job(jobs, request, unix_time_now(), zone); });
  if (auto* error = std::get_if<std::string>(&added)) {
    err << "error: " << *error << '\n';
    return kExitUsage;
  }
  const Job& job = std::get<Job>(added);
  out << job.id << '\n'
      << "Added job " << job.id << " (" << job.name << "): " << job.schedule << ", next run "
      << local_time(job.next_run) << ", delivered to " << job.deliver << '\n';
  return kExitOk;
}

int change_job(JobTables& jobs, state::SqlConnection& db, const Config& config,
               const std::string& verb, const std::string& id, std::ostream& out,
               std::ostream& err) {
  const cron::JobChange change = *cron::job_change_named(verb);  // checked by the caller
  const cron::Zone zone = zone_of(config);
  cron::ChangeResult changed;
  in_transaction(db,
                 [&] { changed = cron::change_job(jobs, change, id, "", unix_time_now(), zone); });
  if (!changed.found) {
    err << "error: no job with id '" << id << "' (hermes cron list shows them)\n";
    return kExitNotInstalled;  // 4: unknown job id
  }
  switch (change) {
    case cron::JobChange::remove:
      out << "Removed job " << id << "; its run history is kept (hermes cron history " << id
          << ").\n";
      break;
    case cron::JobChange::pause:
      out << "Paused job " << id << "; resume it with: hermes cron resume " << id << '\n';
      break;
    case cron::JobChange::resume:
      out << "Resumed job " << id << "; next run " << local_time(changed.job->next_run) << '\n';
      break;
    case cron::JobChange::run:
      out << "Run " << changed.run_id.value_or(0) << " of job " << id
          << " queued: a running gateway starts it within a second, else the next start does "
             "(hermes cron history "
          << id << ")\n";
      break;
  }
  return kExitOk;
}

int show_history(JobTables& jobs, state::SqlConnection& db, const std::string& id, bool json,
                 long limit, std::ostream& out, std::ostream& err) {
  std::optional<Job> job;
  std::vector<Run> runs;
  in_transaction(db, [&] {
    job = jobs.job(id);
    runs = jobs.history(id, limit);
  });
  if (!job && runs.empty()) {
    err << "error: no job with id '" << id << "' (hermes cron list shows them)\n";
    return kExitNotInstalled;  // 4: unknown job id
  }
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& run : runs) list.push_back(run_json(run));
    out << nlohmann::json{{"job_id", id}, {"runs", list}}.dump(2) << '\n';
    return kExitOk;
  }
  if (runs.empty()) {
    out << "Job " << id << " has not run yet; next run " << local_time(job->next_run) << '\n';
    return kExitOk;
  }
  out << std::left << std::setw(7) << "RUN" << std::setw(21) << "SCHEDULED" << std::setw(21)
      << "STARTED" << std::setw(9) << "STATUS" << std::setw(11) << "DELIVERY" << std::setw(14)
      << "MESSAGE"
      << "ERROR\n";
  for (const auto& run : runs) {
    out << std::left << std::setw(7) << run.id << std::setw(21) << local_time(run.scheduled_for)
        << std::setw(21) << local_time(run.started_at) << std::setw(9) << run.status
        << std::setw(11) << (run.delivery.empty() ? "-" : run.delivery) << std::setw(14)
        << (run.message_id.empty() ? "-" : run.message_id) << run.error.substr(0, 80) << '\n';
  }
  return kExitOk;
}

}  // namespace

int run_cron_command(const Options& options, const std::vector<std::string>& args,
                     std::ostream& out, std::ostream& err) {
  static const char* const kVerbs = "list, add, pause, resume, remove, run or history";
  if (args.empty()) {
    err << "error: --cron needs a verb: " << kVerbs << '\n';
    return kExitUsage;
  }
  const std::string& verb = args.front();
  const auto words = split_words(args, err);
  if (!words) return kExitUsage;
  const bool json = words->flags.contains("--json");
  const bool by_id = cron::job_change_named(verb).has_value() || verb == "history";
  if (verb != "list" && verb != "add" && !by_id) {
    err << "error: unknown cron verb '" << verb << "': " << kVerbs << '\n';
    return kExitUsage;
  }
  if (by_id && words->positional.size() != 1) {
    err << "usage: hermes cron " << verb << " ID\n";
    return kExitUsage;
  }
  auto store = open_cron_store(options, verb == "add", err);
  if (!store) {
    if (verb == "list" && json) out << "{\"jobs\": []}\n";
    return verb == "list" ? kExitOk : kExitFailure;
  }
  JobTables jobs(*store->db);
  try {
    if (verb == "list") {
      int code = kExitOk;
      in_transaction(*store->db, [&] { code = list_jobs(jobs, json, out); });
      return code;
    }
    if (verb == "add") return add_job(jobs, *store->db, store->config, *words, out, err);
    if (verb == "history") {
      long limit = 50;
      if (words->flags.contains("--limit")) limit = std::stol(words->flags.at("--limit"));
      return show_history(jobs, *store->db, words->positional[0], json, limit, out, err);
    }
    return change_job(jobs, *store->db, store->config, verb, words->positional[0], out, err);
  } catch (const std::exception& e) {
    err << "error: the job store " << store->where << " failed: " << e.what() << '\n';
    return kExitFailure;
  }
}

}  // namespace hermes::daemon
