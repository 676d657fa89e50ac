#pragma once

#include <boost/asio/awaitable.hpp>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "daemon/agent/summary_pause.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/providers/openai_chat.hpp"

namespace hermes::daemon {

class SessionStore;

// What a turn sends after fitting its conversation into the context window.
struct FittedTurn {
  std::vector<providers::ChatMessage> messages;
  bool compacted = false;    // the oldest turns were summarised (or dropped)
  bool dropped = false;      // summarising failed: they were dropped instead (tell the user)
  std::size_t replaced = 0;  // messages no longer sent
  long tokens_before = 0;
  long tokens_after = 0;
};

// Keeps a stored conversation inside the model's context window: before a turn whose history
// would pass compression.threshold of it (or on demand: /compress, a context_overflow), the
// oldest turns are summarised by one provider call into a stored summary that replaces them
// in what is sent (the messages themselves stay in state.db). When the summary fails or does
// not fit, they are dropped instead. Never a loop: one summary call per fit.
class Compactor {
 public:
  Compactor(const Config& config, TurnRunner& turns, SessionStore& store);

  // `prefix`: the platform's system prompt (not stored); `history`: the session as the store
  // gave it; `fresh`: this turn's messages not stored yet (never summarised). `whose`: the
  // platform, session and chat the summary call's usage counts for. `session` empty: a
  // history the caller keeps itself (a Responses chain): the summary is only in what is sent,
  // and the caller stores it.
  boost::asio::awaitable<FittedTurn> fit(std::string session,
                                         std::vector<providers::ChatMessage> prefix,
                                         std::vector<providers::ChatMessage> history,
                                         std::vector<providers::ChatMessage> fresh, bool force,
                                         TurnOptions whose);
  // The share of the context window `messages` (plus the gateway's tool schemas) fill.
  double fullness(const std::vector<providers::ChatMessage>& messages) const;
  long tokens(const std::vector<providers::ChatMessage>& messages) const;
  // The same for the parts of one request, without joining them.
  long tokens(std::initializer_list<std::span<const providers::ChatMessage>> parts) const;
  void reconfigure(const Config& config) { config_ = config; }

 private:
  boost::asio::awaitable<std::optional<std::string>> summarise(
      std::span<const providers::ChatMessage> old, TurnOptions whose);
  boost::asio::awaitable<void> store_summary(const std::string& session, std::size_t pinned,
                                             std::size_t count, bool replaces_a_summary,
                                             std::string content);

  Config config_;
  TurnRunner& turns_;
  SessionStore& store_;
  SummaryPause summary_pause_;
};

// What a chat is told when its oldest turns had to be dropped.
inline constexpr std::string_view kDroppedNotice =
    "(Note: I could not summarise the oldest messages of this conversation, so I no longer see "
    "them; they are still stored.)";

}  // namespace hermes::daemon
