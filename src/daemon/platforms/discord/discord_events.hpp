#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/platforms/chat/inbound.hpp"

// Discord Gateway dispatches as pure functions: which messages are for the bot, in which
// chat and session, and what an interaction (a slash command or a button press) asks.
namespace hermes::daemon::discord {

// A snowflake (Discord sends ids as decimal text): as a 64-bit integer, never through a
// double; none when it is not one (absent, not digits, or past a signed 64-bit integer).
std::optional<long long> snowflake(const nlohmann::json& object, const char* key);

// READY: who the bot is and the session to resume.
struct Ready {
  std::string session_id;
  std::string resume_url;  // resume_gateway_url
  long long bot_id = 0;
  std::string bot_name;
  long long application_id = 0;
};
std::optional<Ready> parse_ready(const nlohmann::json& d);

// Which guild channels are threads (a thread is its own session), learned from GUILD_CREATE,
// THREAD_CREATE, THREAD_UPDATE and THREAD_LIST_SYNC: thread id -> parent channel id.
using Threads = std::map<long long, long long>;
void learn_threads(std::string_view event, const nlohmann::json& d, Threads& threads);

struct AddressRules {
  bool require_mention = true;
  std::vector<std::string> free_response_channels;
  bool per_user_in_groups = true;  // gateway.group_sessions_per_user
};

enum class MessageVerdict {
  answer,
  from_a_bot,     // the bot's own (Discord echoes them) or another bot's or a webhook's
  not_addressed,  // a guild message that is not for the bot (require_mention)
  not_a_message,  // a system message (joins, pins, …) or nothing at all
  malformed,      // ids missing or not snowflakes
};

struct ParsedMessage {
  MessageVerdict verdict = MessageVerdict::malformed;
  std::optional<chat::Inbound> message;  // with `answer`
};

// A MESSAGE_CREATE. DMs are always for the bot; in a guild a mention of it, a reply to it, a
// command, or any message in a free-response channel (or a thread of one), but not a message
// that mentions other people only. The bot's mention is taken out of the text.
ParsedMessage parse_message(const nlohmann::json& d, long long bot_id, const AddressRules& rules,
                            const Threads& threads);

// discord:dm:<channel>, discord:channel:<channel>[:<user>] or
// discord:thread:<parent>:<thread>[:<user>].
std::string chat_key(long long channel_id, bool guild, long long user_id, const Threads& threads,
                     bool per_user_in_groups);

// An INTERACTION_CREATE.
struct Interaction {
  enum class Kind { command, button, other };
  Kind kind = Kind::other;
  long long id = 0;
  std::string token;  // to answer it (valid 15 minutes)
  long long channel_id = 0;
  bool guild = false;
  long long user_id = 0;
  std::string username;
  std::string name;  // a command's name ("stop"), or a button's custom_id
};
std::optional<Interaction> parse_interaction(const nlohmann::json& d);

// The application commands the gateway registers: the shared chat commands as slash commands.
nlohmann::json application_commands();

}  // namespace hermes::daemon::discord
