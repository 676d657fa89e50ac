#include "daemon/cron/chat_jobs.hpp"

#include <nlohmann/json.hpp>

#include "common/ascii_case.hpp"
#include "common/runtime_status.hpp"
#include "daemon/cron/cron_config.hpp"
#include "daemon/state/store_worker.hpp"

namespace hermes::daemon::cron {

namespace asio = boost::asio;

namespace {

constexpr const char* kUsage =
    "Usage: /cron list · /cron add <schedule> <prompt> · /cron pause|resume|run|remove <id>. "
    "Schedules: 30m, 2h, 1d (once), every 30m, '0 8 * * 1-5', 2026-12-24T08:00.";

// The next whitespace-separated word of `text`, removed from it.
std::string_view take_word(std::string_view& text) {
  text = trim_space(text);
  const auto end = text.find_first_of(" \t\r\n");
  const auto word = text.substr(0, end);
  text = end == std::string_view::npos ? std::string_view() : text.substr(end);
  return word;
}

// Splits "<schedule> <prompt>": a quoted schedule, `every N`, an @name, five cron fields, or
// one word (30m, an ISO time).
std::variant<std::pair<std::string, std::string>, std::string> split_schedule(
    std::string_view text) {
  text = trim_space(text);
  if (!text.empty() && (text.front() == '"' || text.front() == '\'')) {
    const auto close = text.find(text.front(), 1);
    if (close == std::string_view::npos) return std::string("the schedule's quote is not closed");
    return std::pair{std::string(text.substr(1, close - 1)),
                     std::string(trim_space(text.substr(close + 1)))};
  }
  std::string_view rest = text;
  std::string_view first = take_word(rest);
  if (first == "every") {
    const auto interval = take_word(rest);
    return std::pair{"every " + std::string(interval), std::string(trim_space(rest))};
  }
  if (!first.empty() && !first.starts_with('@')) {
    std::string_view five = text;
    std::string fields;
    for (int i = 0; i < 5; ++i) fields += (i ? " " : "") + std::string(take_word(five));
    if (std::holds_alternative<CronFields>(parse_cron(fields))) {
      return std::pair{fields, std::string(trim_space(five))};
    }
  }
  return std::pair{std::string(first), std::string(trim_space(rest))};
}

std::string list_reply(const std::vector<Job>& jobs, const Zone& zone) {
  if (jobs.empty())
    return "No scheduled jobs in this chat. Add one: /cron add every 1d Summarise the news";
  std::string reply = "Scheduled jobs in this chat:";
  for (const auto& job : jobs) reply += "\n• " + describe_job(job, zone);
  return reply;
}

}  // namespace

std::variant<CronRequest, std::string> parse_cron_request(std::string_view args) {
  CronRequest request;
  std::string_view rest = args;
  request.verb = std::string(take_word(rest));
  if (request.verb.empty()) request.verb = "list";
  if (request.verb == "list") return request;
  if (request.verb == "add") {
    auto split = split_schedule(rest);
    if (auto* error = std::get_if<std::string>(&split)) return *error + ". " + kUsage;
    auto& [schedule, prompt] = std::get<std::pair<std::string, std::string>>(split);
    if (schedule.empty() || prompt.empty()) return std::string(kUsage);
    request.job.schedule = std::move(schedule);
    request.job.prompt = std::move(prompt);
    return request;
  }
  if (job_change_named(request.verb)) {
    request.id = std::string(take_word(rest));
    if (request.id.empty()) return "Which job? /cron " + request.verb + " <id> (see /cron list)";
    return request;
  }
  return "I don't know '/cron " + request.verb + "'. " + kUsage;
}

ChatJobs::ChatJobs(state::StoreWorker& worker, JobTables& jobs, std::function<void()> wake,
                   const Config& config)
    : worker_(worker), jobs_(jobs), wake_(std::move(wake)) {
  reconfigure(config);
}

void ChatJobs::reconfigure(const Config& config) {
  std::string problem;  // logged by the scheduler, which reads the same zone
  zone_ = configured_zone(config, problem);
}

asio::awaitable<std::string> ChatJobs::command(std::string origin, std::string args) {
  auto parsed = parse_cron_request(args);
  if (auto* error = std::get_if<std::string>(&parsed)) co_return std::move(*error);
  CronRequest request = std::get<CronRequest>(std::move(parsed));
  co_return co_await act(origin, std::move(request));
}

asio::awaitable<std::string> ChatJobs::act(const std::string& origin, CronRequest request) {
  std::string reply;
  const double now = unix_time_now();
  request.job.origin = origin;
  std::function<void()> work = [this, &reply, &request, &origin, now] {
    if (request.verb == "list") {
      reply = list_reply(jobs_.jobs(origin), zone_);
      return;
    }
    if (request.verb == "add") {
      auto added = add_job(jobs_, request.job, now, zone_);
      reply = std::holds_alternative<Job>(added)
                  ? "Added " + describe_job(std::get<Job>(added), zone_)
                  : "Not added: " + std::get<std::string>(added);
      return;
    }
    const JobChange change = *job_change_named(request.verb);  // parse_cron_request checked it
    const auto changed = change_job(jobs_, change, request.id, origin, now, zone_);
    if (!changed.found) {
      reply = "No job '" + request.id + "' in this chat (see /cron list).";
    } else if (change == JobChange::remove) {
      reply = "Removed job " + request.id + ".";
    } else if (change == JobChange::run) {
      reply = "Running job " + request.id + " now; its answer comes here.";
    } else {
      reply =
          (change == JobChange::pause ? "Paused " : "Resumed ") + describe_job(*changed.job, zone_);
    }
  };
  co_await worker_.run(std::move(work));
  if (request.verb == "run" && wake_) wake_();
  co_return reply;
}

asio::awaitable<std::string> ChatJobs::tool(std::string origin, std::string arguments) {
  const auto args = nlohmann::json::parse(arguments, nullptr, false);
  if (!args.is_object() || !args.contains("action") || !args["action"].is_string()) {
    co_return "Error: give action (create, list, update, pause, resume, run or remove)";
  }
  const auto text = [&args](const char* key) {
    return args.contains(key) && args[key].is_string() ? args[key].get<std::string>()
                                                       : std::string();
  };
  CronRequest request;
  request.verb = text("action");
  if (request.verb == "create") request.verb = "add";
  request.id = text("job_id");
  request.job.schedule = text("schedule");
  request.job.prompt = text("prompt");
  request.job.name = text("name");
  request.job.deliver = text("deliver");
  if (request.verb == "update") {
    std::optional<std::string> error;
    bool found = false;
    request.job.origin = origin;
    const double now = unix_time_now();
    std::function<void()> work = [this, &error, &found, &request, &origin, now] {
      error = update_job(jobs_, request.id, origin, request.job, now, zone_, found);
    };
    co_await worker_.run(std::move(work));
    if (!found) co_return "Error: no job '" + request.id + "' in this chat";
    if (error) co_return "Error: " + *error;
    co_return "Updated job " + request.id;
  }
  const bool known =
      request.verb == "add" || request.verb == "list" || job_change_named(request.verb);
  if (!known) co_return "Error: unknown action '" + request.verb + "'";
  co_return co_await act(origin, std::move(request));
}

const std::string& ChatJobs::tool_schema() {
  static const std::string schema = nlohmann::json{
      {"type", "function"},
      {"function",
       {{"name", kToolName},
        {"description",
         "Schedule work for yourself in this chat: a prompt you will be given on a schedule, "
         "your answer delivered to this chat. Schedules: '30m', '2h', '1d' (once, after that "
         "delay), 'every 30m', a cron expression like '0 8 * * 1-5' (minute hour day month "
         "weekday, in the gateway's time zone), or a time like '2026-12-24T08:00'. Answer "
         "exactly [SILENT] in a run to deliver nothing."},
        {"parameters",
         {{"type", "object"},
          {"properties",
           {{"action",
             {{"type", "string"},
              {"enum", {"create", "list", "update", "pause", "resume", "run", "remove"}}}},
            {"schedule", {{"type", "string"}}},
            {"prompt", {{"type", "string"}, {"description", "What you will be asked each time"}}},
            {"name", {{"type", "string"}}},
            {"job_id",
             {{"type", "string"}, {"description", "For update, pause, resume, run, remove"}}}}},
          {"required", {"action"}}}}}}}.dump();
  return schema;
}

}  // namespace hermes::daemon::cron
