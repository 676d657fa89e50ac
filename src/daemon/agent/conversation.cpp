#include "daemon/agent/conversation.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "daemon/agent/context_window.hpp"
#include "daemon/agent/session_queue.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/agent/stored_turn.hpp"
#include "daemon/state/sql_connection.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using providers::ChatMessage;

namespace {

// Who a log line is about: the session, or (a history the platform keeps) its chat key.
std::string whom(const ConversationTurn& turn) {
  if (!turn.own_history) return "session " + turn.session_id;
  return turn.chat_key.empty() ? std::string("a kept conversation") : turn.chat_key;
}

}  // namespace

TurnFacts facts_of(const TurnResult& result, bool stopped_by_user, bool compactable, bool retried) {
  TurnFacts facts;
  facts.ok = result.ok;
  facts.interrupted = result.interrupted;
  facts.client_gone = result.client_gone;
  facts.stopped_by_user = stopped_by_user;
  facts.has_rounds = !result.transcript.empty();
  facts.context_overflow =
      result.failure && result.failure->reason == providers::FailoverReason::context_overflow;
  facts.compactable = compactable;
  facts.retried = retried;
  facts.said_something = !result.content.empty();
  return facts;
}

Conversation::Conversation(const Config& config, SessionStore& store, SessionQueue& queue,
                           TurnRunner& turns, Compactor& compactor)
    : config_(config), store_(store), queue_(queue), turns_(turns), compactor_(compactor) {}

long Conversation::context_window() const {
  return turns_.context_length();
}

std::vector<ChatMessage> Conversation::prompt_for(const std::vector<ChatMessage>& history) const {
  const bool has_system = !history.empty() && history.front().role == "system";
  if (has_system || config_.agent.system_prompt.empty()) return {};
  return {{"system", config_.agent.system_prompt}};
}

std::vector<ChatMessage> Conversation::prompt_for(const ConversationTurn& turn,
                                                  const std::vector<ChatMessage>& history) const {
  // A session's first turn brings its own (the memory's frozen copy), stored with it.
  if (!turn.fresh.empty() && turn.fresh.front().role == "system") return {};
  if (!turn.system_prompt) return prompt_for(history);
  if (turn.system_prompt->empty()) return {};
  return {{"system", *turn.system_prompt}};
}

// The history a turn continues: the session's as stored, or the one its platform keeps.
asio::awaitable<std::vector<ChatMessage>> Conversation::history_of(const ConversationTurn& turn) {
  if (turn.own_history) co_return *turn.own_history;
  co_return co_await store_.history(turn.session_id);
}

// What goes upstream: `history` (compacted to fit the context window when it must be;
// `force`: now, after a context_overflow) plus the messages not stored yet.
asio::awaitable<FittedTurn> Conversation::fit(const ConversationTurn& turn,
                                              std::vector<ChatMessage> history,
                                              std::vector<ChatMessage> fresh, bool force,
                                              const TurnOptions& options) {
  auto prefix = prompt_for(turn, history);
  // Named, never a conditional or a temporary inside the co_await (GCC 12 frees it twice).
  TurnOptions whose = options;
  std::string summary_session;  // none for a history the platform keeps
  if (!turn.own_history) summary_session = turn.session_id;
  co_return co_await compactor_.fit(std::move(summary_session), std::move(prefix),
                                    std::move(history), std::move(fresh), force, std::move(whose));
}

void Conversation::add_turn_rows(state::Transaction& tx, const ConversationTurn& turn,
                                 bool store_fresh, const ConversationResult& outcome) {
  if (turn.own_history) return;  // the platform keeps it
  const auto& id = turn.session_id;
  const auto& result = outcome.result;
  if (turn.new_session) store_.add_session(tx, id, turn.platform, turn.chat_key);
  if (store_fresh) {
    std::string status;  // "" = complete
    if (outcome.left_out) status = kLeftOutStatus;
    for (const auto& m : turn.fresh) store_.add_message(tx, id, m, status);
  }
  if (!turn.new_session) store_.touch(tx, id);
  if (outcome.first_turn && !turn.user.empty()) store_.set_owner(tx, id, turn.user);
  // Tool rounds and the answer, in order; a turn cut short keeps its complete rounds.
  for (const auto& message : result.transcript) store_.add_message(tx, id, message);
  // The drain cut it after complete tool rounds: the next process finishes the turn (a
  // platform with a durable inbox does that by handing the message over again).
  if (outcome.end.mark == TurnMark::resumable && !turn.redelivered) {
    store_.mark_resumable(tx, id, turn.platform);
  }
  if (!outcome.end.partial_status.empty()) {
    store_.add_message(tx, id, "assistant", result.content,
                       std::string(outcome.end.partial_status));
  }
}

