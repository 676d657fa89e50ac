#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "daemon/agent/compactor.hpp"
#include "daemon/agent/turn_end.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/providers/openai_chat.hpp"
#include "daemon/state/transaction.hpp"

namespace hermes::daemon {

class SessionStore;
class SessionQueue;

// One turn on a stored session, as a surface hands it to the conversation core.
struct ConversationTurn {
  std::string session_id;
  std::string platform;  // who takes it: usage records, logs, the resumable mark
  // The chat a new session belongs to ("" for none); with own_history, what logs name.
  std::string chat_key;
  // The platform user who sent it ("telegram-42"; "" for none): the session's owner, whose
  // memory a new session's prompt holds and whose sessions session_search reads.
  std::string user;
  // Created by this turn: `fresh` is the whole conversation, sent as given (never compacted;
  // too big for the model is refused before any call), stored with the turn.
  bool new_session = false;
  std::vector<providers::ChatMessage> fresh;  // the new messages, stored with the turn's rows
  // The message may have been taken before (a durable inbox hands it over again after a crash
  // or a drain): it is stored once, and a turn cut after complete tool rounds goes on from
  // them. Such a platform resumes through its inbox, not through the resumable marks.
  bool redelivered = false;
  // A history the platform keeps itself (a Responses chain) instead of a stored session:
  // nothing is read from or written to the session store (no session rows, no queue), and
  // when it has to be compacted the summary is in the result's fitted messages, for the
  // platform to keep with its own rows.
  std::optional<std::vector<providers::ChatMessage>> own_history;
  // Instead of agent.system_prompt (a Responses request's instructions).
  std::optional<std::string> system_prompt;
  // Told what is sent once the history is fitted, before the first provider call (a streamed
  // reply's head carries the compaction note).
  std::function<void(const FittedTurn&)> on_fitted;
};

enum class StoreOutcome { stored, unavailable, failed };

struct ConversationResult {
  TurnResult result;
  TurnEnd end;
  FittedTurn fitted;
  // A new session's messages exceed the context window: nothing was run or stored.
  bool too_big = false;
  // The stored session had no messages yet: its owner (the turn's user) is recorded.
  bool first_turn = false;
  // A new message on a stored session can never fit the context window: it is stored marked
  // left out (never sent again), and the failure tells the user once.
  bool left_out = false;
  long tokens = 0;  // with too_big: the estimate, against context_window
  long context_window = 0;
  long tool_tokens = 0;  // with too_big: how much of `tokens` the MCP tools' schemas are
  StoreOutcome stored = StoreOutcome::stored;
  std::string store_error;  // with a failed store: why (for the log)
};

// The platform's own rows for the turn's transaction (its outbox, inbox marks, response
// objects), added after the core's and stored with them, all or nothing.
using PlatformRows =
    std::function<boost::asio::awaitable<void>(state::Transaction&, const ConversationResult&)>;

// The conversation core: every surface takes a turn through it the same way. It owns the
// turn: one at a time per session, the history, fitting it to the context window, the run,
// the single compaction and retry on context_overflow, and the transcript with its marks
// (done, stopped, interrupted, resumable) in one transaction with the platform's rows.
// Budgets and usage are the turn runner's: no platform touches them.
class Conversation {
 public:
  Conversation(const Config& config, SessionStore& store, SessionQueue& queue, TurnRunner& turns,
               Compactor& compactor);

  // `rows` may be empty. Pass `turn`, `options` and `rows` as named variables (GCC 12).
  boost::asio::awaitable<ConversationResult> take_turn(ConversationTurn turn, TurnOptions options,
                                                       PlatformRows rows);
  // Finishes the turns of `platform` a previous process's drain cut after complete tool
  // rounds (no tool runs again): each session gets its answer. Run once after READY.
  boost::asio::awaitable<void> resume_cut_turns(std::string platform);
  // /compress: the session's history summarised now, whatever its size.
  boost::asio::awaitable<FittedTurn> compress(std::string session_id, TurnOptions whose);
  // What the session's history costs of the context window now (/status).
  boost::asio::awaitable<long> history_tokens(std::string session_id,
                                              std::size_t* messages = nullptr);
  long context_window() const;

  // The messages sent before a history: the system prompt, unless it has one of its own.
  std::vector<providers::ChatMessage> prompt_for(
      const std::vector<providers::ChatMessage>& history) const;
  void reconfigure(const Config& config) { config_ = config; }
  // The memory block for a user's new session ("" for none); unset: no memory.
  void set_memory(std::function<std::string(const std::string& user)> memory) {
    memory_ = std::move(memory);
  }

 private:
  std::vector<providers::ChatMessage> prompt_for(
      const ConversationTurn& turn, const std::vector<providers::ChatMessage>& history) const;
  boost::asio::awaitable<std::vector<providers::ChatMessage>> history_of(
      const ConversationTurn& turn);
  boost::asio::awaitable<FittedTurn> fit(const ConversationTurn& turn,
                                         std::vector<providers::ChatMessage> history,
                                         std::vector<providers::ChatMessage> fresh, bool force,
                                         const TurnOptions& options);
  boost::asio::awaitable<bool> prepare(ConversationTurn& turn, const TurnOptions& options,
                                       ConversationResult& out);
  // The system prompt with the memory's frozen copy, for a session's first turn ("" when
  // there is no memory to add).
  std::string opening_prompt(const ConversationTurn& turn) const;
  boost::asio::awaitable<void> run(const ConversationTurn& turn, TurnOptions options,
                                   bool store_fresh, ConversationResult& out);
  // `fence`: the session lock's, with several gateways: the rows commit only while it holds.
  boost::asio::awaitable<void> store(const ConversationTurn& turn, bool store_fresh,
                                     PlatformRows rows, std::optional<long long> fence,
                                     ConversationResult& out);
  bool leave_out_oversized(const std::vector<providers::ChatMessage>& prefix,
                           std::span<const providers::ChatMessage> fresh, bool overflowed,
                           ConversationResult& out) const;
  void add_turn_rows(state::Transaction& tx, const ConversationTurn& turn, bool store_fresh,
                     const ConversationResult& outcome);

  Config config_;
  SessionStore& store_;
  SessionQueue& queue_;
  TurnRunner& turns_;
  Compactor& compactor_;
  std::function<std::string(const std::string& user)> memory_;
};

// The facts of a finished run, as decide_turn_end reads them.
TurnFacts facts_of(const TurnResult& result, bool stopped_by_user, bool compactable, bool retried);

}  // namespace hermes::daemon
