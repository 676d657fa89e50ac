// hermes cron: scheduled jobs in the state store, run by the daemon binary (like usage), so it
// works whether or not the gateway runs; a running gateway picks a change up within a second.
#include "cli/daemon_locator.hpp"
#include "cli/verbs.hpp"

namespace hermes::cli {

namespace {

struct CronOptions {
  std::string home;
  bool json = false;
  std::string id;
  std::string schedule;
  std::string prompt;
  std::string name;
  std::string deliver;
  std::string repeat;
  std::string model;
  std::string limit;
};

void run_in_daemon(const CronOptions& options, std::vector<std::string> verb_args) {
  std::vector<std::string> args;
  if (!options.home.empty()) args.insert(args.end(), {"--home", options.home});
  args.push_back("--cron");
  args.insert(args.end(), verb_args.begin(), verb_args.end());
  exec_daemon(args);
}

void add_id_verb(CLI::App& cron, std::shared_ptr<CronOptions> options, const char* verb,
                 const char* what) {
  auto* sub = cron.add_subcommand(verb, what);
  sub->add_option("ID", options->id, "The job's id (hermes cron list shows them)")->required();
  sub->callback([options, verb] { run_in_daemon(*options, {verb, options->id}); });
}

void add_add_verb(CLI::App& cron, std::shared_ptr<CronOptions> options) {
  auto* add = cron.add_subcommand(
      "add",
      "Add a job and print its id. SCHEDULE: 30m, 2h or 1d (once, after that delay), 'every "
      "30m', a cron expression like '0 8 * * 1-5' (in cron.timezone), or a time like "
      "2026-12-24T08:00");
  add->add_option("SCHEDULE", options->schedule, "When it runs")->required();
  add->add_option("PROMPT", options->prompt, "What the agent is asked each time")->required();
  add->add_option("--name", options->name, "A name to know it by (default: the prompt's start)");
  add->add_option("--deliver", options->deliver,
                  "Where the answer goes: local (history only, the default), "
                  "telegram:<chat id> or discord:<channel id>");
  add->add_option("--repeat", options->repeat, "Stop after this many runs (default: no limit)");
  add->add_option("--model", options->model, "A model instead of the default");
  add->callback([options] {
    std::vector<std::string> args{"add", options->schedule, options->prompt};
    const std::pair<const char*, const std::string*> flags[] = {{"--name", &options->name},
                                                                {"--deliver", &options->deliver},
                                                                {"--repeat", &options->repeat},
                                                                {"--model", &options->model}};
    for (const auto& [flag, value] : flags) {
      if (!value->empty()) args.insert(args.end(), {flag, *value});
    }
    run_in_daemon(*options, args);
  });
}

}  // namespace

void setup_cron(CLI::App& app) {
  auto options = std::make_shared<CronOptions>();
  auto* cron = app.add_subcommand(
      "cron",
      "Scheduled jobs: the agent runs a prompt on a schedule and delivers the answer to a chat "
      "(or keeps it in the job's history).\nExample: hermes cron add '0 8 * * 1-5' 'Summarise "
      "the news' --deliver telegram:123456");
  cron->require_subcommand(1);
  cron->add_option("--home", options->home, "Hermes home (default: $HERMES_HOME or ~/.hermes)");

  auto* list = cron->add_subcommand("list", "Every job: schedule, state, next run, last status");
  list->add_flag("--json", options->json, "Print JSON");
  list->callback([options] {
    std::vector<std::string> args{"list"};
    if (options->json) args.push_back("--json");
    run_in_daemon(*options, args);
  });

  add_add_verb(*cron, options);
  add_id_verb(*cron, options, "pause", "Stop a job firing until it is resumed");
  add_id_verb(*cron, options, "resume", "Let a paused job fire again (from now on)");
  add_id_verb(*cron, options, "remove", "Delete a job (its run history is kept)");
  add_id_verb(*cron, options, "run", "Run a job once now, besides its schedule");

  auto* history = cron->add_subcommand(
      "history",
      "A job's runs, newest first: scheduled, started, status (ok, failed, skipped, running), "
      "delivery (delivered with the message id, pending, abandoned, local, silent), error");
  history->add_option("ID", options->id, "The job's id")->required();
  history->add_flag("--json", options->json, "Print JSON");
  history->add_option("--limit", options->limit, "At most this many runs (default 50)");
  history->callback([options] {
    std::vector<std::string> args{"history", options->id};
    if (options->json) args.push_back("--json");
    if (!options->limit.empty()) args.insert(args.end(), {"--limit", options->limit});
    run_in_daemon(*options, args);
  });
}

}  // namespace hermes::cli
