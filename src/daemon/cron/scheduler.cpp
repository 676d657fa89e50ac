#include "daemon/cron/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cmath>

#include "common/logging.hpp"
#include "common/runtime_status.hpp"
#include "daemon/agent/conversation.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/cron/cron_config.hpp"
#include "daemon/cron/delivery_target.hpp"
#include "daemon/cron/run_outcome.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/platforms/chat/chat_store.hpp"
#include "daemon/platforms/chat/chat_text.hpp"
#include "daemon/state/shared_locks.hpp"
#include "daemon/state/store_worker.hpp"

namespace hermes::daemon::cron {

namespace asio = boost::asio;
using namespace std::chrono_literals;

std::string run_session_id(long long run_id) {
  return "cron-" + std::to_string(run_id);
}

namespace {

Zone zone_of(const Config& config) {
  std::string problem;
  Zone zone = configured_zone(config, problem);
  if (!problem.empty()) spdlog::error("cron: {}; reading cron expressions in UTC", problem);
  return zone;
}

// The summary (status, the deliveries gauge) is read from the store every fifth tick.
constexpr int kSummaryTicks = 5;

}  // namespace

struct Scheduler::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io_context, Context ctx, const Config& cfg)
      : io(io_context), context(std::move(ctx)), config(cfg), zone(zone_of(cfg)), timer(io) {}

  asio::awaitable<void> loop();
  asio::awaitable<void> tick();
  asio::awaitable<void> claim_due();
  asio::awaitable<void> start_queued();
  asio::awaitable<void> resume_cut_runs();
  asio::awaitable<void> refresh_summary();
  asio::awaitable<void> run_one(Run run, bool resumed);
  asio::awaitable<void> finish_too_big(Run run);
  void report_end(const Run& run, const RunOutcome& outcome);
  asio::awaitable<void> store_outcome(state::Transaction& tx, const Run& run,
                                      const ConversationResult& taken,
                                      std::shared_ptr<std::optional<RunOutcome>> decided);
  void spawn_run(Run run, bool resumed);

  asio::io_context& io;
  Context context;
  Config config;
  Zone zone;
  asio::steady_timer timer;
  bool started = false;
  bool stopping = false;
  long running = 0;
  int ticks = 0;
  // Firings are whole seconds: one in the second this gateway started came before it.
  const long long running_since = static_cast<long long>(std::ceil(unix_time_now()));
  std::chrono::milliseconds next_wait{1000};
  Summary summary;
};

void Scheduler::Impl::spawn_run(Run run, bool resumed) {
  ++running;
  asio::co_spawn(io, run_one(std::move(run), resumed),
                 [self = shared_from_this()](std::exception_ptr e) {
                   --self->running;
                   log_exception(e, "cron run");
                   if (!self->stopping) self->timer.cancel();  // a slot is free: look again
                 });
}