asio::awaitable<ConversationResult> Conversation::take_turn(ConversationTurn turn,
                                                            TurnOptions options,
                                                            PlatformRows rows) {
  ConversationResult out;
  std::optional<SessionQueue::Turn> line;
  if (!turn.own_history) {
    auto waited = co_await queue_.wait_turn(turn.session_id);
    line.emplace(std::move(waited));
  }
  options.platform = turn.platform;
  options.session_id = turn.session_id;
  options.user = turn.user;
  options.usage_rows_in_turn = true;  // stored with the turn, not in a second transaction
  const bool store_fresh = co_await prepare(turn, options, out);
  if (out.too_big) co_return out;
  if (!out.left_out) {
    if (turn.on_fitted) turn.on_fitted(out.fitted);
    co_await run(turn, std::move(options), store_fresh, out);
  }
  std::optional<long long> fence;
  if (line) fence = line->fence();
  co_await store(turn, store_fresh, std::move(rows), fence, out);
  co_return out;
}

// What goes upstream, in out.fitted (out.too_big for a new session over the window). Returns
// whether this turn's messages are to be stored (not when they are stored already).
std::string Conversation::opening_prompt(const ConversationTurn& turn) const {
  if (!memory_ || turn.system_prompt || turn.own_history) return {};
  auto block = memory_(turn.user);
  if (block.empty()) return {};
  const auto& prompt = config_.agent.system_prompt;
  return prompt.empty() ? block : prompt + "\n\n" + block;
}

asio::awaitable<bool> Conversation::prepare(ConversationTurn& turn, const TurnOptions& options,
                                            ConversationResult& out) {
  if (turn.new_session) {
    out.fitted.messages = prompt_for(turn, turn.fresh);
    const bool gateway_prompt =
        !turn.system_prompt && (turn.fresh.empty() || turn.fresh.front().role != "system");
    if (auto opening = gateway_prompt ? opening_prompt(turn) : std::string(); !opening.empty()) {
      out.fitted.messages = {{"system", std::move(opening)}};
    }
    out.fitted.messages.insert(out.fitted.messages.end(), turn.fresh.begin(), turn.fresh.end());
    // A stateless request too big for the model is the client's to shorten.
    out.tokens = compactor_.tokens(out.fitted.messages);
    out.context_window = turns_.context_length();
    out.tool_tokens = turns_.tool_schema_tokens();
    out.too_big = out.tokens > out.context_window;
    co_return true;
  }
  bool store_fresh = true;
  std::vector<ChatMessage> fresh = turn.fresh;
  auto history = co_await history_of(turn);  // read once: the check below and the fit
  if (turn.redelivered && fresh.size() == 1) {
    // Handed over again: the message is stored once; a cut turn goes on from its rounds.
    const auto stored = stored_turn_state(history, fresh.front().content);
    if (stored == StoredTurn::mid_loop) {
      spdlog::info("{}: session {}: resuming a turn a restart cut after its tool rounds",
                   turn.platform, turn.session_id);
    }
    if (stored != StoredTurn::absent) {
      store_fresh = false;
      fresh.clear();
    }
  }
  // A session's first turn: the memory as it is now goes in, stored, fixed for the session
  // (the provider's prompt cache stays warm; changes show in the next session).
  out.first_turn = history.empty() && !turn.own_history;
  if (history.empty() && store_fresh && !turn.own_history && !turn.fresh.empty() &&
      turn.fresh.front().role != "system") {
    if (auto opening = opening_prompt(turn); !opening.empty()) {
      turn.fresh.insert(turn.fresh.begin(), {"system", opening});
      fresh.insert(fresh.begin(), {"system", std::move(opening)});
    }
  }
  if (!turn.own_history && leave_out_oversized(prompt_for(turn, history), fresh, false, out)) {
    co_return store_fresh;  // never run: it would fail now and in every later turn
  }
  out.fitted = co_await fit(turn, std::move(history), std::move(fresh), false, options);
  if (turn.own_history) {
    // A history its platform keeps (a Responses chain) was compacted as far as it goes; what
    // is still over the window is the new input's size: the client's to shorten.
    out.tokens = compactor_.tokens(out.fitted.messages);
    out.context_window = turns_.context_length();
    out.tool_tokens = turns_.tool_schema_tokens();
    out.too_big = out.tokens > out.context_window;
  }
  co_return store_fresh;
}

