#include "daemon/platforms/telegram/telegram_updates.hpp"

#include <algorithm>
#include <cctype>
#include <limits>

#include "common/json_fields.hpp"
#include "daemon/platforms/chat/session_key.hpp"

namespace hermes::daemon::telegram {

using nlohmann::json;

namespace {

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// "@name" in `text` as a whole word, any case.
bool mentions(const std::string& text, const std::string& username) {
  if (username.empty()) return false;
  const auto haystack = lowered(text);
  const auto needle = "@" + lowered(username);
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    const auto end = at + needle.size();
    const bool starts_word = at == 0 || !word_char(haystack[at - 1]);  // not an e-mail address
    if (starts_word && (end == haystack.size() || !word_char(haystack[end]))) return true;
  }
  return false;
}

// The kinds of message that carry no text of their own (a caption, at most).
constexpr const char* kMediaKinds[] = {"photo",    "voice",    "video", "video_note",
                                       "sticker",  "document", "audio", "animation",
                                       "location", "contact",  "poll",  "venue"};

}  // namespace

std::string chat_key(long long chat_id, long long user_id, bool group, long long thread_id,
                     bool per_user_in_groups) {
  chat::ChatPlace place;
  place.platform = "telegram";
  place.kind = !group           ? chat::ChatKind::dm
               : thread_id != 0 ? chat::ChatKind::thread
                                : chat::ChatKind::group;
  place.chat_id = std::to_string(chat_id);
  if (thread_id != 0) place.thread_id = std::to_string(thread_id);
  place.user_id = std::to_string(user_id);
  return chat::session_key(place, per_user_in_groups);
}

bool addresses_bot(const json& message, const BotIdentity& bot) {
  std::string text = string_field(message, "text");
  if (text.empty()) text = string_field(message, "caption");
  if (text.starts_with('/')) {
    const auto word = text.substr(0, text.find_first_of(" \n"));
    const auto at = word.find('@');
    // "/status@other_bot" is another bot's command.
    if (at == std::string::npos || lowered(word.substr(at + 1)) == lowered(bot.username)) {
      return true;
    }
  }
  if (mentions(text, bot.username)) return true;
  for (const char* key : {"entities", "caption_entities"}) {
    const auto it = message.find(key);
    if (it == message.end() || !it->is_array()) continue;
    for (const auto& entity : *it) {
      if (!entity.is_object() || string_field(entity, "type") != "text_mention") continue;
      const json* user = object_field(entity, "user");
      if (user && bot.id != 0 && integer_field(*user, "id") == bot.id) return true;
    }
  }
  if (const json* replied = object_field(message, "reply_to_message")) {
    const json* from = object_field(*replied, "from");
    if (from && bot.id != 0 && integer_field(*from, "id") == bot.id) return true;
  }
  return false;
}

ParsedUpdate parse_update(const json& update, const BotIdentity& bot, bool per_user_in_groups) {
  ParsedUpdate out;
  if (!update.is_object()) return out;
  out.update_id = integer_field(update, "update_id");
  if (!out.update_id) return out;
  const json* message = object_field(update, "message");
  if (!message) return out;  // edits, channel posts, …: nothing to answer
  const json* chat = object_field(*message, "chat");
  const auto chat_id = chat ? integer_field(*chat, "id") : std::nullopt;
  if (!chat_id) return out;  // nowhere to answer
  const std::string type = string_field(*chat, "type");
  out.group = type == "group" || type == "supergroup";

  Inbound in;
  in.update_id = *out.update_id;
  in.chat_id = *chat_id;
  if (const json* from = object_field(*message, "from")) {
    in.user_id = integer_field(*from, "id").value_or(0);
    in.username = string_field(*from, "username");
  }
  in.message_id = integer_field(*message, "message_id").value_or(0);
  in.text = string_field(*message, "text");
  if (in.text.empty()) {
    for (const char* kind : kMediaKinds) {
      if (message->contains(kind)) {
        in.media = kind;
        break;
      }
    }
    if (in.media.empty()) return out;  // a service message (joined, pinned, …)
    // A caption is read as the message's text; the picture itself is not.
    in.text = string_field(*message, "caption");
    if (!in.text.empty()) in.media.clear();
  }
  // A forum topic is a thread: a session apart from the group's.
  const bool topic = message->value("is_topic_message", false) == true;
  const long long thread_id = topic ? integer_field(*message, "message_thread_id").value_or(0) : 0;
  in.chat_key = chat_key(in.chat_id, in.user_id, out.group, thread_id, per_user_in_groups);
  out.addressed = !out.group || addresses_bot(*message, bot);
  out.message = std::move(in);
  return out;
}

PolledUpdates parse_updates(const json& result, long long offset, const BotIdentity& bot,
                            bool require_mention, bool per_user_in_groups) {
  PolledUpdates out;
  out.next_offset = offset;
  if (!result.is_array()) return out;
  for (const auto& update : result) {
    auto parsed = parse_update(update, bot, per_user_in_groups);
    if (!parsed.update_id) continue;
    if (*parsed.update_id < std::numeric_limits<long long>::max()) {
      out.next_offset = std::max(out.next_offset, *parsed.update_id + 1);
    }
    if (const json* press = object_field(update, "callback_query")) {
      ButtonPress p;
      p.id = string_field(*press, "id");
      p.data = string_field(*press, "data");
      if (const json* from = object_field(*press, "from")) {
        p.user_id = integer_field(*from, "id").value_or(0);
        p.username = string_field(*from, "username");
      }
      if (const json* message = object_field(*press, "message")) {
        if (const json* chat = object_field(*message, "chat")) {
          p.chat_id = integer_field(*chat, "id").value_or(0);
        }
      }
      if (!p.id.empty() && !p.data.empty()) out.presses.push_back(std::move(p));
      continue;
    }
    if (!parsed.message) continue;
    if (require_mention && parsed.group && !parsed.addressed) {
      ++out.skipped_unaddressed;
      continue;
    }
    out.messages.push_back(std::move(*parsed.message));
  }
  return out;
}

OversizedStep after_oversized_answer(long long offset, bool one_at_a_time) {
  if (!one_at_a_time) return {OversizedStep::Kind::one_at_a_time};
  if (offset <= 0) return {OversizedStep::Kind::stuck};
  return {OversizedStep::Kind::skip, offset + 1};
}

}  // namespace hermes::daemon::telegram
