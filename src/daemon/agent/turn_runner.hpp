#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/runtime_status.hpp"
#include "daemon/agent/context_window.hpp"
#include "daemon/providers/abort_signal.hpp"
#include "daemon/providers/chat_call.hpp"
#include "daemon/providers/classification.hpp"
#include "daemon/providers/credential_pool.hpp"
#include "daemon/providers/failover_policy.hpp"
#include "daemon/usage/usage_tables.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

class Metrics;

namespace tools {
class ToolRegistry;
}
namespace builtin {
class BuiltinTools;
}
namespace usage {
class UsageLedger;
}
namespace state {
struct Transaction;
}

// How a turn is run, besides its messages.
// A tool of the gateway's own offered in one turn beside the MCP servers' (the cronjob tool in a
// chat): its schema (an OpenAI function tool, JSON) and what runs it.
struct OwnTool {
  std::string name;
  std::string schema;
  std::function<boost::asio::awaitable<std::string>(std::string arguments)> run;
};

struct TurnOptions {
  providers::DeltaSink sink;  // set: stream deltas to it
  // Set: firing it ends the turn at once (the upstream call is closed, a backoff cut short,
  // running tools cancelled), as client_gone.
  std::shared_ptr<providers::AbortSignal> abort;
  // The caller's own tools (an API client that runs them): offered instead of the gateway's,
  // and the model's tool_calls are returned, not run.
  std::string client_tools;
  std::string extra_fields;  // the client's sampling parameters, passed to the provider
  // Whose turn it is, for usage records and budgets: the platform, the stored session ("" for
  // none) and the chat a chat budget counts ("<platform>:<chat key or session>").
  std::string platform = "api_server";
  std::string session_id;
  std::string chat;
  // The platform user whose turn it is ("telegram-42"; "" for none): memory and session_search.
  std::string user;
  // A summary call (context compaction): no tools offered, `model` instead of the default
  // when set, and its usage recorded as kind "summary".
  bool summary = false;
  std::string model;
  std::string usage_kind = "turn";  // "cron": a scheduled job's or a webhook's run
  std::vector<OwnTool> own_tools;   // offered besides the MCP tools (not with client_tools)
  // Set: the turn's usage rows come back in TurnResult::usage_rows for the caller to store in
  // the turn's own transaction (TurnRunner::usage_rows_into); unset: each is committed alone.
  bool usage_rows_in_turn = false;
  // Told of each tool call the gateway is about to run (a chat shows it as progress).
  std::function<void(const providers::ToolCall&)> on_tool_call;
  // Asks the chat's user before a tool in require_approval runs (unset: approvals.unattended).
  std::function<boost::asio::awaitable<bool>(std::string tool, std::string arguments)> approver;
};

struct TurnResult {
  bool ok = false;
  bool interrupted = false;  // cut by a drain: the user is told, the session is kept
  bool client_gone = false;  // the client hung up (or the abort signal fired) mid-turn
  std::string content;       // the answer; when client_gone, what had been said so far
  // The messages this turn adds after the user's, in order: each tool round (the assistant's
  // tool_calls, then one tool result per call), then the answer when ok. A turn cut short
  // holds its complete rounds only, so a stored history is always valid.
  std::vector<providers::ChatMessage> transcript;
  int tool_calls = 0;  // tools run in this turn
  // With client_tools: the calls the model asks the client to run (the answer then has them
  // instead of, or besides, text).
  std::vector<providers::ToolCall> client_tool_calls;
  providers::ChatUsage usage;
  std::string finish_reason;  // the answering call's, in OpenAI's words ("" when not said)
  std::string provider;       // who answered (or failed last)
  std::string model;
  std::optional<providers::Classification> failure;
  int calls = 0;  // upstream calls made
  // A budget passed 80 % for the first time this period: one sentence for the chat.
  std::string budget_warning;
  // With TurnOptions::usage_rows_in_turn: the provider calls' usage, counted, not yet stored.
  std::vector<usage::UsageRecord> usage_rows;
  bool stopped = false;  // client_gone because someone asked it to stop (/stop, the dashboard)
};

