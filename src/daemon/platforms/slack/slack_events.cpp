#include "daemon/platforms/slack/slack_events.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "common/json_fields.hpp"
#include "common/stable_hash.hpp"
#include "daemon/platforms/chat/session_key.hpp"

namespace hermes::daemon::slack {

using nlohmann::json;

namespace {

constexpr long long kMicros = 1'000'000;
constexpr std::size_t kSectionLimit = 3000;  // a section block's text, in characters

// Positive and never 0: 62 bits of the hash with the top one of them set.
long long hash_number(std::string_view text) {
  constexpr std::uint64_t kLow = (1ULL << 61) - 1;
  return static_cast<long long>((fnv1a_64(text) & kLow) | (1ULL << 61));
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// A user's text as written: the bot's mention taken out, Slack's escapes read back.
std::string readable_text(std::string text, std::string_view bot_user) {
  if (!bot_user.empty()) replace_all(text, "<@" + std::string(bot_user) + ">", "");
  replace_all(text, "&lt;", "<");
  replace_all(text, "&gt;", ">");
  replace_all(text, "&amp;", "&");
  const auto first = text.find_first_not_of(" \t\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\n");
  return text.substr(first, last - first + 1);
}

// What a message without text carries, for the shared non-text note.
std::string media_of(const json& event) {
  const auto files = event.find("files");
  if (files == event.end() || !files->is_array() || files->empty()) return {};
  const auto& first = files->front();
  return first.is_object() && string_field(first, "mimetype").starts_with("image/") ? "photo"
                                                                                    : "document";
}

bool from_a_bot(const json& event, std::string_view bot_user) {
  return event.contains("bot_id") || event.contains("bot_profile") ||
         string_field(event, "user") == bot_user || string_field(event, "subtype") == "bot_message";
}

// Events a person's post arrives as (a message with files, one also sent to the channel).
bool plain_post(std::string_view subtype) {
  return subtype.empty() || subtype == "file_share" || subtype == "thread_broadcast";
}

// Slack's ids (C…, D…, U…) are capitals and digits: anything else (a ':' would break the session
// key) is not one.
bool slack_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

// Cut at a character boundary (UTF-8), with an ellipsis when something was cut.
std::string at_most(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t end = limit - 3;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "…";
}

}  // namespace

std::optional<long long> ts_number(std::string_view ts) {
  const auto dot = ts.find('.');
  if (dot == std::string_view::npos || dot == 0 || ts.size() - dot - 1 != 6) return std::nullopt;
  long long seconds = 0;
  long long micros = 0;
  const auto whole = ts.substr(0, dot);
  const auto part = ts.substr(dot + 1);
  const auto a = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  const auto b = std::from_chars(part.data(), part.data() + part.size(), micros);
  if (a.ec != std::errc() || a.ptr != whole.data() + whole.size() || b.ec != std::errc() ||
      b.ptr != part.data() + part.size() || seconds < 0 || micros < 0 ||
      seconds > 9'000'000'000LL) {
    return std::nullopt;
  }
  // A message's ids come from its ts and must be above 0: the epoch itself is no Slack time.
  if (seconds == 0 && micros == 0) return std::nullopt;
  return seconds * kMicros + micros;
}

std::string ts_text(long long number) {
  std::string micros = std::to_string(number % kMicros);
  return std::to_string(number / kMicros) + "." + std::string(6 - micros.size(), '0') + micros;
}

long long conversation_number(std::string_view channel, std::string_view thread_ts) {
  return hash_number(std::string(channel) + "/" + std::string(thread_ts));
}

long long user_number(std::string_view user) {
  return hash_number(user);
}

long long message_number(std::string_view channel, std::string_view ts) {
  const auto number = ts_number(ts).value_or(0);
  return number * 1000 + static_cast<long long>(fnv1a_64(channel) % 1000);
}

long long command_number(std::string_view trigger_id) {
  return hash_number("command/" + std::string(trigger_id));
}

std::optional<Place> place_of_key(std::string_view chat_key) {
  const auto parts = split(chat_key, ':');
  if (parts.size() < 3 || parts[0] != "slack" || parts[2].empty()) return std::nullopt;
  Place place{std::string(parts[2]), {}};
  if (parts[1] == "thread") {
    if (parts.size() < 4 || !ts_number(parts[3])) return std::nullopt;
    place.thread_ts = std::string(parts[3]);
  } else if (parts[1] != "dm" && parts[1] != "channel" && parts[1] != "group") {
    return std::nullopt;
  }
  return place;
}

std::optional<SocketMessage> parse_socket_message(std::string_view text) {
  const json message = json::parse(text, nullptr, false);
  if (!message.is_object()) return std::nullopt;
  SocketMessage out;
  const auto type = string_field(message, "type");
  out.envelope_id = string_field(message, "envelope_id");
  if (type == "hello") {
    out.kind = SocketMessage::Kind::hello;
  } else if (type == "disconnect") {
    out.kind = SocketMessage::Kind::disconnect;
    out.reason = string_field(message, "reason");
  } else if (!out.envelope_id.empty()) {
    out.kind = SocketMessage::Kind::envelope;
    out.type = type;
    if (const auto* payload = object_field(message, "payload")) out.payload = *payload;
    out.retry_attempt = static_cast<int>(integer_field(message, "retry_attempt").value_or(0));
  }
  return out;
}

std::string acknowledgement(const std::string& envelope_id, const json& payload) {
  json ack = {{"envelope_id", envelope_id}};
  if (!payload.is_null()) ack["payload"] = payload;
  return ack.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<std::string> fatal_auth_error(std::string_view error, bool app_token) {
  const bool refused = error == "invalid_auth" || error == "not_authed" ||
                       error == "account_inactive" || error == "token_revoked" ||
                       error == "token_expired";
  const std::string why = "(" + std::string(error) + ")";
  if (app_token) {
    if (refused) {
      return "Slack refused the app-level token " + why +
             ": create an App-Level Token with the connections:write scope (your app > Basic "
             "Information) and put it in gateway.slack.app_token or SLACK_APP_TOKEN";
    }
    if (error == "not_allowed_token_type") {
      return "gateway.slack.app_token is not an app-level token (not_allowed_token_type): it "
             "must be the xapp- token from your app's Basic Information page";
    }
    if (error == "missing_scope") {
      return "the app-level token lacks the connections:write scope (missing_scope): add it "
             "under Basic Information > App-Level Tokens";
    }
    if (error == "socket_mode_disabled" || error == "link_disabled") {
      return "Socket Mode is off for this app " + why +
             ": turn it on under your app's Socket Mode page";
    }
    return std::nullopt;
  }
  if (refused) {
    return "Slack refused the bot token " + why +
           ": reinstall the app to the workspace (OAuth & Permissions) and copy the Bot User "
           "OAuth Token into gateway.slack.bot_token or SLACK_BOT_TOKEN";
  }
  if (error == "not_allowed_token_type") {
    return "gateway.slack.bot_token is not a bot token (not_allowed_token_type): it must be "
           "the xoxb- token from your app's OAuth & Permissions page";
  }
  return std::nullopt;
}

std::string chat_key(const Place& place, bool direct, std::string_view user,
                     bool per_user_in_groups) {
  chat::ChatPlace key;
  key.platform = "slack";
  key.chat_id = place.channel;
  key.user_id = std::string(user);
  if (!place.thread_ts.empty()) {
    key.kind = chat::ChatKind::thread;
    key.thread_id = place.thread_ts;
  } else {
    key.kind = direct ? chat::ChatKind::dm : chat::ChatKind::channel;
  }
  return chat::session_key(key, per_user_in_groups);
}

ParsedEvent parse_event(const json& payload, std::string_view bot_user, const AddressRules& rules) {
  ParsedEvent out;
  const json* event = payload.is_object() ? object_field(payload, "event") : nullptr;
  if (!event) return out;
  const auto type = string_field(*event, "type");
  const auto subtype = string_field(*event, "subtype");
  if ((type != "message" && type != "app_mention") || !plain_post(subtype)) {
    out.verdict = subtype == "bot_message" ? EventVerdict::from_a_bot : EventVerdict::not_a_message;
    return out;
  }
  if (from_a_bot(*event, bot_user)) {
    out.verdict = EventVerdict::from_a_bot;
    return out;
  }
  const auto channel = string_field(*event, "channel");
  const auto user = string_field(*event, "user");
  const auto ts = string_field(*event, "ts");
  const auto thread_ts = string_field(*event, "thread_ts");
  if (!slack_id(channel) || !slack_id(user) || !ts_number(ts) ||
      (!thread_ts.empty() && !ts_number(thread_ts))) {
    return out;  // malformed
  }
  const auto channel_type = string_field(*event, "channel_type");
  const bool direct = channel_type == "im" || (channel_type.empty() && channel.starts_with('D'));
  const auto raw = string_field(*event, "text");
  const bool mentioned =
      !bot_user.empty() && raw.find("<@" + std::string(bot_user) + ">") != std::string::npos;
  if (!direct && type != "app_mention" && rules.require_mention && !mentioned) {
    out.verdict = EventVerdict::not_addressed;
    return out;
  }
  out.place.channel = channel;
  out.place.thread_ts = thread_ts;
  // In a channel the answer starts a thread under the message (or joins the one it is in).
  if (!direct && out.place.thread_ts.empty()) out.place.thread_ts = ts;
  chat::Inbound in;
  in.update_id = message_number(channel, ts);
  in.message_id = *ts_number(ts);
  in.chat_id = conversation_number(channel, out.place.thread_ts);
  in.user_id = user_number(user);
  in.username = user;
  in.chat_key = chat_key(out.place, direct, user, rules.per_user_in_groups);
  in.text = readable_text(raw, bot_user);
  if (in.text.empty()) {
    in.media = media_of(*event);
    if (in.media.empty()) {
      out.verdict = EventVerdict::not_a_message;  // nothing to read (only a mention)
      return out;
    }
  }
  out.verdict = EventVerdict::answer;
  out.message = std::move(in);
  return out;
}

std::optional<SlashCommand> parse_slash_command(const json& payload) {
  if (!payload.is_object()) return std::nullopt;
  SlashCommand out;
  out.channel = string_field(payload, "channel_id");
  out.user = string_field(payload, "user_id");
  out.command = string_field(payload, "command");
  out.text = string_field(payload, "text");
  out.response_url = string_field(payload, "response_url");
  out.trigger_id = string_field(payload, "trigger_id");
  if (!slack_id(out.channel) || !slack_id(out.user) || out.command.empty()) return std::nullopt;
  return out;
}

std::string command_text(const SlashCommand& command) {
  std::string verb = readable_text(command.text, "");
  if (const auto space = verb.find_first_of(" \t\n"); space != std::string::npos) {
    verb.resize(space);
  }
  std::transform(verb.begin(), verb.end(), verb.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (verb.starts_with('/')) verb.erase(0, 1);
  for (const char* known : {"stop", "new", "reset", "status", "usage", "help"}) {
    if (verb == known) return "/" + verb;
  }
  return "/help";
}

std::optional<ButtonAction> parse_button_action(const json& payload) {
  if (!payload.is_object() || string_field(payload, "type") != "block_actions") {
    return std::nullopt;
  }
  ButtonAction out;
  if (const auto* user = object_field(payload, "user")) out.user = string_field(*user, "id");
  if (const auto* channel = object_field(payload, "channel")) {
    out.channel = string_field(*channel, "id");
  }
  if (const auto* container = object_field(payload, "container")) {
    if (out.channel.empty()) out.channel = string_field(*container, "channel_id");
    out.message_ts = string_field(*container, "message_ts");
  }
  if (const auto* message = object_field(payload, "message")) {
    if (out.message_ts.empty()) out.message_ts = string_field(*message, "ts");
    out.thread_ts = string_field(*message, "thread_ts");
  }
  out.response_url = string_field(payload, "response_url");
  const auto actions = payload.find("actions");
  if (actions != payload.end() && actions->is_array() && !actions->empty() &&
      actions->front().is_object()) {
    out.value = string_field(actions->front(), "value");
  }
  if (!slack_id(out.user) || !slack_id(out.channel) || out.value.empty() ||
      (!out.thread_ts.empty() && !ts_number(out.thread_ts))) {
    return std::nullopt;
  }
  return out;
}

bool response_url_allowed(std::string_view api_base, std::string_view url) {
  if (api_base.starts_with("https://slack.com/"))
    return url.starts_with("https://hooks.slack.com/");
  return url.starts_with("http://") || url.starts_with("https://");
}

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

json blocks_of(std::string_view escaped_text, const std::vector<chat::Button>& buttons) {
  json section = {{"type", "section"},
                  {"text", {{"type", "mrkdwn"}, {"text", at_most(escaped_text, kSectionLimit)}}}};
  json elements = json::array();
  for (std::size_t i = 0; i < buttons.size(); ++i) {
    json button = {{"type", "button"},
                   {"text", {{"type", "plain_text"}, {"text", buttons[i].text}}},
                   {"action_id", "hermes_button_" + std::to_string(i)},
                   {"value", buttons[i].data}};
    button["style"] = i == 0 ? "primary" : "danger";
    elements.push_back(std::move(button));
  }
  return json::array({section, {{"type", "actions"}, {"elements", elements}}});
}

}  // namespace hermes::daemon::slack
