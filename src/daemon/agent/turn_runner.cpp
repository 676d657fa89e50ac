#include "daemon/agent/turn_runner.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <list>
#include <random>

#include "common/logging.hpp"
#include "daemon/agent/recent_sessions.hpp"
#include "daemon/agent/turn_deadline.hpp"
#include "daemon/builtin/builtin_tools.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/providers/classifier.hpp"
#include "daemon/providers/cooldown_rule.hpp"
#include "daemon/providers/hint.hpp"
#include "daemon/providers/http_client.hpp"
#include "daemon/providers/provider_step.hpp"
#include "daemon/providers/redact.hpp"
#include "daemon/tools/loop_step.hpp"
#include "daemon/tools/tool_registry.hpp"
#include "daemon/usage/usage_ledger.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using providers::CallAction;
using providers::ChatMessage;
using providers::Classification;
using providers::FailoverReason;
using Clock = std::chrono::steady_clock;

namespace {

struct Slot {
  std::string provider;
  std::string model;
};

struct Bench {
  Clock::time_point until;
  FailoverReason reason = FailoverReason::unknown;
  int times = 0;
};

struct ActiveTurn {
  bool interrupted = false;  // by the drain
  bool client_gone = false;  // by the turn's abort signal
  std::shared_ptr<asio::steady_timer> backoff;
  // Fired by either end: cancels the running tool calls (notifications/cancelled).
  std::shared_ptr<providers::AbortSignal> tools_abort = std::make_shared<providers::AbortSignal>();
  // What the turn holds back of the budgets while it runs (released when it ends).
  usage::BudgetHold budget;
  // The start, or the last answer, streamed byte or tool round: agent.turn_timeout runs from it.
  Clock::time_point last_progress = Clock::now();
  // What the dashboard shows of it, and the signal its Stop fires (the turn's own abort).
  std::uint64_t id = 0;
  std::string platform;
  std::string session_id;
  double started_at = 0;
  std::string step = "starting";
  std::shared_ptr<providers::AbortSignal> stop;

  bool ended_early() const { return interrupted || client_gone; }
  // Says how the turn ended early, in `result` and the metrics; false when it did not.
  bool record_early_end(TurnResult& result, Metrics& metrics, std::string&& partial) const {
    if (interrupted) {
      result.interrupted = true;
      metrics.count_turn("interrupted");
      return true;
    }
    if (client_gone) {
      result.client_gone = true;
      result.stopped = stop && stop->stopped_by_user();
      result.content = std::move(partial);
      metrics.count_turn("client_gone");
      return true;
    }
    return false;
  }
};

// The turn's abort signal, when it has one, ends `turn` early: the backoff is cut short and
// the running tools are cancelled.
providers::AbortSignal::Subscription watch_abort(
    const std::shared_ptr<providers::AbortSignal>& abort, ActiveTurn& turn) {
  if (!abort) return {};
  return abort->subscribe([raw = &turn] {
    raw->client_gone = true;
    if (raw->backoff) raw->backoff->cancel();
    raw->tools_abort->abort();
  });
}

// Takes a turn off the active list when it ends.
struct Unregister {
  std::list<std::shared_ptr<ActiveTurn>>& list;
  std::list<std::shared_ptr<ActiveTurn>>::iterator it;
  ~Unregister() { list.erase(it); }
};

struct ObserveDuration {
  Metrics& metrics;
  const std::string& platform;
  Clock::time_point started;
  ~ObserveDuration() { metrics.observe_turn(platform, Clock::now() - started); }
};

// What every provider call of one turn sends, and the turn it belongs to.
struct ProviderRequest {
  ActiveTurn& turn;
  const std::vector<ChatMessage>& messages;  // grows with each tool round
  const std::string& tools;
  const TurnOptions& options;
  const std::vector<Slot>& usable;
  Clock::time_point hard_deadline;  // agent.turn_hard_timeout, progress or not
};

std::string provider_fingerprint(const ProviderConfig& p) {
  std::string f = p.base_url;
  for (const auto& k : p.api_keys) f += "\n" + k;
  return f;
}

}  // namespace

struct TurnRunner::Impl {
  Impl(asio::io_context& io_context, const Config& c, Metrics& m, tools::ToolRegistry* t,
       usage::UsageLedger* l)
      : io(io_context),
        client(io_context),
        config(c),
        metrics(m),
        tool_registry(t),
        ledger(l),
        rng(std::random_device{}()) {
    rebuild_pools({});
  }

  void rebuild_pools(const std::map<std::string, std::string>& old_fingerprints) {
    for (const auto& [name, provider] : config.providers) {
      const auto fingerprint = provider_fingerprint(provider);
      auto old = old_fingerprints.find(name);
      if (old == old_fingerprints.end() || old->second != fingerprint || !pools.contains(name)) {
        pools.insert_or_assign(name, providers::CredentialPool(provider.api_keys));
        benches.erase(name);
      }
      fingerprints[name] = fingerprint;
    }
  }

