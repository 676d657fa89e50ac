#include "daemon/agent/compactor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/test_hooks.hpp"
#include "daemon/agent/context_window.hpp"
#include "daemon/agent/session_store.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using providers::ChatMessage;

namespace {

constexpr const char* kSummaryInstructions =
    "You condense conversations for your own later use. Write a summary of the conversation "
    "below that keeps what matters to go on with it: the user's goals and requests, facts and "
    "names given, decisions made, what tools returned that is still needed, and questions left "
    "open. Plain prose or short bullet points, at most 400 words, no preamble.";

std::vector<ChatMessage> joined(const std::vector<ChatMessage>& a, std::span<const ChatMessage> b,
                                std::span<const ChatMessage> c = {}) {
  std::vector<ChatMessage> out;
  out.reserve(a.size() + b.size() + c.size());
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  out.insert(out.end(), c.begin(), c.end());
  return out;
}

// Who a log line is about: a stored session, or a conversation its platform keeps.
std::string whom(const std::string& session) {
  return session.empty() ? std::string("a kept conversation") : "session " + session;
}

bool is_summary(const ChatMessage& m) {
  return m.role == "user" && m.content.starts_with(context::kSummaryPrefix);
}

}  // namespace

// HERMES_TEST_HOOKS=1 with HERMES_TEST_SUMMARY_PAUSE_MS=N shortens the first pause for tests.
Compactor::Compactor(const Config& config, TurnRunner& turns, SessionStore& store)
    : config_(config),
      turns_(turns),
      store_(store),
      summary_pause_(test_hook_millis("HERMES_TEST_SUMMARY_PAUSE_MS", 1, 600000)
                         .value_or(SummaryPause::kFirst)) {}

long Compactor::tokens(const std::vector<ChatMessage>& messages) const {
  return tokens({messages});
}

long Compactor::tokens(std::initializer_list<std::span<const ChatMessage>> parts) const {
  return context::estimate_tokens(parts, turns_.token_correction()) + turns_.tool_schema_tokens();
}

double Compactor::fullness(const std::vector<ChatMessage>& messages) const {
  return static_cast<double>(tokens(messages)) / static_cast<double>(turns_.context_length());
}

// The summary stands for the session's first `covers` messages (as the store counts them).
asio::awaitable<void> Compactor::store_summary(const std::string& session, std::size_t pinned,
                                               std::size_t count, bool replaces_a_summary,
                                               std::string content) {
  const long long covered_before = co_await store_.summary_covers(session);
  const long long covers = (covered_before > 0 ? covered_before : static_cast<long long>(pinned)) +
                           static_cast<long long>(count) - (replaces_a_summary ? 1 : 0);
  state::Transaction tx;
  store_.add_summary(tx, session, covers, std::move(content));
  try {
    co_await store_.commit(std::move(tx));
  } catch (const std::exception& e) {
    // This turn still goes out compacted; the next one tries again.
    spdlog::error("session {}: the summary could not be stored: {}", session, e.what());
  }
}

// One summary call for `old`; none when it failed or would not be shorter than `old`.
asio::awaitable<std::optional<std::string>> Compactor::summarise(std::span<const ChatMessage> old,
                                                                 TurnOptions whose) {
  std::vector<ChatMessage> prompt{{"system", kSummaryInstructions},
                                  {"user", context::transcript_text(old)}};
  if (summary_pause_.paused(SummaryPause::Clock::now())) {
    spdlog::info("context: summaries are paused after failures; dropping {} messages instead",
                 old.size());
    co_return std::nullopt;
  }
  whose.summary = true;
  whose.usage_rows_in_turn = false;  // not the turn's result: its row is committed alone
  whose.model = config_.compression.summary_model;
  whose.sink = nullptr;
  whose.client_tools.clear();
  whose.extra_fields.clear();
  TurnResult summary = co_await turns_.run(std::move(prompt), std::move(whose));
  // A summary longer than what it replaces would not help: dropped instead.
  const std::vector<ChatMessage> as_sent{context::summary_message(summary.content)};
  if (summary.ok && !summary.content.empty() &&
      context::estimate_tokens(as_sent) < context::estimate_tokens(old)) {
    summary_pause_.succeeded();
    co_return summary.content;
  }
  if (summary.failure) {  // the provider failed it (not a summary that did not fit)
    const auto pause = summary_pause_.failed(SummaryPause::Clock::now());
    spdlog::warn("context: the summary model failed; summaries pause for {} s",
                 std::chrono::duration<double>(pause).count());
  }
  spdlog::warn("context: summarising {} messages failed ({}); dropping them from what is sent",
               old.size(),
               summary.failure ? std::string(providers::to_string(summary.failure->reason))
                               : "the summary did not fit");
  co_return std::nullopt;
}

