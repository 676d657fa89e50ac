#include "daemon/platforms/discord/discord_events.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "common/json_fields.hpp"
#include "daemon/platforms/chat/session_key.hpp"

namespace hermes::daemon::discord {

using nlohmann::json;

namespace {

constexpr int kDefaultMessage = 0;
constexpr int kReplyMessage = 19;
constexpr int kApplicationCommand = 2;
constexpr int kMessageComponent = 3;

std::optional<long long> parse_snowflake(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  unsigned long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value == 0 ||
      value > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
    return std::nullopt;
  }
  return static_cast<long long>(value);
}

// The author of a message or of an interaction (a guild's interaction has it under member).
const json* user_of(const json& d) {
  if (const auto* user = object_field(d, "author")) return user;
  if (const auto* member = object_field(d, "member")) {
    if (const auto* user = object_field(*member, "user")) return user;
  }
  return object_field(d, "user");
}

bool mentions_user(const json& d, long long user_id) {
  const auto it = d.find("mentions");
  if (it == d.end() || !it->is_array()) return false;
  return std::any_of(it->begin(), it->end(), [user_id](const json& user) {
    return user.is_object() && snowflake(user, "id") == user_id;
  });
}

bool mentions_anyone(const json& d) {
  const auto it = d.find("mentions");
  return it != d.end() && it->is_array() && !it->empty();
}

bool replies_to(const json& d, long long user_id) {
  const auto* referenced = object_field(d, "referenced_message");
  if (!referenced) return false;
  const auto* author = object_field(*referenced, "author");
  return author && snowflake(*author, "id") == user_id;
}

// The text without the bot's mentions (<@id> and the older <@!id>), trimmed.
std::string without_mentions_of(std::string text, long long bot_id) {
  for (const auto& form :
       {"<@" + std::to_string(bot_id) + ">", "<@!" + std::to_string(bot_id) + ">"}) {
    for (auto at = text.find(form); at != std::string::npos; at = text.find(form, at)) {
      text.erase(at, form.size());
    }
  }
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

bool listed(const std::vector<std::string>& ids, long long id) {
  return std::find(ids.begin(), ids.end(), std::to_string(id)) != ids.end();
}

// What a message without text is (the shared non-text note names it); "" when it has none.
std::string media_of(const json& d) {
  const auto has_items = [&d](const char* key) {
    const auto it = d.find(key);
    return it != d.end() && it->is_array() && !it->empty();
  };
  if (has_items("sticker_items") || has_items("stickers")) return "sticker";
  if (has_items("attachments")) return "attachment";
  if (has_items("embeds")) return "embed";
  return "";
}

bool addressed_in_guild(const json& d, const std::string& text, long long channel_id,
                        long long bot_id, const AddressRules& rules, const Threads& threads) {
  if (bot_id != 0 && (mentions_user(d, bot_id) || replies_to(d, bot_id))) return true;
  if (text.starts_with('/')) return true;  // a command, to whichever bot reads it
  const auto parent = threads.find(channel_id);
  const bool free =
      !rules.require_mention || listed(rules.free_response_channels, channel_id) ||
      (parent != threads.end() && listed(rules.free_response_channels, parent->second));
  // Said to someone else: not for the bot, even where it answers everything.
  return free && !mentions_anyone(d) && !true_field(d, "mention_everyone");
}

}  // namespace

std::optional<long long> snowflake(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_string()) return parse_snowflake(it->get_ref<const std::string&>());
  return std::nullopt;
}

std::optional<Ready> parse_ready(const json& d) {
  Ready ready;
  ready.session_id = string_field(d, "session_id");
  ready.resume_url = string_field(d, "resume_gateway_url");
  const auto* user = object_field(d, "user");
  if (ready.session_id.empty() || !user) return std::nullopt;
  ready.bot_id = snowflake(*user, "id").value_or(0);
  ready.bot_name = string_field(*user, "username");
  if (ready.bot_id == 0) return std::nullopt;
  if (const auto* application = object_field(d, "application")) {
    ready.application_id = snowflake(*application, "id").value_or(0);
  }
  if (ready.application_id == 0) ready.application_id = ready.bot_id;  // the same for bots
  return ready;
}