  // The primary and its fallbacks, at most kMaxProvidersPerTurn: a list of 10,000 fallbacks
  // must not turn one message into thousands of upstream calls.
  static constexpr std::size_t kMaxProvidersPerTurn = 8;

  std::vector<Slot> chain() const {
    std::vector<Slot> slots{{config.model.provider, config.model.default_model}};
    for (const auto& f : config.fallback_providers) {
      if (slots.size() >= kMaxProvidersPerTurn) break;
      Slot slot{f.provider, f.model.empty() ? config.model.default_model : f.model};
      bool duplicate = false;
      for (const auto& s : slots)
        duplicate = duplicate || (s.provider == slot.provider && s.model == slot.model);
      if (!duplicate) slots.push_back(slot);
    }
    return slots;
  }

  // Benches `provider`; a billing failure reported to the user says when the probe comes.
  void bench(const std::string& provider, const Classification& c, Classification& reported) {
    auto& b = benches[provider];
    ++b.times;
    if (b.reason != c.reason) b.times = 1;  // a new kind of failure starts afresh
    b.reason = c.reason;
    // The same rule as the keys' cooldowns: when the bench ends, the next turn is the probe.
    const auto length = providers::cooldown_length(c.reason, c.retry_after, b.times);
    b.until = Clock::now() + length;
    if (c.reason == FailoverReason::billing) reported.retry_after = length;
    spdlog::warn("provider {} benched for {}s after {}", provider,
                 std::chrono::duration_cast<std::chrono::seconds>(length).count(),
                 providers::to_string(c.reason));
  }

  bool benched(const std::string& provider, Clock::time_point now) const {
    auto it = benches.find(provider);
    return it != benches.end() && it->second.until > now;
  }

  asio::awaitable<TurnResult> run(std::vector<providers::ChatMessage> messages,
                                  TurnOptions options);
  // Before any provider call. True: the chat's budget is spent and `result` says so.
  bool refuse_on_budget(const TurnOptions& options, TurnResult& result);
  // The chain without its benched providers; empty when all are benched (`result` says so).
  std::vector<Slot> usable_slots(const TurnOptions& options, TurnResult& result);
  std::string offered_tools(const TurnOptions& options) const;
  // The answer asks the client to run its own tools: the turn ends with those calls.
  void answer_client_tools(providers::ChatCallResult& answer, TurnResult& result);
  // The turn's text answer (at the cap: a sentence saying it stopped, streamed too).
  asio::awaitable<void> finish_answer(tools::LoopStep step, int calls,
                                      providers::ChatCallResult& answer, const TurnOptions& options,
                                      TurnResult& result);
  // Runs the tools `answer` asks for; the round joins the messages and the transcript.
  asio::awaitable<void> tool_round(ActiveTurn& turn, std::vector<ChatMessage>& messages,
                                   providers::ChatCallResult& answer, const TurnOptions& options,
                                   TurnResult& result);

  // One provider call through the failover (providers::step_provider_call decides). True with
  // `answer` set; false when the turn ends here (`result` then says how, and the metrics
  // counted it).
  asio::awaitable<bool> call_provider(const ProviderRequest& request, TurnResult& result,
                                      providers::ChatCallResult& answer);
  std::vector<providers::ChainSlot> chain_view(const std::vector<Slot>& usable) const;
  // Does what a step says besides calling and waiting: who answers, the failure to report, a
  // key cooled, a provider benched, and the logs and counts that go with them.
  void apply_step(const providers::CallStep& step, const std::vector<Slot>& usable,
                  Clock::time_point now, TurnResult& result, ProviderConfig& provider);
  providers::CallEvent check_key_budget(const std::string& provider, std::size_t key) const;
  // Makes the call `step` says. False when the turn ended meanwhile (`result` says how).
  asio::awaitable<bool> call_once(const ProviderRequest& request, const providers::CallStep& step,
                                  const ProviderConfig& provider, TurnResult& result,
                                  providers::ChatCallResult& outcome);
  void record_usage(const ProviderRequest& request, const Slot& slot, std::size_t key,
                    const providers::ChatCallResult& outcome, TurnResult& result);
  // What the call came to, for the next step: answered, or failed and classified.
  providers::CallEvent outcome_event(const ProviderRequest& request,
                                     const providers::CallStep& step, int attempt,
                                     providers::ChatCallResult& outcome);
  asio::awaitable<void> accept_answer(const ProviderRequest& request,
                                      const providers::CallStep& step,
                                      const providers::ChatCallResult& outcome);

