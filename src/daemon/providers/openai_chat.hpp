#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hermes::providers {

struct ChatMessage {
  std::string role;  // system | user | assistant
  std::string content;
};

struct ChatUsage {
  long prompt_tokens = 0;
  long completion_tokens = 0;
  long total_tokens = 0;
};

// The OpenAI chat-completions wire format, as pure functions.
std::string build_chat_request(const std::string& model, std::span<const ChatMessage> messages,
                               bool stream);

struct ParsedCompletion {
  std::string content;
  ChatUsage usage;
};
// Nothing when the body is not a completion (garbage, or no choices[0].message.content).
std::optional<ParsedCompletion> parse_chat_completion(std::string_view body);

struct StreamEvent {
  std::string delta;       // content to append (may be empty)
  bool done = false;       // "[DONE]"
  bool is_error = false;   // {"error": …} inside the stream
  bool malformed = false;  // not JSON
  std::optional<ChatUsage> usage;
};
StreamEvent parse_stream_event(std::string_view data);

}  // namespace hermes::providers
