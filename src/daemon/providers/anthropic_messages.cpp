#include "daemon/providers/anthropic_messages.hpp"

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "common/json_fields.hpp"
#include "daemon/providers/json_text.hpp"

namespace hermes::providers {

namespace {

using nlohmann::json;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const json& ephemeral() {
  static const json kEphemeral = {{"type", "ephemeral"}};
  return kEphemeral;
}

// A tool call's arguments as the object tool_use.input must be; text that is not a JSON
// object (a model's broken JSON) goes as an empty input rather than failing the turn.
json tool_input(const std::string& arguments) {
  json input = json::parse(arguments, nullptr, false);
  return input.is_object() ? input : json::object();
}

json assistant_blocks(const ChatMessage& m) {
  json blocks = json::array();
  if (!m.content.empty()) blocks.push_back({{"type", "text"}, {"text", m.content}});
  if (m.tool_calls.empty()) return blocks;
  const json calls = json::parse(m.tool_calls, nullptr, false);
  if (!calls.is_array()) return blocks;
  for (const auto& call : calls) {
    if (!call.is_object() || !call.contains("function")) continue;
    const json& function = call["function"];
    blocks.push_back({{"type", "tool_use"},
                      {"id", string_field(call, "id")},
                      {"name", string_field(function, "name")},
                      {"input", tool_input(string_field(function, "arguments"))}});
  }
  return blocks;
}

// Messages alternate user/assistant there: consecutive blocks of one role join one message
// (a round's tool results, and the user text after them).
void append_blocks(json& out, const std::string& role, json blocks) {
  if (blocks.empty()) return;  // an empty text block is refused upstream
  if (!out.empty() && out.back()["role"] == role) {
    for (auto& block : blocks) out.back()["content"].push_back(std::move(block));
    return;
  }
  out.push_back({{"role", role}, {"content", std::move(blocks)}});
}

struct Conversation {
  std::string system;
  json messages = json::array();
};

Conversation convert_messages(std::span<const ChatMessage> messages) {
  Conversation out;
  for (const auto& m : messages) {
    if (m.role == "system") {
      // A system message later in the history (a compaction summary) joins the system prompt.
      if (!out.system.empty() && !m.content.empty()) out.system += "\n\n";
      out.system += m.content;
    } else if (m.role == "assistant") {
      append_blocks(out.messages, "assistant", assistant_blocks(m));
    } else if (m.role == "tool") {
      append_blocks(out.messages, "user",
                    json::array({{{"type", "tool_result"},
                                  {"tool_use_id", m.tool_call_id},
                                  {"content", m.content}}}));
    } else if (!m.content.empty()) {
      append_blocks(out.messages, "user", json::array({{{"type", "text"}, {"text", m.content}}}));
    }
  }
  return out;
}

json convert_tools(const std::string& tools) {
  json out = json::array();
  if (tools.empty()) return out;
  const json parsed = json::parse(tools, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& tool : parsed) {
    const json* function =
        tool.is_object() && tool.contains("function") ? &tool["function"] : nullptr;
    if (!function || !function->is_object() || !function->contains("name")) continue;
    json entry = {{"name", (*function)["name"]}};
    if (function->contains("description")) entry["description"] = (*function)["description"];
    const auto parameters = function->find("parameters");
    entry["input_schema"] = parameters != function->end() && parameters->is_object()
                                ? *parameters
                                : json{{"type", "object"}, {"properties", json::object()}};
    out.push_back(std::move(entry));
  }
  return out;
}

std::optional<json> convert_tool_choice(const json& choice) {
  if (choice.is_string()) {
    if (choice == "auto") return json{{"type", "auto"}};
    if (choice == "none") return json{{"type", "none"}};
    if (choice == "required") return json{{"type", "any"}};
    return std::nullopt;
  }
  if (choice.is_object() && choice.contains("function") && choice["function"].is_object() &&
      choice["function"].contains("name")) {
    return json{{"type", "tool"}, {"name", choice["function"]["name"]}};
  }
  return std::nullopt;
}

AnthropicRequest refused(const std::string& field, const std::string& why) {
  AnthropicRequest out;
  out.refused_field = field;
  out.refusal = "Unsupported parameter for an Anthropic provider: '" + field + "' (" + why + ").";
  return out;
}

// OpenAI's sampling fields on `request` in Anthropic's terms; a refusal for one that has none.
std::optional<AnthropicRequest> apply_extra_fields(const json& fields, json& request) {
  bool one_tool_at_a_time = false;  // parallel_tool_calls: false, applied once tool_choice is known
  for (const auto& [name, value] : fields.items()) {
    if (value.is_null()) continue;
    if (name == "temperature" || name == "top_p") {
      request[name] = value;
    } else if (name == "max_tokens" || name == "max_completion_tokens") {
      request["max_tokens"] = value;
    } else if (name == "stop") {
      request["stop_sequences"] = value.is_string() ? json::array({value}) : value;
    } else if (name == "user") {
      request["metadata"] = {{"user_id", value}};
    } else if (name == "tool_choice") {
      auto choice = convert_tool_choice(value);
      if (!choice) return refused(name, "use auto, none, required or one named function");
      request["tool_choice"] = std::move(*choice);
    } else if (name == "parallel_tool_calls") {
      one_tool_at_a_time = value == false;
    } else if (name == "response_format") {
      if (string_field(value, "type") != "text") {
        return refused(name, "the Messages API has no JSON mode");
      }
    } else {
      return refused(name, "the Messages API has no equivalent");
    }
  }
  if (one_tool_at_a_time) {
    if (!request.contains("tool_choice")) request["tool_choice"] = {{"type", "auto"}};
    request["tool_choice"]["disable_parallel_tool_use"] = true;
  }
  return std::nullopt;
}

json parse_fields(const std::string& extra_fields) {
  if (extra_fields.empty()) return json::object();
  json fields = json::parse("{" + extra_fields + "}", nullptr, false);
  return fields.is_object() ? fields : json::object();
}

void mark_last_block(json& message) {
  auto& content = message["content"];
  if (content.is_array() && !content.empty()) content.back()["cache_control"] = ephemeral();
}

// Breakpoints on the stable prefix (tools, then system) and at the end of this request and of
// the previous one (the user message two before the latest), so the prefix the last call
// wrote is read back. At most four, Anthropic's limit.
void add_cache_breakpoints(json& request) {
  if (request.contains("tools") && !request["tools"].empty()) {
    request["tools"].back()["cache_control"] = ephemeral();
  }
  if (request.contains("system")) request["system"].back()["cache_control"] = ephemeral();
  auto& messages = request["messages"];
  if (messages.empty()) return;
  mark_last_block(messages.back());
  if (messages.size() >= 3 && messages[messages.size() - 3]["role"] == "user") {
    mark_last_block(messages[messages.size() - 3]);
  }
}

// A count as the provider sent it; anything but a number in range (null, a string, 1e300) is 0.
long count_at(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return 0;
  if (it->is_number_unsigned()) return count_from_unsigned(it->get<std::uint64_t>());
  if (it->is_number_integer()) return static_cast<long>(it->get<std::int64_t>());
  if (it->is_number_float()) return count_from_double(it->get<double>());
  return 0;
}

// Anthropic counts uncached input apart from what was written to or read from the cache;
// prompt_tokens is their sum (OpenAI's meaning: all input).
ChatUsage usage_of(const json& usage) {
  ChatUsage out;
  if (!usage.is_object()) return out;
  out.cache_write_tokens = count_at(usage, "cache_creation_input_tokens");
  out.cache_read_tokens = count_at(usage, "cache_read_input_tokens");
  out.prompt_tokens =
      count_at(usage, "input_tokens") + out.cache_write_tokens + out.cache_read_tokens;
  out.completion_tokens = count_at(usage, "output_tokens");
  out.total_tokens = out.prompt_tokens + out.completion_tokens;
  return out;
}

}  // namespace

std::optional<AnthropicRequest> unmappable_field(const std::string& extra_fields) {
  json scratch = json::object();
  return apply_extra_fields(parse_fields(extra_fields), scratch);
}

AnthropicRequest build_messages_request(const std::string& model,
                                        std::span<const ChatMessage> messages, bool stream,
                                        const std::string& tools, const std::string& extra_fields,
                                        const AnthropicOptions& options) {
  Conversation conversation = convert_messages(messages);
  json request = {{"model", model}, {"max_tokens", options.default_max_tokens}};
  if (!conversation.system.empty()) {
    request["system"] = json::array({{{"type", "text"}, {"text", conversation.system}}});
  }
  request["messages"] = std::move(conversation.messages);
  if (json converted = convert_tools(tools); !converted.empty()) {
    request["tools"] = std::move(converted);
  }
  if (auto refusal = apply_extra_fields(parse_fields(extra_fields), request)) return *refusal;
  if (stream) request["stream"] = true;
  if (options.prompt_caching) add_cache_breakpoints(request);
  AnthropicRequest out;
  out.body = dump(request);
  return out;
}

std::optional<ParsedCompletion> parse_messages_response(std::string_view body) {
  const json root = json::parse(body, nullptr, false);
  if (!root.is_object() || !root.contains("content") || !root["content"].is_array()) {
    return std::nullopt;
  }
  ParsedCompletion out;
  for (const auto& block : root["content"]) {
    if (!block.is_object()) continue;
    const std::string type = string_field(block, "type");
    if (type == "text") {
      out.content += string_field(block, "text");
    } else if (type == "tool_use") {
      const auto input = block.find("input");
      out.tool_calls.push_back({string_field(block, "id"), string_field(block, "name"),
                                input != block.end() ? dump(*input) : std::string("{}")});
    }
  }
  if (root.contains("usage")) out.usage = usage_of(root["usage"]);
  out.finish_reason = finish_reason_of(string_field(root, "stop_reason"));
  return out;
}

namespace {

// A piece of the tool call at the event's content block index (bounded, as for OpenAI's).
ToolCallDelta tool_piece(const json& root) {
  ToolCallDelta piece;
  const long index = count_at(root, "index");
  piece.index = index < 0 ? 127 : std::min<std::size_t>(static_cast<std::size_t>(index), 127);
  return piece;
}

void read_block_start(const json& root, StreamEvent& event) {
  const auto block = root.find("content_block");
  if (block == root.end() || !block->is_object()) return;
  const std::string type = string_field(*block, "type");
  if (type == "text") {
    event.delta = string_field(*block, "text");
  } else if (type == "tool_use") {
    ToolCallDelta piece = tool_piece(root);
    piece.id = string_field(*block, "id");
    piece.name = string_field(*block, "name");
    event.tool_calls.push_back(std::move(piece));
  }
}

void read_block_delta(const json& root, StreamEvent& event) {
  const auto delta = root.find("delta");
  if (delta == root.end() || !delta->is_object()) return;
  const std::string type = string_field(*delta, "type");
  if (type == "text_delta") {
    event.delta = string_field(*delta, "text");
  } else if (type == "input_json_delta") {
    ToolCallDelta piece = tool_piece(root);
    piece.arguments = string_field(*delta, "partial_json");
    event.tool_calls.push_back(std::move(piece));
  }
}

}  // namespace

StreamEvent parse_messages_stream_event(std::string_view data) {
  StreamEvent event;
  const json root = json::parse(data, nullptr, false);
  if (!root.is_object()) {
    event.malformed = true;
    return event;
  }
  const std::string type = string_field(root, "type");
  if (type == "error") {
    event.is_error = true;
  } else if (type == "message_start") {
    const auto message = root.find("message");
    if (message != root.end() && message->is_object() && message->contains("usage")) {
      event.usage = usage_of((*message)["usage"]);
    }
  } else if (type == "content_block_start") {
    read_block_start(root, event);
  } else if (type == "content_block_delta") {
    read_block_delta(root, event);
  } else if (type == "message_delta") {
    if (root.contains("usage")) event.usage = usage_of(root["usage"]);
    if (const auto delta = root.find("delta"); delta != root.end() && delta->is_object()) {
      event.finish_reason = finish_reason_of(string_field(*delta, "stop_reason"));
    }
  } else if (type == "message_stop") {
    event.done = true;
  }
  return event;
}

std::string finish_reason_of(std::string_view stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "max_tokens") return "length";
  if (stop_reason == "refusal") return "content_filter";
  return std::string(stop_reason);
}

std::string stop_reason_of(std::string_view finish_reason) {
  if (finish_reason == "tool_calls") return "tool_use";
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "content_filter") return "refusal";
  return "end_turn";
}

}  // namespace hermes::providers