  // Runs the calls of one answer (in parallel) and returns their results, in order.
  asio::awaitable<std::vector<ChatMessage>> run_tools(const std::vector<providers::ToolCall>& calls,
                                                      std::shared_ptr<providers::AbortSignal> abort,
                                                      const tools::Approver* approver,
                                                      const TurnOptions& options);
  // The turn's own tools first (options.own_tools), then the MCP servers'.
  asio::awaitable<void> run_one_tool(const providers::ToolCall& call,
                                     std::shared_ptr<providers::AbortSignal> abort,
                                     const tools::Approver* approver, const TurnOptions& options,
                                     ChatMessage& out);
  asio::awaitable<void> run_builtin_tool(const providers::ToolCall& call,
                                         std::shared_ptr<providers::AbortSignal> abort,
                                         const tools::Approver* approver,
                                         const TurnOptions& options, ChatMessage& out);
  asio::awaitable<bool> sleep(ActiveTurn& turn, std::chrono::milliseconds wait);

  asio::io_context& io;
  providers::HttpClient client;
  Config config;
  Metrics& metrics;
  ProviderCall provider_call;  // set: instead of HTTP (in-process tests)
  tools::ToolRegistry* tool_registry;
  builtin::BuiltinTools* builtin_tools = nullptr;
  usage::UsageLedger* ledger;
  context::TokenCorrection correction;
  std::mt19937 rng;
  std::map<std::string, providers::CredentialPool> pools;
  std::map<std::string, std::string> fingerprints;
  std::map<std::string, Bench> benches;
  std::list<std::shared_ptr<ActiveTurn>> active;
  std::uint64_t next_turn_id = 1;
  std::deque<TurnFailure> failures;  // newest first
  RecentSessions recent{kRecentSessions};
  bool older_sessions_added = false;
};

asio::awaitable<bool> TurnRunner::Impl::sleep(ActiveTurn& turn, std::chrono::milliseconds wait) {
  if (wait.count() <= 0 || turn.ended_early()) co_return !turn.ended_early();
  turn.step = "waiting to retry";
  turn.backoff = std::make_shared<asio::steady_timer>(io, wait);
  auto timer = turn.backoff;
  co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  turn.backoff.reset();
  co_return !turn.ended_early();
}

asio::awaitable<TurnResult> TurnRunner::Impl::run(std::vector<providers::ChatMessage> messages,
                                                  TurnOptions options) {
  auto turn = std::make_shared<ActiveTurn>();
  // Every turn can be stopped (the dashboard's Stop), whether or not its caller can.
  if (!options.abort) options.abort = std::make_shared<providers::AbortSignal>();
  turn->id = next_turn_id++;
  turn->started_at = static_cast<double>(usage::unix_seconds_now());
  turn->stop = options.abort;
  turn->platform = options.platform;
  turn->session_id = options.session_id;
  const auto on_abort = watch_abort(options.abort, *turn);  // destroyed before `turn`
  active.push_back(turn);
  const Unregister unregister{active, std::prev(active.end())};

  TurnResult result;
  if (turn->record_early_end(result, metrics, std::string())) co_return result;
  const ObserveDuration observe_duration{metrics, options.platform, Clock::now()};
  if (refuse_on_budget(options, result)) co_return result;
  const auto usable = usable_slots(options, result);
  if (usable.empty()) co_return result;
  // Held at once, with no wait since the budget check: a turn admitted beside this one sees it.
  if (ledger && ledger->has_budgets()) {
    const auto estimate =
        ledger->turn_estimate(usable.front().model, context::estimate_tokens(messages));
    turn->budget = ledger->hold(options.chat, estimate);
  }
  // One hard cap for the whole turn, whatever rounds, retries and fallbacks it goes through;
  // within it, the turn may go agent.turn_timeout without progress.
  turn->last_progress = Clock::now();
  const auto hard_deadline = turn->last_progress + config.agent.turn_hard_timeout;
  const std::string tools = offered_tools(options);
  const bool client_tools = !options.client_tools.empty();
  const bool tools_offered = !client_tools && !tools.empty();
  const ProviderRequest request{*turn, messages, tools, options, usable, hard_deadline};
  for (int calls = 1;; ++calls) {
    providers::ChatCallResult answer;
    const bool answered = co_await call_provider(request, result, answer);
    if (!answered) co_return result;
    if (client_tools && !answer.tool_calls.empty()) {
      answer_client_tools(answer, result);
      co_return result;
    }
    const auto step = tools::next_step(
        {!answer.tool_calls.empty(), tools_offered, calls, config.agent.max_tool_iterations});
    if (step != tools::LoopStep::run_tools) {
      co_await finish_answer(step, calls, answer, options, result);
      co_return result;
    }
    co_await tool_round(*turn, messages, answer, options, result);
    if (turn->record_early_end(result, metrics, std::string())) co_return result;
  }
}

