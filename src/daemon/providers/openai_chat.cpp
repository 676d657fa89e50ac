#include "daemon/providers/openai_chat.hpp"

#include <nlohmann/json.hpp>

#include "daemon/providers/json_text.hpp"

namespace hermes::providers {

namespace {

using nlohmann::json;

ChatUsage usage_of(const json& body) {
  ChatUsage usage;
  if (auto it = body.find("usage"); it != body.end() && it->is_object()) {
    usage.prompt_tokens = it->value("prompt_tokens", 0L);
    usage.completion_tokens = it->value("completion_tokens", 0L);
    usage.total_tokens = it->value("total_tokens", 0L);
  }
  return usage;
}

}  // namespace

std::string build_chat_request(const std::string& model, std::span<const ChatMessage> messages,
                               bool stream) {
  // Written straight into one buffer: the history can be long, a JSON tree would copy it.
  std::size_t size = model.size() + 96;
  for (const auto& m : messages) size += m.role.size() + m.content.size() + 32;
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
    append_json_string(body, m.content);
    body += '}';
  }
  body += ']';
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
  }
  return event;
}

}  // namespace hermes::providers
