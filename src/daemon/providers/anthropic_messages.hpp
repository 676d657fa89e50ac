#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "daemon/providers/openai_chat.hpp"

namespace hermes::providers {

// Anthropic's Messages API as the gateway's upstream wire format, as pure functions. The
// gateway keeps its history in chat-completions form (ChatMessage); these map it to a
// Messages request and the answers back, so failover can cross kinds within one turn.

struct AnthropicOptions {
  long default_max_tokens = 8192;  // max_tokens is required there: used when the request has none
  bool prompt_caching = true;      // cache_control breakpoints (see build_messages_request)
};

// The request body, or (refused_field set) why the request cannot be expressed as one.
struct AnthropicRequest {
  std::string body;
  std::string refused_field;  // e.g. "seed": a field the Messages API has no equivalent for
  std::string refusal;        // the sentence naming it
};

// `tools` and `extra_fields` as build_chat_request takes them (OpenAI's shapes). System
// messages become the top-level `system`; tool calls and results become tool_use and
// tool_result blocks (one round's results in one user message). With prompt caching, the
// breakpoints sit on the system prompt, the tool list, the latest message and the message
// the previous turn ended with, so each turn reads what the one before wrote.
AnthropicRequest build_messages_request(const std::string& model,
                                        std::span<const ChatMessage> messages, bool stream,
                                        const std::string& tools, const std::string& extra_fields,
                                        const AnthropicOptions& options);

// The first of `extra_fields`' members (OpenAI's sampling parameters) that the Messages API
// cannot take, with the sentence saying so; nothing when all map.
std::optional<AnthropicRequest> unmappable_field(const std::string& extra_fields);

// Nothing when the body is not a message (garbage, or no content array).
std::optional<ParsedCompletion> parse_messages_response(std::string_view body);

// One SSE `data:` payload of a streamed message. Content block indexes are the stream's own
// (a tool_use block after a text block has index 1). `done` on message_stop; `is_error` on an
// error event (overloaded_error mid-stream), classified like any error body.
StreamEvent parse_messages_stream_event(std::string_view data);

// end_turn/stop_sequence → stop, tool_use → tool_calls, max_tokens → length, others as given.
std::string finish_reason_of(std::string_view stop_reason);
// The reverse, for the served /v1/messages: stop → end_turn, tool_calls → tool_use, length →
// max_tokens.
std::string stop_reason_of(std::string_view finish_reason);

}  // namespace hermes::providers