bool TurnRunner::Impl::refuse_on_budget(const TurnOptions& options, TurnResult& result) {
  if (!ledger) return false;
  // Refused before any provider call: nothing is spent past a limit.
  const auto now_unix = usage::unix_seconds_now();
  const auto budget = ledger->check(options.chat, now_unix);
  if (budget.verdict != usage::BudgetVerdict::refuse) {
    result.budget_warning = ledger->take_warning(options.chat, now_unix);
    return false;
  }
  Classification c;
  c.reason = FailoverReason::budget_exceeded;
  c.gateway_detail = usage::refusal_sentence(budget);
  c.retry_after = std::chrono::seconds(std::max<std::int64_t>(1, budget.resets_at - now_unix));
  result.failure = c;
  metrics.count_turn("budget_exceeded");
  spdlog::warn("turn refused: budget {} used up (${:.4f} of ${:.2f})", budget.budget,
               budget.spent_usd, budget.limit_usd);
  return true;
}

std::vector<Slot> TurnRunner::Impl::usable_slots(const TurnOptions& options, TurnResult& result) {
  auto slots = chain();
  if (!options.model.empty()) slots.front().model = options.model;  // a summary, a job's model
  const auto now = Clock::now();
  // Skip benched providers while any other is usable; if all are benched, answer from the
  // bench at once instead of hammering a provider that just said no.
  std::vector<Slot> usable;
  for (const auto& s : slots) {
    if (!benched(s.provider, now)) usable.push_back(s);
  }
  if (!usable.empty()) return usable;
  const auto& b = benches[slots.front().provider];
  Classification c;
  c.reason = b.reason;
  c.provider = slots.front().provider;
  c.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(b.until - now);
  result.failure = c;
  result.provider = slots.front().provider;
  metrics.count_turn("failed");
  return usable;
}

std::string TurnRunner::Impl::offered_tools(const TurnOptions& options) const {
  // A client's own tools replace the gateway's: the client runs them, not us.
  if (!options.client_tools.empty()) return options.client_tools;
  if (options.summary) return std::string();
  std::string offered;
  if (tool_registry && !tool_registry->empty()) offered = tool_registry->offered_json();
  const auto add = [&offered](const std::string& entries) {
    if (entries.empty()) return;
    if (offered.empty()) {
      offered = "[" + entries + "]";
    } else {
      offered.back() = ',';  // the array's closing bracket
      offered += entries + "]";
    }
  };
  if (builtin_tools) add(builtin_tools->offered_entries());
  for (const auto& own : options.own_tools) add(own.schema);
  return offered;
}

void TurnRunner::Impl::answer_client_tools(providers::ChatCallResult& answer, TurnResult& result) {
  result.ok = true;
  result.content = std::move(answer.content);
  result.usage = answer.usage;
  result.finish_reason = "tool_calls";
  result.failure.reset();
  result.transcript.push_back(
      {"assistant", result.content, providers::tool_calls_json(answer.tool_calls), {}});
  result.client_tool_calls = std::move(answer.tool_calls);
  metrics.count_turn("ok");
}

asio::awaitable<void> TurnRunner::Impl::finish_answer(tools::LoopStep step, int calls,
                                                      providers::ChatCallResult& answer,
                                                      const TurnOptions& options,
                                                      TurnResult& result) {
  const auto& sink = options.sink;
  result.ok = true;
  result.content = std::move(answer.content);
  if (step == tools::LoopStep::stop_at_cap) {
    spdlog::warn("turn stopped at agent.max_tool_iterations ({} provider calls)", calls);
    result.content =
        "I stopped here: this answer needed more than " +
        std::to_string(config.agent.max_tool_iterations) +
        " rounds of tool calls (agent.max_tool_iterations), so it is not finished. Ask me "
        "to go on, or narrow the question.";
    if (sink) co_await sink("\n\n" + result.content);
  }
  result.usage = answer.usage;
  result.finish_reason = step == tools::LoopStep::stop_at_cap ? "stop" : answer.finish_reason;
  result.failure.reset();
  result.transcript.push_back({"assistant", result.content, {}, {}});
  metrics.count_turn("ok");
}

asio::awaitable<void> TurnRunner::Impl::tool_round(ActiveTurn& turn,
                                                   std::vector<ChatMessage>& messages,
                                                   providers::ChatCallResult& answer,
                                                   const TurnOptions& options, TurnResult& result) {
  ChatMessage asked{
      "assistant", std::move(answer.content), providers::tool_calls_json(answer.tool_calls), {}};
  messages.push_back(asked);
  if (options.on_tool_call) {
    for (const auto& call : answer.tool_calls) options.on_tool_call(call);
  }
  turn.step = "tool:";
  for (const auto& call : answer.tool_calls) turn.step += " " + call.name;
  const tools::Approver* approver = options.approver ? &options.approver : nullptr;
  auto results = co_await run_tools(answer.tool_calls, turn.tools_abort, approver, options);
  result.tool_calls += static_cast<int>(answer.tool_calls.size());
  // A round is kept whole (the calls and every result, cancelled ones say so), so what is
  // stored never leaves a tool call unanswered.
  result.transcript.push_back(asked);
  for (auto& r : results) {
    messages.push_back(r);
    result.transcript.push_back(std::move(r));
  }
  turn.last_progress = Clock::now();  // however long the tools took, the turn went on
}

