#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hermes::daemon::telegram {

// A chat message, recorded before the poll offset moves past it, so a crash or restart
// neither loses nor repeats one.
struct Inbound {
  long long update_id = 0;
  long long chat_id = 0;
  std::string chat_key;  // chat, or chat:user in groups
  long long user_id = 0;
  std::string username;
  long long message_id = 0;
  std::string text;   // the text, or a media message's caption
  std::string media;  // photo | voice | video | sticker | document | …: a message without text
};

// What a Bot API call answered, whatever the server sent.
struct ApiReply {
  bool ok = false;
  nlohmann::json result;
  int http_status = 0;
  std::string description;  // redacted
  std::optional<int> retry_after;
};

// Reads a Bot API answer ({"ok", "result", "description", "parameters": {"retry_after"}}).
// Any body, including one that is not JSON or has fields of the wrong type, gives a reply
// (not ok, with a description); it never throws.
ApiReply parse_api_reply(int http_status, std::string_view body);

}  // namespace hermes::daemon::telegram