// The run, and what decide_turn_end says after it: at most one compaction and one retry.
asio::awaitable<void> Conversation::run(const ConversationTurn& turn, TurnOptions options,
                                        bool store_fresh, ConversationResult& out) {
  const bool compactable = !turn.new_session;
  TurnOptions retry_options = options;
  // The fitted messages go to the run: only a platform keeping the history reads them after.
  std::vector<ChatMessage> messages;
  if (turn.own_history) {
    messages = out.fitted.messages;
  } else {
    messages = std::move(out.fitted.messages);
  }
  out.result = co_await turns_.run(std::move(messages), std::move(options));
  // The runner says so too when the caller gave it no signal (the dashboard's Stop of a job).
  const auto stopped = [&retry_options, &out] {
    return out.result.stopped || (retry_options.abort && retry_options.abort->stopped_by_user());
  };
  out.end = decide_turn_end(facts_of(out.result, stopped(), compactable, false));
  if (!out.end.retry_after_compaction) co_return;
  spdlog::info("{}: {}: context overflow; compacting and retrying once", turn.platform, whom(turn));
  std::vector<ChatMessage> fresh;
  if (store_fresh) fresh = turn.fresh;
  auto history = co_await history_of(turn);  // again: the first fit may have stored a summary
  const auto prefix = prompt_for(turn, history);
  auto refitted = co_await fit(turn, std::move(history), std::move(fresh), true, retry_options);
  if (refitted.compacted) {
    out.fitted = std::move(refitted);
    auto again = out.fitted.messages;
    TurnOptions second = retry_options;                  // named: GCC 12
    auto first_rows = std::move(out.result.usage_rows);  // the failed call's, if it counted
    out.result = co_await turns_.run(std::move(again), std::move(second));
    out.result.usage_rows.insert(out.result.usage_rows.begin(), first_rows.begin(),
                                 first_rows.end());
  }
  out.end = decide_turn_end(facts_of(out.result, stopped(), compactable, true));
  const bool still_over = !out.result.ok && out.result.failure &&
                          out.result.failure->reason == providers::FailoverReason::context_overflow;
  if (!turn.own_history && store_fresh && still_over) {
    // Compacted as far as it goes and still over: a new message that large is left out, or it
    // would stay among the protected newest and fail the next turns too.
    leave_out_oversized(prefix, turn.fresh, true, out);
  }
}

// Sets out.left_out, with the failure the user is told, when one of the turn's new messages
// can never fit the context window (context::leave_out).
bool Conversation::leave_out_oversized(const std::vector<ChatMessage>& prefix,
                                       std::span<const ChatMessage> fresh, bool overflowed,
                                       ConversationResult& out) const {
  const long window = turns_.context_length();
  for (const auto& message : fresh) {
    const long tokens = compactor_.tokens({prefix, std::span<const ChatMessage>(&message, 1)});
    if (!context::leave_out(tokens, window, overflowed)) continue;
    providers::Classification failure = out.result.failure.value_or(providers::Classification{});
    failure.reason = providers::FailoverReason::context_overflow;
    failure.retryable = false;
    failure.gateway_detail = context::left_out_sentence(tokens, window);
    out.result.ok = false;
    out.result.failure = std::move(failure);
    out.end = TurnEnd{};
    out.end.tell = TurnTell::failure;
    out.left_out = true;
    spdlog::warn(
        "a message of about {} tokens can never fit the context window of {}: stored "
        "and left out of the conversation",
        tokens, window);
    return true;
  }
  return false;
}

