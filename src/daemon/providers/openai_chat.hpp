#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hermes::providers {

struct ChatMessage {
  ChatMessage() = default;
  ChatMessage(std::string r, std::string c, std::string calls = {}, std::string call_id = {})
      : role(std::move(r)),
        content(std::move(c)),
        tool_calls(std::move(calls)),
        tool_call_id(std::move(call_id)) {}
  bool operator==(const ChatMessage&) const = default;

  std::string role;  // system | user | assistant | tool
  std::string content;
  std::string tool_calls;    // assistant: the calls it asked for, as the JSON array it sent
  std::string tool_call_id;  // tool: the call this message answers
};

// One function call a model asked for.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text, as the model wrote it
};

// The calls as an assistant message's `tool_calls` JSON array.
std::string tool_calls_json(const std::vector<ToolCall>& calls);

struct ChatUsage {
  long prompt_tokens = 0;  // all input tokens, the cached ones included
  long completion_tokens = 0;
  long total_tokens = 0;
  // Of prompt_tokens: written to the provider's prompt cache, and read from it (Anthropic).
  long cache_write_tokens = 0;
  long cache_read_tokens = 0;
};

// The OpenAI chat-completions wire format, as pure functions. `tools`: the request's tools
// array as JSON text ("" for none). `extra_fields`: more members for the request object,
// written as given (`"temperature":0.2,"seed":7`), from a client's request.
std::string build_chat_request(const std::string& model, std::span<const ChatMessage> messages,
                               bool stream, const std::string& tools = {},
                               const std::string& extra_fields = {});

struct ParsedCompletion {
  std::string content;
  std::vector<ToolCall> tool_calls;
  ChatUsage usage;
  std::string finish_reason;  // OpenAI's words: stop | length | tool_calls | … ("" unknown)
};
// Nothing when the body is not a completion (garbage, or no choices[0].message.content).
std::optional<ParsedCompletion> parse_chat_completion(std::string_view body);

// A piece of a streamed tool call: the first piece of an index has the id and the name, the
// arguments arrive in pieces to append.
struct ToolCallDelta {
  std::size_t index = 0;
  std::string id;
  std::string name;
  std::string arguments;
};

struct StreamEvent {
  std::vector<ToolCallDelta> tool_calls;
  std::string delta;               // content to append (may be empty)
  bool done = false;               // "[DONE]"
  bool is_error = false;           // {"error": …} inside the stream
  bool malformed = false;          // not JSON
  std::optional<ChatUsage> usage;  // counts the event carries (0: not in this event)
  std::string finish_reason;       // OpenAI's words, when the event ends the choice
};
StreamEvent parse_stream_event(std::string_view data);

}  // namespace hermes::providers