asio::awaitable<std::vector<ChatMessage>> TurnRunner::Impl::run_tools(
    const std::vector<providers::ToolCall>& calls, std::shared_ptr<providers::AbortSignal> abort,
    const tools::Approver* approver, const TurnOptions& options) {
  std::vector<ChatMessage> results(calls.size());
  if (calls.size() == 1) {
    co_await run_one_tool(calls[0], abort, approver, options, results[0]);
    co_return results;
  }
  // The calls of one answer run side by side; a timer serves as the "all done" event.
  asio::steady_timer all_done(io, asio::steady_timer::time_point::max());
  std::size_t running = calls.size();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    asio::co_spawn(io, run_one_tool(calls[i], abort, approver, options, results[i]),
                   [&running, &all_done](std::exception_ptr e) {
                     log_exception(e, "tool call");
                     if (--running == 0) all_done.cancel();
                   });
  }
  co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return results;
}

asio::awaitable<void> TurnRunner::Impl::run_one_tool(const providers::ToolCall& call,
                                                     std::shared_ptr<providers::AbortSignal> abort,
                                                     const tools::Approver* approver,
                                                     const TurnOptions& options, ChatMessage& out) {
  const auto started = Clock::now();
  out.role = "tool";
  out.tool_call_id = call.id;
  for (const auto& own : options.own_tools) {
    if (own.name != call.name) continue;
    std::string arguments = call.arguments;  // named: GCC 12
    out.content = co_await own.run(std::move(arguments));
    spdlog::info("tool {}: done in {:.0f} ms", call.name,
                 std::chrono::duration<double>(Clock::now() - started).count() * 1000);
    co_return;
  }
  if (builtin_tools && builtin_tools->offers(call.name)) {
    co_await run_builtin_tool(call, std::move(abort), approver, options, out);
    co_return;
  }
  if (!tool_registry) {
    out.content = "Error: there is no tool named '" + call.name.substr(0, 100) + "'";
    co_return;
  }
  metrics.tool_call_started();
  auto outcome =
      co_await tool_registry->call(call.name, call.arguments, std::move(abort), approver);
  metrics.tool_call_ended();
  const auto took = std::chrono::duration<double>(Clock::now() - started);
  metrics.observe_tool_call(tool_registry->server_of(call.name), took);
  spdlog::info("tool {}: {} in {:.0f} ms", call.name, outcome.is_error ? "failed" : "done",
               took.count() * 1000);
  // The model reads an error as the result; saying so lets it recover or explain.
  out.content = outcome.is_error ? "Error: " + outcome.text : std::move(outcome.text);
}

asio::awaitable<void> TurnRunner::Impl::run_builtin_tool(
    const providers::ToolCall& call, std::shared_ptr<providers::AbortSignal> abort,
    const tools::Approver* approver, const TurnOptions& options, ChatMessage& out) {
  const auto started = Clock::now();
  builtin::BuiltinCall whose{options.user, options.session_id, std::move(abort), approver};
  std::string name = call.name;  // named: GCC 12
  std::string arguments = call.arguments;
  metrics.tool_call_started();
  auto outcome =
      co_await builtin_tools->call(std::move(name), std::move(arguments), std::move(whose));
  metrics.tool_call_ended();
  const auto took = std::chrono::duration<double>(Clock::now() - started);
  metrics.observe_tool_call("builtin", took);
  spdlog::info("tool {}: {} in {:.0f} ms", call.name, outcome.is_error ? "failed" : "done",
               took.count() * 1000);
  out.content = outcome.is_error ? "Error: " + outcome.text : std::move(outcome.text);
}

