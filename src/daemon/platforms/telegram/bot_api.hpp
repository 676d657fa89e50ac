#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/platforms/chat/inbound.hpp"

namespace hermes::daemon::telegram {

// A Bot API message as the chat machinery records it.
using chat::Inbound;

// What a Bot API call answered, whatever the server sent.
struct ApiReply {
  bool ok = false;
  nlohmann::json result;
  int http_status = 0;
  std::string description;  // redacted
  std::optional<int> retry_after;
  bool too_large = false;        // the answer was over the size cap, unread
  long long declared_bytes = 0;  // its Content-Length then, when it gave one
};

// Reads a Bot API answer ({"ok", "result", "description", "parameters": {"retry_after"}}).
// Any body, including one that is not JSON or has fields of the wrong type, gives a reply
// (not ok, with a description); it never throws.
ApiReply parse_api_reply(int http_status, std::string_view body);

}  // namespace hermes::daemon::telegram