asio::awaitable<void> Scheduler::Impl::loop() {
  auto self = shared_from_this();
  try {
    co_await resume_cut_runs();
  } catch (const std::exception& e) {
    spdlog::warn("cron: could not look for runs a restart cut ({}); trying at the next start",
                 e.what());
  }
  while (!stopping) {
    try {
      co_await tick();
    } catch (const std::exception& e) {
      spdlog::warn("cron: {}; trying again in a second", e.what());
    }
    if (stopping) break;
    // Until the next firing, at most a second (a change from `hermes cron` shows by then).
    timer.expires_after(next_wait);
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

asio::awaitable<void> Scheduler::Impl::tick() {
  co_await claim_due();
  co_await start_queued();
  if (ticks++ % kSummaryTicks == 0) co_await refresh_summary();
  std::optional<Job> soonest;
  std::function<void()> read = [this, &soonest] { soonest = context.jobs.next_to_fire(); };
  co_await context.worker.run(std::move(read));
  summary.next = soonest;  // status's next job, read once a tick with the wait below
  next_wait = 1000ms;
  if (soonest && soonest->next_run) {
    const double left = *soonest->next_run - unix_time_now();
    const auto millis = std::chrono::milliseconds(static_cast<long long>(left * 1000) + 5);
    next_wait = std::clamp<std::chrono::milliseconds>(millis, 20ms, 1000ms);
  }
}

// Each due job's firings, decided by plan_firings and claimed in one transaction: the job's
// next_run moves only if it still is what this gateway read, so one gateway claims each.
asio::awaitable<void> Scheduler::Impl::claim_due() {
  const double now = unix_time_now();
  std::vector<Job> due;
  std::function<void()> read = [this, &due, now] { due = context.jobs.due(now); };
  co_await context.worker.run(std::move(read));
  const CatchUp catch_up = config.cron.catch_up_skip ? CatchUp::skip : CatchUp::once;
  for (const Job& job : due) {
    const auto parsed = parse_schedule_for_run(job.schedule);
    if (std::holds_alternative<std::string>(parsed)) {
      spdlog::error("cron: job {} has a schedule that cannot be read ({}); paused", job.id,
                    std::get<std::string>(parsed));
      std::function<void()> pause = [this, &job] {
        context.jobs.set_enabled(job.id, false, std::nullopt);
      };
      co_await context.worker.run(std::move(pause));
      continue;
    }
    const Schedule& schedule = std::get<Schedule>(parsed);
    // A firing due before this gateway started was missed while none ran.
    const auto plan = plan_firings(schedule, static_cast<long long>(job.created_at),
                                   static_cast<long long>(*job.next_run),
                                   static_cast<long long>(now), catch_up, zone, running_since);
    JobTables::Claim claim;
    std::function<void()> write = [this, &claim, &job, &plan, now] {
      claim = context.jobs.claim(job, *job.next_run, plan, now);
    };
    co_await context.worker.run(std::move(write));
    if (!claim.claimed) continue;  // another gateway did
    const auto skipped = static_cast<long long>(plan.skipped.size()) + plan.more_skipped;
    if (skipped > 0) {
      spdlog::info("cron: job {} missed {} firing(s) while no gateway ran: {}", job.id, skipped,
                   catch_up == CatchUp::once
                       ? "the latest runs now, the others are recorded as skipped"
                       : "recorded as skipped (cron.catch_up: skip)");
      for (long long i = 0; i < skipped; ++i) context.metrics.count_cron_run("skipped");
    }
  }
}

asio::awaitable<void> Scheduler::Impl::start_queued() {
  const long free = config.cron.max_parallel - running;
  if (free <= 0 || stopping) co_return;
  std::vector<Run> queued;
  std::function<void()> read = [this, &queued, free] {
    queued = context.jobs.runs_with_status("queued", free);
  };
  co_await context.worker.run(std::move(read));
  for (auto& run : queued) {
    bool mine = false;
    const double now = unix_time_now();
    std::function<void()> take = [this, &mine, &run, now] {
      mine = context.jobs.start(run.id, now);
    };
    co_await context.worker.run(std::move(take));
    if (mine && !stopping) spawn_run(std::move(run), false);
  }
}

// Runs left `running` by a process that stopped mid-run: finished like a resumable turn (the
// complete tool rounds stored are not run again). With PostgreSQL, a run whose session lock
// another gateway holds is still running there.
asio::awaitable<void> Scheduler::Impl::resume_cut_runs() {
  std::vector<Run> cut;
  std::function<void()> read = [this, &cut] {
    cut = context.jobs.runs_with_status("running", 1000);
  };
  co_await context.worker.run(std::move(read));
  for (auto& run : cut) {
    if (context.shared) {
      const bool free =
          co_await context.shared->try_hold(session_lock_name(run_session_id(run.id)));
      if (!free) continue;
    }
    spdlog::info("cron: finishing run {} a restart cut", run.id);
    spawn_run(std::move(run), true);
  }
}

asio::awaitable<void> Scheduler::Impl::refresh_summary() {
  const double now = unix_time_now();
  long long failed_today = 0;
  std::map<std::string, long long> deliveries;
  std::function<void()> read = [this, &failed_today, &deliveries, now] {
    failed_today = context.jobs.failed_since(now - 86400);
    deliveries = context.jobs.deliveries();
  };
  co_await context.worker.run(std::move(read));
  summary.failed_today = failed_today;
  context.metrics.set_cron_deliveries(std::move(deliveries));
  // A run finished on another gateway queued its reply in an outbox this one may hold.
  for (const char* platform : {"telegram", "discord"}) {
    if (auto outbox = context.outbox(platform); outbox && outbox->send_now) outbox->send_now();
  }
}

asio::awaitable<void> Scheduler::Impl::run_one(Run run, bool resumed) {
  auto self = shared_from_this();
  const std::string session_id = run_session_id(run.id);
  bool session_stored = false;
  if (resumed) {
    std::function<void()> read = [this, &session_stored, &session_id] {
      session_stored = context.jobs.session_stored(session_id);
    };
    co_await context.worker.run(std::move(read));
  }
  ConversationTurn turn;
  turn.session_id = session_id;
  turn.platform = "cron";
  turn.new_session = !session_stored;
  // Like a message from a durable inbox: stored once, and a cut turn goes on from its rounds.
  turn.redelivered = true;
  turn.fresh.emplace_back("user", run.prompt);
  TurnOptions options;
  options.usage_kind = "cron";
  options.model = run.model;
  options.chat = "cron:" + (run.job_id.empty() ? std::string("webhook") : run.job_id);
  auto decided = std::make_shared<std::optional<RunOutcome>>();
  PlatformRows rows = [this, run, decided](state::Transaction& tx,
                                           const ConversationResult& taken) {
    return store_outcome(tx, run, taken, decided);
  };
  const auto taken =
      co_await context.conversation.take_turn(std::move(turn), std::move(options), std::move(rows));
  if (taken.too_big) {
    co_await finish_too_big(run);
    co_return;
  }
  if (taken.stored != StoreOutcome::stored) {
    spdlog::error("cron: run {} could not be stored ({}); it runs again at the next start", run.id,
                  taken.store_error);
    co_return;
  }
  if (!*decided) {
    spdlog::info("cron: run {} was cut by the drain; the next start finishes it", run.id);
    co_return;
  }
  report_end(run, **decided);
}

// Counted, logged, and its reply sent now by the gateway holding the target platform.
void Scheduler::Impl::report_end(const Run& run, const RunOutcome& outcome) {
  context.metrics.count_cron_run(outcome.status);
  spdlog::info("cron: run {} ({}) {}; delivery {}", run.id,
               run.job_id.empty() ? run.source : "job " + run.job_id, outcome.status,
               outcome.delivery);
  if (!outcome.send) return;
  auto parsed = parse_target(run.deliver);
  if (auto* target = std::get_if<DeliveryTarget>(&parsed)) {
    if (auto outbox = context.outbox(target->platform); outbox && outbox->send_now) {
      outbox->send_now();
    }
  }
}

// The prompt alone is over the model's window: the core ran and stored nothing, so the run's
// end is written on its own.
asio::awaitable<void> Scheduler::Impl::finish_too_big(Run run) {
  RunFacts facts;
  facts.too_big = true;
  facts.local = true;
  const auto outcome = decide_run_outcome(facts);
  run.status = outcome->status;
  run.delivery = outcome->delivery;
  run.error = outcome->error;
  run.result = outcome->result;
  const double now = unix_time_now();
  std::function<void()> write = [this, &run, now] { context.jobs.finish(run, now); };
  co_await context.worker.run(std::move(write));
  context.metrics.count_cron_run("failed");
}

// In the turn's own transaction: the run's end and, for a target, its reply in that
// platform's outbox, named by the run so the run says delivered only once it was.
asio::awaitable<void> Scheduler::Impl::store_outcome(
    state::Transaction& tx, const Run& run, const ConversationResult& taken,
    std::shared_ptr<std::optional<RunOutcome>> decided) {
  const TurnResult& result = taken.result;
  RunFacts facts;
  facts.ok = result.ok;
  facts.interrupted = result.interrupted;
  facts.answer = result.content;
  if (!result.ok && result.failure) facts.failure_reply = chat::failed_turn_reply(*result.failure);
  if (!result.ok && !result.failure && !result.interrupted) {
    facts.failure_reply = "The run ended without an answer.";
  }
  std::optional<DeliveryTarget> target;
  std::optional<RunOutbox> outbox;
  auto parsed = parse_target(run.deliver);
  if (auto* t = std::get_if<DeliveryTarget>(&parsed)) target = *t;
  facts.local = !target || target->local();
  if (!facts.local) outbox = context.outbox(target->platform);
  *decided = decide_run_outcome(facts);
  if (!*decided) co_return;
  Run ended = run;
  ended.status = (*decided)->status;
  ended.delivery = (*decided)->delivery;
  ended.error = (*decided)->error;
  ended.result = (*decided)->result;
  if ((*decided)->send && !outbox) {
    // Nothing will ever send it: say so rather than leave it pending.
    ended.delivery = "abandoned";
    ended.error = (ended.error.empty() ? "" : ended.error + "; ") + "not delivered: " +
                  (target ? target->platform + " is not enabled in this gateway's config"
                          : std::get<std::string>(parsed));
    (*decided)->delivery = ended.delivery;
    (*decided)->send.reset();
  }
  const double now = unix_time_now();
  JobTables* jobs = &context.jobs;
  tx.add([jobs, ended, now] { jobs->finish(ended, now); });
  if ((*decided)->send) {
    for (const auto& part : chat::split_message(*(*decided)->send, outbox->max_units)) {
      chat::Delivery delivery;
      // A Discord thread is a channel of its own; a Telegram topic is named beside its chat.
      const bool discord_thread = target->platform == "discord" && target->thread_id != 0;
      delivery.chat_id = discord_thread ? target->thread_id : target->chat_id;
      delivery.thread_id = discord_thread ? 0 : target->thread_id;
      delivery.text = part;
      delivery.cron_run_id = run.id;
      outbox->store->queue_delivery(tx, std::move(delivery));
    }
  }
  co_return;
}

Scheduler::Scheduler(asio::io_context& io, Context context, const Config& config)
    : impl_(std::make_shared<Impl>(io, std::move(context), config)) {}

Scheduler::~Scheduler() {
  impl_->stopping = true;
  impl_->timer.cancel();
}

void Scheduler::start() {
  if (impl_->started) return;
  impl_->started = true;
  asio::co_spawn(impl_->io, impl_->loop(),
                 [](std::exception_ptr e) { log_exception(e, "cron scheduler"); });
}

void Scheduler::stop() {
  impl_->stopping = true;
  impl_->timer.cancel();
}

long Scheduler::running() const {
  return impl_->running;
}

void Scheduler::wake() {
  if (!impl_->stopping) impl_->timer.cancel();
}

void Scheduler::reconfigure(const Config& config) {
  impl_->config = config;
  impl_->zone = zone_of(config);
}

Scheduler::Summary Scheduler::summary() const {
  return impl_->summary;
}

}  // namespace hermes::daemon::cron
