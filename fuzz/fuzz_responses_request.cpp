// A /v1/responses request body from a client: parsed or a 400, never a crash; what parses
// makes a response object, stream events and a stored conversation that reads back as it was.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "daemon/platforms/responses/responses_protocol.hpp"

namespace responses = hermes::daemon::responses;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const auto parsed = responses::parse_responses_request(body, "item_f");
  if (const auto* error = std::get_if<hermes::daemon::HttpResponse>(&parsed)) {
    if (error->status != 400) __builtin_trap();
    return 0;
  }
  const auto& request = std::get<responses::ResponsesRequest>(parsed);
  if (request.input.empty()) __builtin_trap();
  std::vector<hermes::providers::ChatMessage> back;
  if (!responses::append_conversation(responses::conversation_json(request.input), back) ||
      back != request.input) {
    __builtin_trap();
  }
  responses::ResponseState state;
  state.id = "resp_f";
  state.status = "completed";
  state.echo = request.echo;
  state.text = request.input.back().content;
  state.has_message = true;
  responses::ResponseEvents events;
  const auto sse =
      events.started(state) + events.text_delta(state, state.text) + events.completed(state);
  if (sse.empty() || responses::response_json(state).empty()) __builtin_trap();
  const auto page = responses::input_items_page(request.input_items, "limit=100&order=asc");
  if (!std::holds_alternative<std::string>(page)) __builtin_trap();
  return 0;
}