// The turn's rows and the platform's in one transaction, durable before anything is replied.
asio::awaitable<void> Conversation::store(const ConversationTurn& turn, bool store_fresh,
                                          PlatformRows rows, std::optional<long long> fence,
                                          ConversationResult& out) {
  state::Transaction tx;
  add_turn_rows(tx, turn, store_fresh, out);
  turns_.usage_rows_into(tx, std::move(out.result.usage_rows));
  if (rows) co_await rows(tx, out);
  if (tx.empty()) co_return;
  // In the same transaction: a gateway that lost the session's lock meanwhile stores nothing.
  if (fence) store_.check_fence(tx, turn.session_id, *fence);
  try {
    co_await store_.commit(std::move(tx));
  } catch (const state::StoreUnavailable& e) {
    out.stored = StoreOutcome::unavailable;
    out.store_error = e.what();
  } catch (const std::exception& e) {
    out.stored = StoreOutcome::failed;
    out.store_error = e.what();
  }
  if (out.stored != StoreOutcome::stored) {
    spdlog::error("{}: {}: the turn could not be stored: {}", turn.platform, whom(turn),
                  out.store_error);
  }
}

asio::awaitable<void> Conversation::resume_cut_turns(std::string platform) {
  const auto sessions = co_await store_.resumable_sessions(platform);
  for (const auto& id : sessions) {
    auto line = co_await queue_.wait_turn(id);
    // Claimed under the session's lock: another gateway starting with this one may have
    // resumed it meanwhile (and cleared the mark before letting go of the lock).
    const auto still = co_await store_.resumable_sessions(platform);
    if (std::find(still.begin(), still.end(), id) == still.end()) {
      spdlog::info("{}: session {}: its cut turn was resumed by another gateway", platform, id);
      continue;
    }
    auto history = co_await store_.history(id);
    spdlog::info("{}: session {}: resuming a turn a restart cut after its tool rounds", platform,
                 id);
    auto messages = prompt_for(history);
    messages.insert(messages.end(), history.begin(), history.end());
    TurnOptions options;  // named: GCC 12
    options.platform = platform;
    options.session_id = id;
    options.chat = platform + ":" + id;
    TurnResult result = co_await turns_.run(std::move(messages), std::move(options));
    state::Transaction tx;
    if (const auto fence = line.fence()) store_.check_fence(tx, id, *fence);
    for (const auto& message : result.transcript) store_.add_message(tx, id, message);
    // Cut again by this process's drain: it stays to resume; otherwise it is done (answered,
    // or failed: the session then ends with its rounds and the next message goes on).
    if (!result.interrupted) store_.clear_resumable(tx, id);
    try {
      co_await store_.commit(std::move(tx));
    } catch (const std::exception& e) {
      spdlog::error("{}: session {}: the resumed turn could not be stored: {}", platform, id,
                    e.what());
    }
    spdlog::info("{}: session {}: resumed turn {}", platform, id,
                 result.ok            ? "answered"
                 : result.interrupted ? "cut again"
                                      : "failed");
  }
}

asio::awaitable<FittedTurn> Conversation::compress(std::string session_id, TurnOptions whose) {
  auto history = co_await store_.history(session_id);
  auto prefix = prompt_for(history);
  co_return co_await compactor_.fit(session_id, std::move(prefix), std::move(history), {}, true,
                                    std::move(whose));
}

asio::awaitable<long> Conversation::history_tokens(std::string session_id, std::size_t* messages) {
  auto history = co_await store_.history(session_id);
  if (messages) *messages = history.size();
  auto all = prompt_for(history);
  all.insert(all.end(), history.begin(), history.end());
  co_return compactor_.tokens(all);
}

}  // namespace hermes::daemon
