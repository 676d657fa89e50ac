#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/platforms/api_protocol.hpp"

namespace hermes::daemon {

// Anthropic's Messages API as the API server serves it (POST /v1/messages), as pure
// functions. A request becomes the same turn as a chat completion (ChatCompletionRequest), so
// it runs the same agent loop, failover, budgets and usage; answers and errors go back in
// Anthropic's shapes.

// A valid request in chat-completions form, or the 400 in Anthropic's error shape.
// `count_only` (count_tokens): max_tokens is not required.
std::variant<ChatCompletionRequest, HttpResponse> parse_messages_request(std::string_view body,
                                                                         bool count_only = false);

// An OpenAI-shaped error answer ({"error":{"message","type",…}}) in Anthropic's shape
// ({"type":"error","error":{"type","message"}}), the type chosen by status (402:
// billing_error); status and headers are kept.
HttpResponse anthropic_error(HttpResponse openai_shaped);
std::string_view anthropic_error_type(int status);

// A whole answer: {"id","type":"message","role":"assistant","content":[…],"stop_reason",…}.
std::string message_json(const std::string& id, const std::string& model,
                         const std::string& content,
                         const std::vector<providers::ToolCall>& tool_calls,
                         std::string_view stop_reason, const providers::ChatUsage& usage);

std::string count_tokens_json(long input_tokens);

// The SSE events of a streamed answer, in Anthropic's order: message_start, a text block
// (content_block_start, content_block_delta…, content_block_stop), a tool_use block per call
// (its input as one input_json_delta), message_delta (stop reason, usage), message_stop.
class MessagesStreamWriter {
 public:
  MessagesStreamWriter(std::string id, std::string model);
  // The next piece of text (the message and the text block open on the first).
  std::string text(std::string_view delta);
  // The end of a successful answer.
  std::string finish(const std::vector<providers::ToolCall>& tool_calls,
                     std::string_view stop_reason, const providers::ChatUsage& usage);
  // An `error` event for a failure after the stream began (`error`: anthropic_error's).
  static std::string error(const HttpResponse& error);
  bool started() const { return started_; }

 private:
  std::string open();

  std::string id_;
  std::string model_;
  bool started_ = false;
  bool text_open_ = false;
  int next_index_ = 0;
};

}  // namespace hermes::daemon
