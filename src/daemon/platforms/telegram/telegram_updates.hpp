#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "daemon/platforms/telegram/bot_api.hpp"

// Telegram updates as pure functions: which are messages to answer, for which chat, and
// whether a group message is meant for the bot.
namespace hermes::daemon::telegram {

// Who the bot is (getMe): to know a mention of it, or a reply to it, in a group.
struct BotIdentity {
  long long id = 0;
  std::string username;  // without the @
};

// What one update is to the gateway.
struct ParsedUpdate {
  std::optional<long long> update_id;  // none: malformed (skipped, the offset cannot move)
  std::optional<Inbound> message;      // a message to record; none: nothing to answer
  bool group = false;                  // from a group or supergroup
  bool addressed = true;               // private, or in a group: a command, mention or reply
};

// `per_user_in_groups`: gateway.group_sessions_per_user.
ParsedUpdate parse_update(const nlohmann::json& update, const BotIdentity& bot,
                          bool per_user_in_groups = true);

// Whether a group message is for the bot: a command (to it, or to no bot in particular), an
// @mention of its username (entities or text, any case), a text mention of its id, or a
// reply to one of its messages.
bool addresses_bot(const nlohmann::json& message, const BotIdentity& bot);

// The session key of a message (chat::session_key): telegram:dm:<chat>, or in groups
// telegram:group:<chat>[:<user>] (each member on their own with `per_user_in_groups`), and a
// forum topic telegram:thread:<chat>:<topic>[:<user>].
std::string chat_key(long long chat_id, long long user_id, bool group, long long thread_id = 0,
                     bool per_user_in_groups = true);

using chat::ButtonPress;

struct PolledUpdates {
  std::vector<Inbound> messages;  // to record and answer, in order
  std::vector<ButtonPress> presses;
  long long next_offset = 0;    // past every update seen, answered or not
  int skipped_unaddressed = 0;  // group messages not meant for the bot
};

// The updates of a getUpdates result. With `require_mention`, group messages not meant for
// the bot are skipped (the offset still moves past them). Never throws.
PolledUpdates parse_updates(const nlohmann::json& result, long long offset, const BotIdentity& bot,
                            bool require_mention, bool per_user_in_groups = true);

// What the poller does after a getUpdates answer too large to read. Telegram keeps an update
// until an offset past it is sent, so one that can never be read would stop polling for good.
struct OversizedStep {
  enum class Kind {
    one_at_a_time,  // ask again for one update (limit 1): it may be the batch that is large
    skip,           // the update at the offset alone is too large: go past it to `next_offset`
    stuck,          // no offset is known yet, so the update cannot be named (nor skipped)
  };
  Kind kind;
  long long next_offset = 0;
};

// `offset`: what was asked for (0: none yet); `one_at_a_time`: that ask had limit 1. Update ids
// are sequential, so the only update a limit-1 ask at offset N can bring is N.
OversizedStep after_oversized_answer(long long offset, bool one_at_a_time);

}  // namespace hermes::daemon::telegram