asio::awaitable<bool> TurnRunner::Impl::call_provider(const ProviderRequest& request,
                                                      TurnResult& result,
                                                      providers::ChatCallResult& answer) {
  providers::FailoverSettings settings;
  settings.attempts_per_provider = config.agent.api_max_retries;
  providers::CallCursor cursor;
  providers::CallEvent event;  // ready: the first step enters the first configured slot
  ProviderConfig provider;     // the entered slot's
  providers::ChatCallResult outcome;
  for (;;) {
    const auto now = Clock::now();
    const auto chain = chain_view(request.usable);
    const auto deadline =
        turn_deadline(request.turn.last_progress, config.agent.turn_timeout, request.hard_deadline);
    const providers::CallContext step_context{chain, settings, now, deadline,
                                              result.failure.has_value()};
    const auto step = providers::step_provider_call(cursor, event, step_context);
    cursor = step.next;
    apply_step(step, request.usable, now, result, provider);
    event = providers::CallEvent();
    switch (step.action) {
      case CallAction::check_key_budget:
        event = check_key_budget(request.usable[step.slot].provider, step.key);
        break;
      case CallAction::call: {
        const bool going_on = co_await call_once(request, step, provider, result, outcome);
        if (!going_on) co_return false;
        event = outcome_event(request, step, cursor.attempt, outcome);
        break;
      }
      case CallAction::retry_same_key: {
        const bool slept = co_await sleep(request.turn, step.wait);
        if (!slept) {
          request.turn.record_early_end(result, metrics, std::string());
          co_return false;
        }
        break;
      }
      case CallAction::done:
        co_await accept_answer(request, step, outcome);
        answer = std::move(outcome);
        co_return true;
      case CallAction::out_of_time:
        spdlog::warn("turn ran out of time after {} upstream call(s): {}", result.calls,
                     now >= request.hard_deadline ? "agent.turn_hard_timeout"
                                                  : "no progress for agent.turn_timeout");
        metrics.count_turn("failed");
        co_return false;
      case CallAction::give_up:
        metrics.count_turn("failed");
        co_return false;
      case CallAction::skip_key:
      case CallAction::provider_cooling:
      case CallAction::rotate_key:
      case CallAction::fall_back:
        break;  // apply_step did what they need
    }
  }
}

std::vector<providers::ChainSlot> TurnRunner::Impl::chain_view(
    const std::vector<Slot>& usable) const {
  std::vector<providers::ChainSlot> chain;
  for (const auto& slot : usable) {
    const auto pool = pools.find(slot.provider);
    chain.push_back({slot.provider, config.providers.contains(slot.provider),
                     pool == pools.end() ? nullptr : &pool->second});
  }
  return chain;
}

void TurnRunner::Impl::apply_step(const providers::CallStep& step, const std::vector<Slot>& usable,
                                  Clock::time_point now, TurnResult& result,
                                  ProviderConfig& provider) {
  if (step.entered) {
    const Slot& slot = usable[step.slot];
    result.provider = slot.provider;
    result.model = slot.model;
    provider = config.providers.at(slot.provider);  // a copy: SIGHUP may replace config
  }
  if (step.failure) result.failure = *step.failure;
  if (step.cool_key) {
    pools.at(usable[step.slot].provider)
        .cool_down(step.key, step.failure->reason, step.failure->retry_after, now);
  }
  if (step.bench) bench(usable[step.slot].provider, *step.failure, *result.failure);
  const auto& soonest = step.soonest;
  switch (step.action) {
    case CallAction::provider_cooling:
      spdlog::warn(
          "provider {}: every key is cooling down ({}, next try in {}s)",
          usable[step.slot].provider, soonest ? providers::to_string(soonest->reason) : "unknown",
          soonest ? std::chrono::duration_cast<std::chrono::seconds>(soonest->left).count() : 0);
      break;
    case CallAction::rotate_key:
      metrics.count_rotation();
      break;
    case CallAction::retry_same_key:
      metrics.count_retry();
      break;
    case CallAction::fall_back:
      metrics.count_fallback();
      break;
    default:
      break;
  }
}

providers::CallEvent TurnRunner::Impl::check_key_budget(const std::string& provider,
                                                        std::size_t key) const {
  providers::CallEvent event;
  event.kind = providers::CallEventKind::key_cleared;
  if (!ledger) return event;
  const auto now_unix = usage::unix_seconds_now();
  const auto budget = ledger->check_key(provider, static_cast<int>(key), now_unix);
  if (budget.verdict != usage::BudgetVerdict::refuse) return event;
  event.kind = providers::CallEventKind::key_refused;
  event.gateway_detail = usage::refusal_sentence(budget);
  event.resets_in = std::chrono::seconds(budget.resets_at - now_unix);
  return event;
}

