#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/platforms/chat/chat_adapter.hpp"
#include "daemon/platforms/chat/inbound.hpp"

// Slack's Socket Mode and Events API as pure functions: what a socket message is, which
// events are for the bot, in which conversation and session, what a slash command or a
// button press asks, and how text and buttons are written for Slack.
namespace hermes::daemon::slack {

// --- Slack's text ids as the chat machinery's numbers --------------------------------------
// Slack names channels, users and messages with text ("C0123ABCD", "1700000000.000100").
// Messages keep their timestamp (microseconds fit 64 bits, both ways); a conversation (a
// channel, or a thread in it) and a user get a 62-bit hash, which the platform maps back.

// "1700000000.000100" -> 1700000000000100; none when it is not a Slack timestamp.
std::optional<long long> ts_number(std::string_view ts);
// 1700000000000100 -> "1700000000.000100".
std::string ts_text(long long number);
// A conversation: a channel, or one thread in it (`thread_ts` empty: the channel itself).
long long conversation_number(std::string_view channel, std::string_view thread_ts);
long long user_number(std::string_view user);
// One message's id in the inbox, the same for every event about it (a `message` and an
// `app_mention` of one post are one message): its time first, so the inbox keeps the order
// in which they were said.
long long message_number(std::string_view channel, std::string_view ts);

// A slash command's id in the inbox, the same for Slack's retries of it (its trigger_id).
long long command_number(std::string_view trigger_id);

// Where a reply goes: the channel, and the thread in it (empty: the channel itself).
struct Place {
  std::string channel;
  std::string thread_ts;
  bool operator==(const Place&) const = default;
};
// The place a session key names ("slack:thread:C1:1700000000.000100:U1" -> C1 and the
// thread); none for a key that is not Slack's.
std::optional<Place> place_of_key(std::string_view chat_key);

// --- Socket Mode ---------------------------------------------------------------------------

struct SocketMessage {
  enum class Kind { hello, disconnect, envelope, other };
  Kind kind = Kind::other;
  std::string reason;       // disconnect: warning | refresh_requested | link_disabled
  std::string envelope_id;  // envelope
  std::string type;         // envelope: events_api | interactive | slash_commands
  nlohmann::json payload;   // envelope
  int retry_attempt = 0;
};
// None when the text is not a JSON object.
std::optional<SocketMessage> parse_socket_message(std::string_view text);
// What acknowledges an envelope (with `payload` when it carries an answer).
std::string acknowledgement(const std::string& envelope_id,
                            const nlohmann::json& payload = nullptr);

// An `ok: false` from apps.connections.open or auth.test that no retry can cure: the sentence
// saying what to fix. None: worth trying again (or not an auth error at all).
std::optional<std::string> fatal_auth_error(std::string_view error, bool app_token);

// --- events --------------------------------------------------------------------------------

struct AddressRules {
  bool require_mention = true;
  bool per_user_in_groups = true;  // gateway.group_sessions_per_user
};

enum class EventVerdict {
  answer,
  from_a_bot,     // the bot's own post or update coming back, or another bot's
  not_addressed,  // a channel message that does not mention the bot (require_mention)
  not_a_message,  // an edit, a join, a deletion, another event type
  malformed,      // ids missing
};

struct ParsedEvent {
  EventVerdict verdict = EventVerdict::malformed;
  std::optional<chat::Inbound> message;  // with `answer`
  Place place;                           // with `answer`: where the reply goes
};

// An events_api payload ({event_id, event: {...}}). A `message` in a DM is for the bot; in a
// channel an `app_mention` (or, with require_mention false, any message). In a channel the
// reply goes to the message's thread, which is its own session; the bot's mention is taken
// out of the text and Slack's &amp; &lt; &gt; are read back.
ParsedEvent parse_event(const nlohmann::json& payload, std::string_view bot_user,
                        const AddressRules& rules);

// slack:dm:<channel>, slack:channel:<channel>[:<user>] or
// slack:thread:<channel>:<thread ts>[:<user>].
std::string chat_key(const Place& place, bool direct, std::string_view user,
                     bool per_user_in_groups);

// A `/hermes <verb>` slash command.
struct SlashCommand {
  std::string channel;
  std::string user;
  std::string command;       // "/hermes"
  std::string text;          // "status"
  std::string response_url;  // where its answer goes
  std::string trigger_id;
};
std::optional<SlashCommand> parse_slash_command(const nlohmann::json& payload);
// The chat command it stands for: "/hermes status" -> "/status"; an empty or unknown verb ->
// "/help".
std::string command_text(const SlashCommand& command);

// A press of one of the bot's buttons (a block_actions payload).
struct ButtonAction {
  std::string user;
  std::string channel;
  std::string message_ts;
  std::string thread_ts;  // the pressed message's thread, when it is in one
  std::string value;
  std::string response_url;
};
std::optional<ButtonAction> parse_button_action(const nlohmann::json& payload);

// Whether an answer may be posted to `url` (a slash command's or a press's response_url):
// against Slack itself only to its hooks host, so a payload cannot send the gateway's requests
// elsewhere; a custom api_base (a proxy, a test) is trusted as a whole.
bool response_url_allowed(std::string_view api_base, std::string_view url);

// --- writing for Slack ---------------------------------------------------------------------

// mrkdwn's three escapes (& < >), so model text cannot ping <!channel> or a user, or link.
std::string escape_text(std::string_view text);
// A message with buttons: the text in a section and one row of buttons under it.
nlohmann::json blocks_of(std::string_view escaped_text, const std::vector<chat::Button>& buttons);

}  // namespace hermes::daemon::slack