asio::awaitable<FittedTurn> Compactor::fit(std::string session, std::vector<ChatMessage> prefix,
                                           std::vector<ChatMessage> history,
                                           std::vector<ChatMessage> fresh, bool force,
                                           TurnOptions whose) {
  FittedTurn fitted;
  fitted.tokens_before = fitted.tokens_after = tokens({prefix, history, fresh});
  const auto& compression = config_.compression;
  if (!force && (!compression.enabled ||
                 !context::over_threshold(fitted.tokens_before, turns_.context_length(),
                                          compression.threshold))) {
    // It fits, as it is (the common case): the history moves in, copied only behind a prompt.
    if (prefix.empty()) {
      fitted.messages = std::move(history);
    } else {
      fitted.messages = joined(prefix, history);
    }
    fitted.messages.insert(fitted.messages.end(), std::make_move_iterator(fresh.begin()),
                           std::make_move_iterator(fresh.end()));
    co_return fitted;
  }
  fitted.messages = joined(prefix, history, fresh);
  // Leading system messages of the session stay; the rest may be summarised, oldest first.
  std::size_t pinned = 0;
  while (pinned < history.size() && history[pinned].role == "system") ++pinned;
  std::vector<ChatMessage> rest(history.begin() + static_cast<std::ptrdiff_t>(pinned),
                                history.end());
  const std::size_t stored = rest.size();
  rest.insert(rest.end(), fresh.begin(), fresh.end());
  const std::size_t protect =
      std::max<std::size_t>(static_cast<std::size_t>(std::max(compression.protect_last_n, 0)),
                            std::max<std::size_t>(fresh.size(), 1));
  const std::size_t count = std::min(context::summarise_count(rest, protect), stored);
  if (count == 0) co_return fitted;  // nothing old enough: the turn goes as it is

  const std::span<const ChatMessage> old(rest.data(), count);
  const auto summary = co_await summarise(old, std::move(whose));
  const bool summarised = summary.has_value();
  if (!session.empty()) {
    // Named first: GCC 12 frees a conditional's temporary twice inside a co_await.
    std::string stored_content;  // "" = dropped
    if (summarised) stored_content = *summary;
    const bool replaces_a_summary = is_summary(rest.front());
    co_await store_summary(session, pinned, count, replaces_a_summary, std::move(stored_content));
  }
  std::vector<ChatMessage> kept(history.begin(),
                                history.begin() + static_cast<std::ptrdiff_t>(pinned));
  if (summarised) kept.push_back(context::summary_message(*summary));
  fitted.messages = joined(prefix, kept, std::span<const ChatMessage>(rest).subspan(count));
  fitted.compacted = true;
  fitted.dropped = !summarised;
  fitted.replaced = count;
  fitted.tokens_after = tokens(fitted.messages);
  spdlog::info("{}: context {} {} messages ({} → {} tokens, window {})", whom(session),
               summarised ? "summarised" : "dropped", count, fitted.tokens_before,
               fitted.tokens_after, turns_.context_length());
  co_return fitted;
}

}  // namespace hermes::daemon