// A turn going on now, as the dashboard lists it.
struct ActiveRun {
  std::string id;  // the runner's own counter, for stop_run
  std::string platform;
  std::string session_id;
  double started_at = 0;  // unix seconds
  std::string step;       // "calling openai", "tool: read_file", "waiting to retry"
};

// A turn that ended in a provider failure (not a stop, hang-up or drain), as the dashboard
// lists it: the failover reason and the sentence the user was given.
struct TurnFailure {
  double at = 0;  // unix seconds
  std::string platform;
  std::string session_id;
  std::string provider;
  std::string model;
  std::string reason;
  std::string hint;
};

// Runs one agent turn: provider calls with the gateway's tools offered, the tools the model
// asks for run (those of one answer in parallel) and their results sent back, until a text
// answer or agent.max_tool_iterations (tools::next_step decides). Every provider call retries
// with jittered backoff, honours Retry-After, rotates keys, falls back along
// fallback_providers and benches a provider that failed on billing, rate limits or auth so
// the next turn skips it.
class TurnRunner {
 public:
  // `tools` null or empty: turns are one provider call, as before agent tools.
  // `ledger` null: no usage records and no budgets.
  TurnRunner(boost::asio::io_context& io, const Config& config, Metrics& metrics,
             tools::ToolRegistry* tools = nullptr, usage::UsageLedger* ledger = nullptr);
  // A provider answered in process (tests of the conversation core): every upstream call goes
  // to `provider_call` instead of HTTP, through the same failover, with no tools or ledger.
  using ProviderCall =
      std::function<boost::asio::awaitable<providers::ChatCallResult>(providers::ChatCall)>;
  TurnRunner(boost::asio::io_context& io, const Config& config, Metrics& metrics,
             ProviderCall provider_call);
  ~TurnRunner();

  // Messages include the system prompt.
  // Pass `options` as a named variable (std::move(options)), never a temporary: GCC 12
  // mishandles temporaries holding a std::function inside a co_await.
  boost::asio::awaitable<TurnResult> run(std::vector<providers::ChatMessage> messages,
                                         TurnOptions options);

  // The context window of the primary provider's model (tokens), and the correction of the
  // characters/4 estimate learnt from providers' reported prompt tokens.
  long context_length() const;
  double token_correction() const;
  // Tokens the gateway's own tool schemas add to every request that offers them.
  long tool_schema_tokens() const;

  // The gateway's built-in tools (terminal, files, web_fetch, memory, session_search), offered
  // after the MCP servers' tools; null: none.
  void set_builtin_tools(builtin::BuiltinTools* tools);
  // Stores `rows` (TurnResult::usage_rows) with the rest of `tx`.
  void usage_rows_into(state::Transaction& tx, std::vector<usage::UsageRecord> rows);
  // New config (SIGHUP): providers whose settings changed get fresh key pools.
  void reconfigure(const Config& config);
  // Drain deadline: every active turn ends now, as interrupted.
  void interrupt_all();
  long active_turns() const;
  std::vector<ActiveRun> active_runs() const;
  // Ends the run `id` like /stop (its abort signal fires with Reason::stop); false when no
  // such run is going on.
  bool stop_run(std::string_view id);
  // The last kRecentFailures failed turns, newest first.
  static constexpr std::size_t kRecentFailures = 50;
  std::vector<TurnFailure> recent_failures() const;
  // The sessions turns were last taken on, newest first (the dashboard's recent sessions), and
  // older ones from the store, behind them, once.
  static constexpr std::size_t kRecentSessions = 200;
  std::vector<std::string> recent_sessions(std::size_t count) const;
  void add_older_sessions(const std::vector<std::string>& ids);
  bool knows_older_sessions() const;
  std::vector<ProviderCooldown> cooldowns() const;
  // Forgets every key cooldown and provider bench (`hermes gateway cooldowns --clear`);
  // returns how many there were.
  std::size_t clear_cooldowns();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
