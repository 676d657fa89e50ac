#include "daemon/providers/openai_chat.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "daemon/providers/json_text.hpp"

namespace hermes::providers {

namespace {

using nlohmann::json;

// A count as the provider sent it; anything but a number (null, a string) is 0, not an
// exception out of the turn.
long count_at(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<long>() : 0;
}

ChatUsage usage_of(const json& body) {
  ChatUsage usage;
  if (auto it = body.find("usage"); it != body.end() && it->is_object()) {
    usage.prompt_tokens = count_at(*it, "prompt_tokens");
    usage.completion_tokens = count_at(*it, "completion_tokens");
    usage.total_tokens = count_at(*it, "total_tokens");
  }
  return usage;
}

std::string string_at(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// {"id", "function": {"name", "arguments"}}; arguments may come as an object from a lenient
// provider: written back as JSON text.
ToolCall tool_call_of(const json& call) {
  ToolCall out;
  if (!call.is_object()) return out;
  out.id = string_at(call, "id");
  if (const auto function = call.find("function");
      function != call.end() && function->is_object()) {
    out.name = string_at(*function, "name");
    if (const auto arguments = function->find("arguments"); arguments != function->end()) {
      out.arguments = arguments->is_string()
                          ? arguments->get<std::string>()
                          : arguments->dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  return out;
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
  const json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  const auto choices = parsed.find("choices");
  if (choices == parsed.end() || !choices->is_array() || choices->empty()) return std::nullopt;
  const auto& first = (*choices)[0];
  if (!first.is_object()) return std::nullopt;
  const auto message = first.find("message");
  if (message == first.end() || !message->is_object()) return std::nullopt;
  const auto content = message->find("content");
  ParsedCompletion out;
  if (content != message->end() && content->is_string()) out.content = content->get<std::string>();
  if (const auto calls = message->find("tool_calls");
      calls != message->end() && calls->is_array()) {
    for (const auto& call : *calls) {
      auto parsed_call = tool_call_of(call);
      if (!parsed_call.name.empty()) out.tool_calls.push_back(std::move(parsed_call));
    }
  }
  out.usage = usage_of(parsed);
  return out;
}

StreamEvent parse_stream_event(std::string_view data) {
  StreamEvent event;
  if (data == "[DONE]") {
    event.done = true;
    return event;
  }
  const json parsed = json::parse(data, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    event.malformed = true;
    return event;
  }
  if (parsed.contains("error")) {
    event.is_error = true;
    return event;
  }
  if (auto it = parsed.find("usage"); it != parsed.end() && it->is_object()) {
    event.usage = usage_of(parsed);
  }
  const auto choices = parsed.find("choices");
  if (choices == parsed.end() || !choices->is_array() || choices->empty()) return event;
  const auto& first = (*choices)[0];
  if (!first.is_object()) return event;
  if (auto delta = first.find("delta"); delta != first.end() && delta->is_object()) {
    if (auto content = delta->find("content"); content != delta->end() && content->is_string()) {
      event.delta = content->get<std::string>();
    }
    if (auto calls = delta->find("tool_calls"); calls != delta->end() && calls->is_array()) {
      for (const auto& call : *calls) {
        if (!call.is_object()) continue;
        ToolCallDelta piece;
        const auto index = call.find("index");
        if (index != call.end() && index->is_number_unsigned()) {
          piece.index = std::min<std::size_t>(index->get<std::size_t>(), 127);
        }
        const auto whole = tool_call_of(call);
        piece.id = whole.id;
        piece.name = whole.name;
        piece.arguments = whole.arguments;
        event.tool_calls.push_back(std::move(piece));
      }
    }
  }
  return event;
}

}  // namespace hermes::providers