void learn_threads(std::string_view event, const json& d, Threads& threads) {
  const auto learn = [&threads](const json& channel) {
    if (!channel.is_object()) return;
    const auto id = snowflake(channel, "id");
    const auto parent = snowflake(channel, "parent_id");
    const auto type = integer_field(channel, "type").value_or(0);
    if (id && parent && type >= 10 && type <= 12) threads[*id] = *parent;  // the thread types
  };
  if (event == "THREAD_CREATE" || event == "THREAD_UPDATE") {
    learn(d);
  } else if (event == "GUILD_CREATE" || event == "THREAD_LIST_SYNC") {
    const auto it = d.find("threads");
    if (it != d.end() && it->is_array()) {
      for (const auto& channel : *it) learn(channel);
    }
  } else if (event == "THREAD_DELETE") {
    if (const auto id = snowflake(d, "id")) threads.erase(*id);
  }
}

std::string chat_key(long long channel_id, bool guild, long long user_id, const Threads& threads,
                     bool per_user_in_groups) {
  chat::ChatPlace place;
  place.platform = "discord";
  place.user_id = std::to_string(user_id);
  place.chat_id = std::to_string(channel_id);
  if (!guild) {
    place.kind = chat::ChatKind::dm;
  } else if (const auto parent = threads.find(channel_id); parent != threads.end()) {
    place.kind = chat::ChatKind::thread;
    place.chat_id = std::to_string(parent->second);
    place.thread_id = std::to_string(channel_id);
  } else {
    place.kind = chat::ChatKind::channel;
  }
  return chat::session_key(place, per_user_in_groups);
}

ParsedMessage parse_message(const json& d, long long bot_id, const AddressRules& rules,
                            const Threads& threads) {
  ParsedMessage out;
  if (!d.is_object()) return out;
  const auto type = integer_field(d, "type").value_or(kDefaultMessage);
  const auto id = snowflake(d, "id");
  const auto channel = snowflake(d, "channel_id");
  const auto* author = user_of(d);
  const long long user = author ? snowflake(*author, "id").value_or(0) : 0;
  if (!id || !channel || user == 0) return out;  // malformed
  if (type != kDefaultMessage && type != kReplyMessage) {
    out.verdict = MessageVerdict::not_a_message;
    return out;
  }
  if (user == bot_id || true_field(*author, "bot") || d.contains("webhook_id")) {
    out.verdict = MessageVerdict::from_a_bot;
    return out;
  }
  const bool guild = d.contains("guild_id");
  std::string text = without_mentions_of(string_field(d, "content"), bot_id);
  if (guild && !addressed_in_guild(d, text, *channel, bot_id, rules, threads)) {
    out.verdict = MessageVerdict::not_addressed;
    return out;
  }
  chat::Inbound in;
  in.update_id = *id;
  in.message_id = *id;
  in.chat_id = *channel;
  in.user_id = user;
  in.username = string_field(*author, "username");
  in.chat_key = chat_key(*channel, guild, user, threads, rules.per_user_in_groups);
  in.text = std::move(text);
  if (in.text.empty()) {
    in.media = media_of(d);
    if (in.media.empty()) {
      out.verdict = MessageVerdict::not_a_message;  // nothing to read (e.g. only a mention)
      return out;
    }
  }
  out.verdict = MessageVerdict::answer;
  out.message = std::move(in);
  return out;
}

std::optional<Interaction> parse_interaction(const json& d) {
  if (!d.is_object()) return std::nullopt;
  Interaction out;
  const auto id = snowflake(d, "id");
  const auto channel = snowflake(d, "channel_id");
  const auto* user = user_of(d);
  const long long user_id = user ? snowflake(*user, "id").value_or(0) : 0;
  out.token = string_field(d, "token");
  if (!id || !channel || user_id == 0 || out.token.empty()) return std::nullopt;
  out.id = *id;
  out.channel_id = *channel;
  out.user_id = user_id;
  out.username = string_field(*user, "username");
  out.guild = d.contains("guild_id");
  const auto type = integer_field(d, "type").value_or(0);
  const auto* data = object_field(d, "data");
  if (type == kApplicationCommand && data) {
    out.kind = Interaction::Kind::command;
    out.name = string_field(*data, "name");
  } else if (type == kMessageComponent && data) {
    out.kind = Interaction::Kind::button;
    out.name = string_field(*data, "custom_id");
  }
  return out;
}

json application_commands() {
  const std::pair<const char*, const char*> commands[] = {
      {"stop", "Stop the agent's running turn in this chat"},
      {"new", "Start a new conversation (forget this chat's history)"},
      {"status", "Show the gateway, the model and this chat's session"},
      {"usage", "Show today's tokens and cost for this chat"},
      {"help", "List the commands"},
  };
  json out = json::array();
  for (const auto& [name, description] : commands) {
    out.push_back({{"name", name}, {"description", description}, {"type", 1}});
  }
  return out;
}

}  // namespace hermes::daemon::discord