asio::awaitable<bool> TurnRunner::Impl::call_once(const ProviderRequest& request,
                                                  const providers::CallStep& step,
                                                  const ProviderConfig& provider,
                                                  TurnResult& result,
                                                  providers::ChatCallResult& outcome) {
  const Slot& slot = request.usable[step.slot];
  ++result.calls;
  request.turn.step = "calling " + slot.provider;
  providers::ChatCall call;
  call.base_url = provider.base_url;
  call.api_key = pools.at(slot.provider).key(step.key);
  call.model = slot.model;
  call.messages = request.messages;
  call.tools = request.tools;
  call.extra_fields = request.options.extra_fields;
  // Silence is bounded by the request timeout (and what the turn may still go without
  // progress); a stream that keeps coming only by the turn's hard cap.
  call.idle_timeout =
      std::min(provider.request_timeout.value_or(config.agent.request_timeout), step.time_left);
  call.timeout = std::max(
      std::chrono::duration_cast<std::chrono::milliseconds>(request.hard_deadline - Clock::now()),
      *call.idle_timeout);
  call.sink = request.options.sink;
  call.abort = request.options.abort;
  if (provider.api == ProviderApi::anthropic) {
    call.anthropic = providers::AnthropicOptions{provider.max_tokens, provider.prompt_caching};
  }
  if (provider_call) {
    outcome = co_await provider_call(std::move(call));
  } else {
    outcome = co_await providers::call_chat(client, std::move(call));
  }
  // A stream write that failed is the client gone too, seen from the other side.
  if (outcome.reader_gone) request.turn.client_gone = true;
  if (request.turn.record_early_end(result, metrics, std::move(outcome.content))) co_return false;
  if (outcome.ok || outcome.partial_stream) request.turn.last_progress = Clock::now();
  if (outcome.first_token) metrics.observe_first_token(slot.provider, *outcome.first_token);
  record_usage(request, slot, step.key, outcome, result);
  co_return true;
}

void TurnRunner::Impl::record_usage(const ProviderRequest& request, const Slot& slot,
                                    std::size_t key, const providers::ChatCallResult& outcome,
                                    TurnResult& result) {
  const auto& options = request.options;
  if (ledger && (outcome.ok || outcome.usage.total_tokens > 0)) {
    usage::UsageRecord record;
    record.at = static_cast<double>(usage::unix_seconds_now());
    record.provider = slot.provider;
    record.model = slot.model;
    record.key_index = static_cast<int>(key);
    record.prompt_tokens = outcome.usage.prompt_tokens;
    record.completion_tokens = outcome.usage.completion_tokens;
    record.total_tokens = outcome.usage.total_tokens;
    record.cache_write_tokens = outcome.usage.cache_write_tokens;
    record.cache_read_tokens = outcome.usage.cache_read_tokens;
    record.session_id = options.session_id;
    record.platform = options.platform;
    record.chat = options.chat;
    record.kind = options.summary ? "summary" : options.usage_kind;
    if (options.usage_rows_in_turn) {
      result.usage_rows.push_back(ledger->count(std::move(record)));
      request.turn.budget.add_cost(result.usage_rows.back().cost_usd.value_or(0));
    } else {
      request.turn.budget.add_cost(ledger->record(std::move(record)));
    }
  }
  if (outcome.ok && outcome.usage.prompt_tokens > 0) {
    correction.observe(
        context::estimate_tokens(request.messages) + context::estimate_text_tokens(request.tools),
        outcome.usage.prompt_tokens);
  }
}

providers::CallEvent TurnRunner::Impl::outcome_event(const ProviderRequest& request,
                                                     const providers::CallStep& step, int attempt,
                                                     providers::ChatCallResult& outcome) {
  providers::CallEvent event;
  if (outcome.ok) {
    event.kind = providers::CallEventKind::answered;
    return event;
  }
  const auto& provider = request.usable[step.slot].provider;
  outcome.error.provider = provider;
  outcome.error.session.messages = static_cast<long>(request.messages.size());
  event.kind = providers::CallEventKind::failed;
  event.failure = providers::classify(outcome.error);
  event.partial_stream = outcome.partial_stream;
  // Drawn only when the failover decides (never after a partial stream).
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  if (!outcome.partial_stream) event.jitter = jitter(rng);
  const Classification& c = event.failure;
  metrics.count_provider_error(std::string(providers::to_string(c.reason)));
  spdlog::warn("provider {} key {} call {} failed: {} (status {}): {}", provider, step.key + 1,
               attempt, providers::to_string(c.reason), c.status, providers::redact(c.message));
  return event;
}

asio::awaitable<void> TurnRunner::Impl::accept_answer(const ProviderRequest& request,
                                                      const providers::CallStep& step,
                                                      const providers::ChatCallResult& outcome) {
  const auto& provider = request.usable[step.slot].provider;
  const auto& sink = request.options.sink;
  pools.at(provider).succeeded(step.key);
  benches.erase(provider);
  if (sink && !outcome.partial_stream && !outcome.content.empty()) {
    co_await sink(outcome.content);  // the provider ignored "stream": send it whole
  }
}

TurnRunner::TurnRunner(asio::io_context& io, const Config& config, Metrics& metrics,
                       tools::ToolRegistry* tools, usage::UsageLedger* ledger)
    : impl_(std::make_shared<Impl>(io, config, metrics, tools, ledger)) {}

