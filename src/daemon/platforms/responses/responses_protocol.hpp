#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/platforms/http_types.hpp"
#include "daemon/providers/openai_chat.hpp"

// The OpenAI Responses API (/v1/responses) as pure functions: requests become chat messages
// for the same agent loop, answers become response objects and stream events.
namespace hermes::daemon::responses {

struct ResponsesRequest {
  std::string model;  // "" when not given
  // The input as chat messages (developer → system; function_call items → an assistant
  // message with tool_calls; function_call_output → a tool result).
  std::vector<providers::ChatMessage> input;
  std::string input_items;  // the input as Responses items with ids (JSON array text)
  std::string instructions;
  std::string previous_response_id;
  bool store = true;
  bool stream = false;
  std::string tools;         // the client's function tools in chat form (JSON array); "" none
  std::string extra_fields;  // chat-form sampling fields to pass on (`"temperature":0.2,…`)
  // The request's settings a response object repeats (instructions, tools, temperature, …),
  // as a JSON object text.
  std::string echo;
};

// A valid request, or the 400 naming the field at fault. `item_id_prefix` makes the ids of
// the input items ("<prefix>_<n>"), unique per response.
std::variant<ResponsesRequest, HttpResponse> parse_responses_request(
    std::string_view body, std::string_view item_id_prefix);

// What a response object is built from.
struct ResponseState {
  std::string id;  // resp_…
  long created_at = 0;
  std::string status;  // in_progress | completed | failed
  std::string model;
  std::string previous_response_id;
  std::string echo;  // ResponsesRequest::echo
  std::string text;  // the answer's text
  bool has_message = false;
  std::vector<providers::ToolCall> calls;  // function calls for the client to run
  std::optional<providers::ChatUsage> usage;
  std::string error_code;  // failed: the failover reason (or interrupted, client_gone)
  std::string error_message;
};

// The `response` object (GET /v1/responses/{id}, the non-streamed answer, stream events).
std::string response_json(const ResponseState& state);
// The ids of the output items, derived from the response id so stream events and the stored
// object agree.
std::string message_item_id(const std::string& response_id);
std::string call_item_id(const std::string& response_id, std::size_t index);

// The SSE events of a streamed response, numbered in order. Each call returns whole events
// (`event: …\ndata: …\n\n`).
class ResponseEvents {
 public:
  // response.created and response.in_progress.
  std::string started(const ResponseState& state);
  // response.output_text.delta (opening the message item and its text part first).
  std::string text_delta(const ResponseState& state, std::string_view delta);
  // The message's and function calls' done events, then response.completed.
  std::string completed(const ResponseState& state);
  // The open message closed as incomplete, then response.failed with the error.
  std::string failed(const ResponseState& state);

 private:
  std::string event(std::string_view type, std::string data_without_type_and_sequence);
  std::string close_message(const ResponseState& state, bool complete);
  int sequence_ = 0;
  bool message_open_ = false;
  std::string streamed_text_;
};

// A chain's messages as stored with each response: compact JSON, read back without loss.
// `replaces_earlier`: the messages are a compacted conversation (a summary first) that stands
// for everything the chain said before them.
std::string conversation_json(const std::vector<providers::ChatMessage>& messages,
                              bool replaces_earlier = false);
// Appends the stored messages to `out` (a compacted conversation replaces what `out` held);
// false when the text is not such a list.
bool append_conversation(std::string_view json_text, std::vector<providers::ChatMessage>& out);

// A stored response object read back as the state it was built from (id, times, model,
// chain, echoed request fields), to finish a response a drain cut. None: not an object.
std::optional<ResponseState> stored_state(std::string_view object_json);
// The instructions a stored response was asked with ("" for none).
std::string echoed_instructions(const ResponseState& state);

// The call id of a tool result that answers no earlier tool call, if any.
std::optional<std::string> unanswered_tool_result(
    const std::vector<providers::ChatMessage>& messages);

// GET /v1/responses/{id}/input_items: a page of `items_json` (a JSON array) per the query
// (limit 1–100, default 20; order asc|desc, default desc; after=<item id>), or a 400.
std::variant<std::string, HttpResponse> input_items_page(std::string_view items_json,
                                                         std::string_view query);

}  // namespace hermes::daemon::responses
