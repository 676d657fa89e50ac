#include "daemon/providers/openai_chat.hpp"

#include <simdjson.h>

#include <algorithm>

#include "daemon/providers/json_text.hpp"

namespace hermes::providers {

namespace {

// Provider answers are read with simdjson's DOM (validated whole, like a full parse, but with
// no allocation per key or value): the answer is parsed on every provider call, and a
// nlohmann::json tree of it cost more than the rest of the call's own work.
using simdjson::dom::element;
using simdjson::dom::object;

// One parser per thread (large answers are parsed off the event loop): its buffers are reused.
simdjson::dom::parser& answer_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// A count as the provider sent it; anything but a number in range (null, a string, 2E101) is
// 0, not an exception out of the turn.
long count_at(object parent, const char* key) {
  element value;
  if (parent[key].get(value)) return 0;
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      return static_cast<long>(value.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return count_from_unsigned(value.get_uint64().value_unsafe());
    case simdjson::dom::element_type::DOUBLE:
      return count_from_double(value.get_double().value_unsafe());
    default:
      return 0;
  }
}

ChatUsage usage_of(object body) {
  ChatUsage usage;
  object counts;
  if (!body["usage"].get(counts)) {
    usage.prompt_tokens = count_at(counts, "prompt_tokens");
    usage.completion_tokens = count_at(counts, "completion_tokens");
    usage.total_tokens = count_at(counts, "total_tokens");
  }
  return usage;
}

std::string string_at(object parent, const char* key) {
  std::string_view text;
  if (parent[key].get(text)) return std::string();
  return std::string(text);
}

// {"id", "function": {"name", "arguments"}}; arguments may come as an object from a lenient
// provider: written back as (minified) JSON text.
ToolCall tool_call_of(element call_element) {
  ToolCall out;
  object call;
  if (call_element.get(call)) return out;
  out.id = string_at(call, "id");
  object function;
  if (call["function"].get(function)) return out;
  out.name = string_at(function, "name");
  element arguments;
  if (!function["arguments"].get(arguments)) {
    std::string_view text;
    out.arguments = arguments.get(text) ? simdjson::minify(arguments) : std::string(text);
  }
  return out;
}

// The first choice of a parsed answer, when there is one.
bool first_choice(object root, object& first) {
  simdjson::dom::array choices;
  if (root["choices"].get(choices)) return false;
  return !choices.at(0).get(first);
}

}  // namespace

std::string tool_calls_json(const std::vector<ToolCall>& calls) {
  std::string out = "[";
  for (const auto& call : calls) {
    if (out.size() > 1) out += ',';
    out += R"({"id":)";
    append_json_string(out, call.id);
    out += R"(,"type":"function","function":{"name":)";
    append_json_string(out, call.name);
    out += R"(,"arguments":)";
    append_json_string(out, call.arguments);
    out += "}}";
  }
  return out + "]";
}

std::string build_chat_request(const std::string& model, std::span<const ChatMessage> messages,
                               bool stream, const std::string& tools,
                               const std::string& extra_fields) {
  // Written straight into one buffer: the history can be long, a JSON tree would copy it.
  std::size_t size = model.size() + 96;
  for (const auto& m : messages) {
    size += m.role.size() + m.content.size() + m.tool_calls.size() + m.tool_call_id.size() + 48;
  }
  size += tools.size() + extra_fields.size();
  std::string body;
  body.reserve(size);
  body += R"({"model":)";
  append_json_string(body, model);
  body += R"(,"messages":[)";
  bool first = true;
  for (const auto& m : messages) {
    body += first ? R"({"role":)" : R"(,{"role":)";
    first = false;
    append_json_string(body, m.role);
    body += R"(,"content":)";
    if (m.content.empty() && !m.tool_calls.empty()) {
      body += "null";  // an assistant message that only calls tools
    } else {
      append_json_string(body, m.content);
    }
    if (!m.tool_calls.empty()) {
      body += R"(,"tool_calls":)";
      body += m.tool_calls;  // JSON we wrote (tool_calls_json) or checked when it came in
    }
    if (!m.tool_call_id.empty()) {
      body += R"(,"tool_call_id":)";
      append_json_string(body, m.tool_call_id);
    }
    body += '}';
  }
  body += ']';
  if (!tools.empty()) {
    body += R"(,"tools":)";
    body += tools;
  }
  if (!extra_fields.empty()) {
    body += ',';
    body += extra_fields;
  }
  if (stream) body += R"(,"stream":true,"stream_options":{"include_usage":true})";
  body += '}';
  return body;
}

std::optional<ParsedCompletion> parse_chat_completion(std::string_view body) {
  object root;
  if (answer_parser().parse(body.data(), body.size()).get(root)) return std::nullopt;
  object first;
  object message;
  if (!first_choice(root, first) || first["message"].get(message)) return std::nullopt;
  ParsedCompletion out;
  std::string_view content;
  if (!message["content"].get(content)) out.content = content;
  simdjson::dom::array calls;
  if (!message["tool_calls"].get(calls)) {
    for (element call : calls) {
      auto parsed_call = tool_call_of(call);
      if (!parsed_call.name.empty()) out.tool_calls.push_back(std::move(parsed_call));
    }
  }
  out.usage = usage_of(root);
  out.finish_reason = string_at(first, "finish_reason");
  return out;
}

StreamEvent parse_stream_event(std::string_view data) {
  StreamEvent event;
  if (data == "[DONE]") {
    event.done = true;
    return event;
  }
  object root;
  if (answer_parser().parse(data.data(), data.size()).get(root)) {
    event.malformed = true;
    return event;
  }
  if (root["error"].error() == simdjson::SUCCESS) {
    event.is_error = true;
    return event;
  }
  if (root["usage"].is_object()) event.usage = usage_of(root);
  object first;
  object delta;
  if (!first_choice(root, first) || first["delta"].get(delta)) return event;
  event.finish_reason = string_at(first, "finish_reason");
  std::string_view content;
  if (!delta["content"].get(content)) event.delta = content;
  simdjson::dom::array calls;
  if (delta["tool_calls"].get(calls)) return event;
  for (element call : calls) {
    if (!call.is_object()) continue;
    ToolCallDelta piece;
    std::int64_t signed_index = 0;
    std::uint64_t index = 0;
    if (!call["index"].get(signed_index) && signed_index >= 0) {
      piece.index = std::min<std::size_t>(static_cast<std::size_t>(signed_index), 127);
    } else if (!call["index"].get(index)) {
      piece.index = 127;  // past what an int64 holds
    }
    auto whole = tool_call_of(call);
    piece.id = std::move(whole.id);
    piece.name = std::move(whole.name);
    piece.arguments = std::move(whole.arguments);
    event.tool_calls.push_back(std::move(piece));
  }
  return event;
}

}  // namespace hermes::providers