TurnRunner::TurnRunner(asio::io_context& io, const Config& config, Metrics& metrics,
                       ProviderCall provider_call)
    : impl_(std::make_shared<Impl>(io, config, metrics, nullptr, nullptr)) {
  impl_->provider_call = std::move(provider_call);
}
TurnRunner::~TurnRunner() = default;

asio::awaitable<TurnResult> TurnRunner::run(std::vector<providers::ChatMessage> messages,
                                            TurnOptions options) {
  auto impl = impl_;
  const std::string platform = options.platform;
  const std::string session_id = options.session_id;
  TurnResult result = co_await impl->run(std::move(messages), std::move(options));
  impl->recent.used(session_id);
  if (!result.ok && result.failure && !result.interrupted && !result.client_gone) {
    const auto& c = *result.failure;
    impl->failures.push_front({static_cast<double>(usage::unix_seconds_now()), platform, session_id,
                               result.provider, result.model,
                               std::string(providers::to_string(c.reason)), providers::hint(c)});
    if (impl->failures.size() > kRecentFailures) impl->failures.pop_back();
  }
  co_return result;
}

long TurnRunner::context_length() const {
  const auto& config = impl_->config;
  const auto provider = config.providers.find(config.model.provider);
  if (provider != config.providers.end() && provider->second.context_length) {
    return *provider->second.context_length;
  }
  return config.model.context_length;
}

double TurnRunner::token_correction() const {
  return impl_->correction.factor();
}

long TurnRunner::tool_schema_tokens() const {
  long tokens = 0;
  if (const auto* registry = impl_->tool_registry; registry && !registry->empty()) {
    tokens += context::estimate_text_tokens(registry->offered_json(), token_correction());
  }
  if (const auto* builtin = impl_->builtin_tools) {
    tokens += context::estimate_text_tokens(builtin->offered_entries(), token_correction());
  }
  return tokens;
}

void TurnRunner::set_builtin_tools(builtin::BuiltinTools* tools) {
  impl_->builtin_tools = tools;
}

void TurnRunner::usage_rows_into(state::Transaction& tx, std::vector<usage::UsageRecord> rows) {
  if (impl_->ledger) impl_->ledger->rows_into(tx, std::move(rows));
}

void TurnRunner::reconfigure(const Config& config) {
  const auto old = impl_->fingerprints;
  impl_->config = config;
  impl_->rebuild_pools(old);
}

void TurnRunner::interrupt_all() {
  for (auto& turn : impl_->active) {
    turn->interrupted = true;
    if (turn->backoff) turn->backoff->cancel();
    turn->tools_abort->abort();
  }
  impl_->client.abort_all();
}

long TurnRunner::active_turns() const {
  return static_cast<long>(impl_->active.size());
}

std::vector<ActiveRun> TurnRunner::active_runs() const {
  std::vector<ActiveRun> runs;
  for (const auto& turn : impl_->active) {
    runs.push_back(
        {std::to_string(turn->id), turn->platform, turn->session_id, turn->started_at, turn->step});
  }
  return runs;
}

bool TurnRunner::stop_run(std::string_view id) {
  for (const auto& turn : impl_->active) {
    if (std::to_string(turn->id) != id) continue;
    spdlog::info("run {} stopped by the operator", id);
    turn->stop->abort(providers::AbortSignal::Reason::stop);
    return true;
  }
  return false;
}

std::vector<std::string> TurnRunner::recent_sessions(std::size_t count) const {
  return impl_->recent.newest(count);
}

void TurnRunner::add_older_sessions(const std::vector<std::string>& ids) {
  impl_->recent.add_older(ids);
  impl_->older_sessions_added = true;
}

bool TurnRunner::knows_older_sessions() const {
  return impl_->older_sessions_added;
}

std::vector<TurnFailure> TurnRunner::recent_failures() const {
  return {impl_->failures.begin(), impl_->failures.end()};
}

std::size_t TurnRunner::clear_cooldowns() {
  std::size_t cleared = impl_->benches.size();
  const auto now = Clock::now();
  for (auto& [name, pool] : impl_->pools) {
    cleared += pool.cooldowns(now).size();
    pool.clear();
  }
  impl_->benches.clear();
  spdlog::info("cooldowns cleared by the operator ({} key or provider cooldowns)", cleared);
  return cleared;
}

std::vector<ProviderCooldown> TurnRunner::cooldowns() const {
  std::vector<ProviderCooldown> out;
  const auto now = Clock::now();
  for (const auto& [name, pool] : impl_->pools) {
    for (const auto& c : pool.cooldowns(now)) {
      out.push_back({name, static_cast<int>(c.index), std::string(providers::to_string(c.reason)),
                     static_cast<double>(c.left.count()) / 1000.0});
    }
  }
  return out;
}

}  // namespace hermes::daemon
