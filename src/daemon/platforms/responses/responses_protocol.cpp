#include "daemon/platforms/responses/responses_protocol.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "daemon/platforms/api_protocol.hpp"
#include "daemon/providers/json_text.hpp"

namespace hermes::daemon::responses {

namespace {

using nlohmann::json;
using providers::ChatMessage;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool one_of(std::string_view name, std::span<const std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Fields read below; anything else is refused by name.
constexpr std::string_view kKnownFields[] = {"model",
                                             "input",
                                             "instructions",
                                             "previous_response_id",
                                             "store",
                                             "stream",
                                             "tools",
                                             "tool_choice",
                                             "parallel_tool_calls",
                                             "temperature",
                                             "top_p",
                                             "user",
                                             "max_output_tokens",
                                             "metadata",
                                             "text",
                                             "truncation",
                                             "include",
                                             "reasoning",
                                             "background",
                                             "service_tier",
                                             "prompt_cache_key"};

// The text of a message item's content: a string or input_text/output_text parts.
std::variant<std::string, HttpResponse> item_text(const json& content, const std::string& where) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    return invalid_request(where + " must be a string or an array of parts.", where);
  }
  std::string text;
  for (std::size_t j = 0; j < content.size(); ++j) {
    const auto& part = content[j];
    const std::string part_where = where + "[" + std::to_string(j) + "]";
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      return invalid_request(part_where + " must be an object with a type.", part_where);
    }
    const auto type = part["type"].get<std::string>();
    if (type != "input_text" && type != "output_text") {
      return invalid_request(part_where + " is an '" + type.substr(0, 40) +
                                 "' part; this gateway passes text parts only.",
                             part_where);
    }
    if (!part.contains("text") || !part["text"].is_string()) {
      return invalid_request(part_where + ".text must be a string.", part_where + ".text");
    }
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
  }
  return text;
}

bool string_member(const json& item, const char* name) {
  return item.contains(name) && item[name].is_string();
}

// Function calls in a row are one assistant turn: the item after them closes it.
void close_open_calls(std::vector<ChatMessage>& messages,
                      std::vector<providers::ToolCall>& open_calls) {
  if (open_calls.empty()) return;
  messages.emplace_back("assistant", "", providers::tool_calls_json(open_calls));
  open_calls.clear();
}

std::optional<HttpResponse> read_function_call(const json& item, const std::string& where,
                                               json stored,
                                               std::vector<providers::ToolCall>& open_calls,
                                               json& items) {
  if (!string_member(item, "call_id") || !string_member(item, "name") ||
      !string_member(item, "arguments")) {
    return invalid_request(where + " must have call_id, name and arguments as strings.", where);
  }
  open_calls.push_back({item["call_id"].get<std::string>(), item["name"].get<std::string>(),
                        item["arguments"].get<std::string>()});
  items.push_back(std::move(stored));
  return std::nullopt;
}

std::optional<HttpResponse> read_function_call_output(const json& item, const std::string& where,
                                                      json stored,
                                                      std::vector<ChatMessage>& messages,
                                                      json& items) {
  if (!string_member(item, "call_id")) {
    return invalid_request(where + ".call_id must be a string.", where + ".call_id");
  }
  if (!item.contains("output")) {
    return invalid_request(where + ".output is required.", where + ".output");
  }
  auto output = item_text(item["output"], where + ".output");
  if (auto* error = std::get_if<HttpResponse>(&output)) return std::move(*error);
  messages.emplace_back("tool", std::move(std::get<std::string>(output)), "",
                        item["call_id"].get<std::string>());
  items.push_back(std::move(stored));
  return std::nullopt;
}

std::optional<HttpResponse> read_message_item(const json& item, const std::string& where,
                                              json stored, std::vector<ChatMessage>& messages,
                                              json& items) {
  if (!string_member(item, "role")) {
    return invalid_request(where + ".role must be a string.", where + ".role");
  }
  const auto role = item["role"].get<std::string>();
  if (role != "user" && role != "assistant" && role != "system" && role != "developer") {
    return invalid_request(where + ".role must be user, assistant, system or developer.",
                           where + ".role");
  }
  if (!item.contains("content")) {
    return invalid_request(where + ".content is required.", where + ".content");
  }
  auto text = item_text(item["content"], where + ".content");
  if (auto* error = std::get_if<HttpResponse>(&text)) return std::move(*error);
  if (item["content"].is_string()) {  // listed as parts, as OpenAI lists them
    stored["content"] = json::array({{{"type", role == "assistant" ? "output_text" : "input_text"},
                                      {"text", item["content"]}}});
  }
  stored["type"] = "message";
  messages.emplace_back(role == "developer" ? "system" : role,
                        std::move(std::get<std::string>(text)));
  items.push_back(std::move(stored));
  return std::nullopt;
}

// One input item: appended to `messages` (function calls in a row share one assistant
// message) and, with its id, to `items`.
std::optional<HttpResponse> read_item(const json& item, const std::string& where,
                                      const std::string& id, std::vector<ChatMessage>& messages,
                                      std::vector<providers::ToolCall>& open_calls, json& items) {
  if (!item.is_object()) return invalid_request(where + " must be an object.", where);
  if (item.contains("type") && !item["type"].is_string()) {
    return invalid_request(where + ".type must be a string.", where + ".type");
  }
  const std::string type = item.value("type", std::string("message"));
  json stored = item;
  if (!stored.contains("id")) stored["id"] = id;
  if (type == "function_call") {
    return read_function_call(item, where, std::move(stored), open_calls, items);
  }
  close_open_calls(messages, open_calls);
  if (type == "function_call_output") {
    return read_function_call_output(item, where, std::move(stored), messages, items);
  }
  if (type != "message") {
    return invalid_request(where + " is a '" + type.substr(0, 40) +
                               "' item; this gateway takes message, function_call and "
                               "function_call_output items.",
                           where + ".type");
  }
  return read_message_item(item, where, std::move(stored), messages, items);
}

std::optional<HttpResponse> read_tools(const json& tools, std::string& chat_tools) {
  if (!tools.is_array()) return invalid_request("'tools' must be an array.", "tools");
  json converted = json::array();
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const auto& tool = tools[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    if (!tool.is_object() || !string_member(tool, "type")) {
      return invalid_request(where + " must be an object with a type.", where);
    }
    if (tool["type"] != "function") {
      return invalid_request(where + " is a '" + tool["type"].get<std::string>().substr(0, 40) +
                                 "' tool; this gateway takes 'function' tools (its own tools "
                                 "come from its MCP servers).",
                             where + ".type");
    }
    if (!string_member(tool, "name")) {
      return invalid_request(where + ".name must be a string.", where + ".name");
    }
    json function = {{"name", tool["name"]}};
    for (const char* key : {"description", "parameters", "strict"}) {
      if (tool.contains(key) && !tool[key].is_null()) function[key] = tool[key];
    }
    converted.push_back({{"type", "function"}, {"function", std::move(function)}});
  }
  if (!converted.empty()) chat_tools = dump(converted);
  return std::nullopt;
}

// tool_choice in chat form: "auto" | "none" | "required" | {type: function, name}.
std::variant<json, HttpResponse> chat_tool_choice(const json& choice) {
  if (choice.is_string() && (choice == "auto" || choice == "none" || choice == "required")) {
    return choice;
  }
  if (choice.is_object() && choice.value("type", json()) == "function" &&
      string_member(choice, "name")) {
    return json{{"type", "function"}, {"function", {{"name", choice["name"]}}}};
  }
  return invalid_request(
      "'tool_choice' must be auto, none, required or {type: \"function\", name}.", "tool_choice");
}

// text.format in chat form (response_format); null for plain text.
std::variant<json, HttpResponse> chat_response_format(const json& text) {
  if (!text.is_object()) return invalid_request("'text' must be an object.", "text");
  const auto format = text.find("format");
  if (format == text.end() || format->is_null()) return json();
  if (format->is_object() && format->contains("type") && !(*format)["type"].is_string()) {
    return invalid_request("'text.format.type' must be a string.", "text.format.type");
  }
  const std::string type = format->is_object() ? format->value("type", std::string()) : "";
  if (type == "text") return json();
  if (type == "json_object") return json{{"type", "json_object"}};
  if (type == "json_schema" && string_member(*format, "name") && format->contains("schema")) {
    json schema = {{"name", (*format)["name"]}, {"schema", (*format)["schema"]}};
    for (const char* key : {"description", "strict"}) {
      if (format->contains(key)) schema[key] = (*format)[key];
    }
    return json{{"type", "json_schema"}, {"json_schema", std::move(schema)}};
  }
  return invalid_request(
      "'text.format' must be {type: text}, {type: json_object} or {type: json_schema, name, "
      "schema}.",
      "text.format");
}

bool is_number(const json& v) {
  return v.is_number();
}

std::optional<HttpResponse> refuse_unknown_fields(const json& parsed) {
  for (const auto& [name, value] : parsed.items()) {
    if (!one_of(name, kKnownFields)) {
      return invalid_request(
          "'" + name.substr(0, 60) + "' is not supported by this gateway; remove it.", name);
    }
  }
  return std::nullopt;
}

// A request field that is present and not null, else nullptr.
const json* member(const json& parsed, const char* name) {
  const auto it = parsed.find(name);
  return it == parsed.end() || it->is_null() ? nullptr : &*it;
}

std::optional<HttpResponse> read_string_fields(const json& parsed, ResponsesRequest& request) {
  if (const auto* model = member(parsed, "model")) {
    if (!model->is_string()) return invalid_request("'model' must be a string.", "model");
    request.model = model->get<std::string>();
  }
  for (const char* name : {"instructions", "previous_response_id"}) {
    if (const auto* v = member(parsed, name); v && !v->is_string()) {
      return invalid_request("'" + std::string(name) + "' must be a string.", name);
    }
  }
  if (const auto* v = member(parsed, "instructions")) request.instructions = v->get<std::string>();
  if (const auto* v = member(parsed, "previous_response_id")) {
    request.previous_response_id = v->get<std::string>();
  }
  return std::nullopt;
}

std::optional<HttpResponse> read_flags(const json& parsed, ResponsesRequest& request) {
  for (const char* name : {"store", "stream", "background", "parallel_tool_calls"}) {
    if (const auto* v = member(parsed, name); v && !v->is_boolean()) {
      return invalid_request("'" + std::string(name) + "' must be true or false.", name);
    }
  }
  if (const auto* v = member(parsed, "store")) request.store = v->get<bool>();
  if (const auto* v = member(parsed, "stream")) request.stream = v->get<bool>();
  if (const auto* v = member(parsed, "background"); v && v->get<bool>()) {
    return invalid_request("Background responses are not supported; leave 'background' out.",
                           "background");
  }
  return std::nullopt;
}

// 'input' as a string (one user message) or an array of items, read item by item.
std::optional<HttpResponse> read_input_items(const json& input, std::string_view item_id_prefix,
                                             std::vector<ChatMessage>& messages,
                                             std::vector<providers::ToolCall>& open_calls,
                                             json& items) {
  if (input.is_string()) {
    const auto id = std::string(item_id_prefix) + "_0";
    return read_item(json{{"role", "user"}, {"content", input}}, "input", id, messages, open_calls,
                     items);
  }
  if (!input.is_array() || input.empty()) {
    return invalid_request("'input' must be a string or a non-empty array of items.", "input");
  }
  if (input.size() > kMaxMessagesPerRequest) {
    return invalid_request("Too many input items (" + std::to_string(input.size()) +
                               "); the limit is " + std::to_string(kMaxMessagesPerRequest) +
                               ". Continue with previous_response_id instead of resending them.",
                           "input");
  }
  for (std::size_t i = 0; i < input.size(); ++i) {
    const auto id = std::string(item_id_prefix) + "_" + std::to_string(i);
    if (auto error = read_item(input[i], "input[" + std::to_string(i) + "]", id, messages,
                               open_calls, items)) {
      return error;
    }
  }
  return std::nullopt;
}

std::optional<HttpResponse> read_input(const json& parsed, std::string_view item_id_prefix,
                                       ResponsesRequest& request) {
  const auto* input = member(parsed, "input");
  if (!input) return invalid_request("'input' is required.", "input");
  json items = json::array();
  std::vector<providers::ToolCall> open_calls;
  if (auto error = read_input_items(*input, item_id_prefix, request.input, open_calls, items)) {
    return error;
  }
  close_open_calls(request.input, open_calls);
  request.input_items = dump(items);
  return std::nullopt;
}

// tools, tool_choice and parallel_tool_calls; the last two reach the model only with tools.
std::optional<HttpResponse> read_tool_fields(const json& parsed, ResponsesRequest& request,
                                             json& echo) {
  if (const auto* tools = member(parsed, "tools")) {
    if (auto error = read_tools(*tools, request.tools)) return error;
    echo["tools"] = *tools;
  } else {
    echo["tools"] = json::array();
  }
  echo["tool_choice"] = "auto";
  if (const auto* choice = member(parsed, "tool_choice")) {
    auto converted = chat_tool_choice(*choice);
    if (auto* error = std::get_if<HttpResponse>(&converted)) return std::move(*error);
    if (!request.tools.empty())
      add_extra_field(request.extra_fields, "tool_choice", std::get<json>(converted));
    echo["tool_choice"] = *choice;
  }
  echo["parallel_tool_calls"] = true;
  if (const auto* parallel = member(parsed, "parallel_tool_calls")) {
    if (!request.tools.empty())
      add_extra_field(request.extra_fields, "parallel_tool_calls", *parallel);
    echo["parallel_tool_calls"] = *parallel;
  }
  return std::nullopt;
}

// temperature, top_p, max_output_tokens (max_tokens in chat form) and user.
std::optional<HttpResponse> read_sampling_fields(const json& parsed, ResponsesRequest& request,
                                                 json& echo) {
  for (const char* name : {"temperature", "top_p"}) {
    echo[name] = nullptr;
    if (const auto* v = member(parsed, name)) {
      if (!is_number(*v))
        return invalid_request("'" + std::string(name) + "' must be a number.", name);
      add_extra_field(request.extra_fields, name, *v);
      echo[name] = *v;
    }
  }
  echo["max_output_tokens"] = nullptr;
  if (const auto* v = member(parsed, "max_output_tokens")) {
    if (!v->is_number_integer() || v->get<long long>() < 1) {
      return invalid_request("'max_output_tokens' must be a positive integer.",
                             "max_output_tokens");
    }
    add_extra_field(request.extra_fields, "max_tokens", *v);
    echo["max_output_tokens"] = *v;
  }
  if (const auto* v = member(parsed, "user")) {
    if (!v->is_string()) return invalid_request("'user' must be a string.", "user");
    add_extra_field(request.extra_fields, "user", *v);
    echo["user"] = *v;
  }
  return std::nullopt;
}

// text.format (response_format in chat form) and reasoning.effort.
std::optional<HttpResponse> read_output_fields(const json& parsed, ResponsesRequest& request,
                                               json& echo) {
  echo["text"] = {{"format", {{"type", "text"}}}};
  if (const auto* text = member(parsed, "text")) {
    auto format = chat_response_format(*text);
    if (auto* error = std::get_if<HttpResponse>(&format)) return std::move(*error);
    if (const auto& f = std::get<json>(format); !f.is_null()) {
      add_extra_field(request.extra_fields, "response_format", f);
    }
    echo["text"] = *text;
  }
  echo["reasoning"] = nullptr;
  if (const auto* reasoning = member(parsed, "reasoning")) {
    if (!reasoning->is_object())
      return invalid_request("'reasoning' must be an object.", "reasoning");
    if (const auto effort = reasoning->find("effort");
        effort != reasoning->end() && !effort->is_null()) {
      add_extra_field(request.extra_fields, "reasoning_effort", *effort);
    }
    echo["reasoning"] = *reasoning;
  }
  return std::nullopt;
}

// Fields checked and repeated in the response, never passed to the model.
std::optional<HttpResponse> read_echo_only_fields(const json& parsed, json& echo) {
  echo["metadata"] = json::object();
  if (const auto* metadata = member(parsed, "metadata")) {
    if (!metadata->is_object() || metadata->size() > 16) {
      return invalid_request("'metadata' must be an object of at most 16 keys.", "metadata");
    }
    echo["metadata"] = *metadata;
  }
  echo["truncation"] = "disabled";
  if (const auto* truncation = member(parsed, "truncation")) {
    if (*truncation != "disabled" && *truncation != "auto") {
      return invalid_request("'truncation' must be disabled or auto.", "truncation");
    }
    echo["truncation"] = *truncation;
  }
  if (const auto* include = member(parsed, "include"); include && !include->is_array()) {
    return invalid_request("'include' must be an array.", "include");
  }
  if (const auto* tier = member(parsed, "service_tier");
      tier && *tier != "auto" && *tier != "default") {
    return invalid_request("'service_tier' must be auto or default here.", "service_tier");
  }
  return std::nullopt;
}

}  // namespace

std::variant<ResponsesRequest, HttpResponse> parse_responses_request(
    std::string_view body, std::string_view item_id_prefix) {
  auto body_object = parse_body_object(body);
  if (auto* error = std::get_if<HttpResponse>(&body_object)) return std::move(*error);
  const json& parsed = std::get<json>(body_object);
  if (auto error = refuse_unknown_fields(parsed)) return std::move(*error);
  ResponsesRequest request;
  json echo = json::object();
  // In this order: with several fields wrong, the client is told about the first of them.
  if (auto error = read_string_fields(parsed, request)) return std::move(*error);
  if (auto error = read_flags(parsed, request)) return std::move(*error);
  if (auto error = read_input(parsed, item_id_prefix, request)) return std::move(*error);
  if (auto error = read_tool_fields(parsed, request, echo)) return std::move(*error);
  if (auto error = read_sampling_fields(parsed, request, echo)) return std::move(*error);
  if (auto error = read_output_fields(parsed, request, echo)) return std::move(*error);
  if (auto error = read_echo_only_fields(parsed, echo)) return std::move(*error);
  echo["instructions"] = request.instructions.empty() ? json() : json(request.instructions);
  echo["store"] = request.store;
  request.echo = dump(echo);
  return request;
}

std::string message_item_id(const std::string& response_id) {
  return "msg_" + response_id.substr(std::min<std::size_t>(5, response_id.size()));
}

std::string call_item_id(const std::string& response_id, std::size_t index) {
  return "fc_" + response_id.substr(std::min<std::size_t>(5, response_id.size())) + "_" +
         std::to_string(index);
}

namespace {

json usage_json(const providers::ChatUsage& usage) {
  return {{"input_tokens", usage.prompt_tokens},
          {"input_tokens_details", {{"cached_tokens", 0}}},
          {"output_tokens", usage.completion_tokens},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", usage.total_tokens}};
}

json message_item(const ResponseState& state, const std::string& text, const char* status) {
  return {
      {"type", "message"},
      {"id", message_item_id(state.id)},
      {"status", status},
      {"role", "assistant"},
      {"content",
       json::array({{{"type", "output_text"}, {"text", text}, {"annotations", json::array()}}})}};
}

json call_item(const ResponseState& state, std::size_t i, bool done) {
  const auto& call = state.calls[i];
  return {{"type", "function_call"},
          {"id", call_item_id(state.id, i)},
          {"call_id", call.id},
          {"name", call.name},
          {"arguments", done ? call.arguments : std::string()},
          {"status", done ? "completed" : "in_progress"}};
}

json response_value(const ResponseState& state) {
  json out = {{"id", state.id},
              {"object", "response"},
              {"created_at", state.created_at},
              {"status", state.status},
              {"error", nullptr},
              {"incomplete_details", nullptr},
              {"model", state.model},
              {"output", json::array()},
              {"usage", nullptr},
              {"previous_response_id",
               state.previous_response_id.empty() ? json() : json(state.previous_response_id)}};
  if (!state.echo.empty()) {
    const json echo = json::parse(state.echo, nullptr, false);
    if (echo.is_object()) {
      for (const auto& [key, value] : echo.items()) out[key] = value;
    }
  }
  if (state.has_message) {
    out["output"].push_back(
        message_item(state, state.text, state.status == "failed" ? "incomplete" : "completed"));
  }
  for (std::size_t i = 0; i < state.calls.size(); ++i)
    out["output"].push_back(call_item(state, i, true));
  if (state.usage) out["usage"] = usage_json(*state.usage);
  if (!state.error_code.empty()) {
    out["error"] = {{"code", state.error_code}, {"message", state.error_message}};
  }
  return out;
}

}  // namespace

std::string response_json(const ResponseState& state) {
  return dump(response_value(state));
}

std::string ResponseEvents::event(std::string_view type, std::string data) {
  // `data` is a JSON object's members without the braces: type and number go first.
  std::string out = "event: ";
  out += type;
  out += "\ndata: {\"type\":";
  providers::append_json_string(out, type);
  out += ",\"sequence_number\":" + std::to_string(sequence_++);
  if (!data.empty()) out += "," + data;
  out += "}\n\n";
  return out;
}

namespace {

// A JSON object's text without its braces, to follow type and sequence_number.
std::string members(const json& object) {
  const auto text = dump(object);
  return text.size() > 2 ? text.substr(1, text.size() - 2) : std::string();
}

}  // namespace

std::string ResponseEvents::started(const ResponseState& state) {
  const json response = {{"response", response_value(state)}};
  std::string out = event("response.created", members(response));  // numbered in this order
  out += event("response.in_progress", members(response));
  return out;
}

std::string ResponseEvents::text_delta(const ResponseState& state, std::string_view delta) {
  std::string out;
  const auto item_id = message_item_id(state.id);
  if (!message_open_) {
    message_open_ = true;
    json item = message_item(state, "", "in_progress");
    item["content"] = json::array();
    out += event("response.output_item.added",
                 members({{"output_index", 0}, {"item", std::move(item)}}));
    out += event(
        "response.content_part.added",
        members(
            {{"item_id", item_id},
             {"output_index", 0},
             {"content_index", 0},
             {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}}}}));
  }
  if (delta.empty()) return out;
  streamed_text_ += delta;
  out += event("response.output_text.delta", members({{"item_id", item_id},
                                                      {"output_index", 0},
                                                      {"content_index", 0},
                                                      {"delta", std::string(delta)},
                                                      {"logprobs", json::array()}}));
  return out;
}

std::string ResponseEvents::close_message(const ResponseState& state, bool complete) {
  const auto item_id = message_item_id(state.id);
  const json part = {
      {"type", "output_text"}, {"text", streamed_text_}, {"annotations", json::array()}};
  std::string out;
  out += event("response.output_text.done", members({{"item_id", item_id},
                                                     {"output_index", 0},
                                                     {"content_index", 0},
                                                     {"text", streamed_text_},
                                                     {"logprobs", json::array()}}));
  out += event(
      "response.content_part.done",
      members({{"item_id", item_id}, {"output_index", 0}, {"content_index", 0}, {"part", part}}));
  out += event("response.output_item.done",
               members({{"output_index", 0},
                        {"item", message_item(state, streamed_text_,
                                              complete ? "completed" : "incomplete")}}));
  message_open_ = false;
  return out;
}

std::string ResponseEvents::completed(const ResponseState& state) {
  std::string out;
  if (state.has_message && !message_open_) out += text_delta(state, state.text);
  if (message_open_) out += close_message(state, true);
  const std::size_t first_call = state.has_message ? 1 : 0;
  for (std::size_t i = 0; i < state.calls.size(); ++i) {
    const auto index = first_call + i;
    const auto item_id = call_item_id(state.id, i);
    out += event("response.output_item.added",
                 members({{"output_index", index}, {"item", call_item(state, i, false)}}));
    out += event(
        "response.function_call_arguments.delta",
        members(
            {{"item_id", item_id}, {"output_index", index}, {"delta", state.calls[i].arguments}}));
    out += event("response.function_call_arguments.done",
                 members({{"item_id", item_id},
                          {"output_index", index},
                          {"arguments", state.calls[i].arguments}}));
    out += event("response.output_item.done",
                 members({{"output_index", index}, {"item", call_item(state, i, true)}}));
  }
  out += event("response.completed", members({{"response", response_value(state)}}));
  return out;
}

std::string ResponseEvents::failed(const ResponseState& state) {
  std::string out;
  if (message_open_) out += close_message(state, false);
  out += event("response.failed", members({{"response", response_value(state)}}));
  return out;
}

std::string conversation_json(const std::vector<ChatMessage>& messages, bool replaces_earlier) {
  std::string out = "[";
  for (const auto& m : messages) {
    if (out.size() > 1) out += ',';
    out += "{";
    if (replaces_earlier && out.size() == 2) out += "\"replaces_earlier\":true,";
    out += "\"role\":";
    providers::append_json_string(out, m.role);
    out += ",\"content\":";
    providers::append_json_string(out, m.content);
    if (!m.tool_calls.empty()) {
      out += ",\"tool_calls\":";
      providers::append_json_string(out, m.tool_calls);
    }
    if (!m.tool_call_id.empty()) {
      out += ",\"tool_call_id\":";
      providers::append_json_string(out, m.tool_call_id);
    }
    out += '}';
  }
  out += ']';
  return out;
}

bool append_conversation(std::string_view json_text, std::vector<ChatMessage>& out) {
  const json parsed = json::parse(json_text, nullptr, false);
  if (!parsed.is_array()) return false;
  for (const auto& m : parsed) {
    if (!m.is_object() || !string_member(m, "role") || !string_member(m, "content")) return false;
    if (m.value("replaces_earlier", false) == true) out.clear();
    out.emplace_back(m["role"].get<std::string>(), m["content"].get<std::string>(),
                     m.value("tool_calls", std::string()), m.value("tool_call_id", std::string()));
  }
  return true;
}

std::optional<ResponseState> stored_state(std::string_view object_json) {
  const json object = json::parse(object_json, nullptr, false);
  if (!object.is_object() || !string_member(object, "id")) return std::nullopt;
  ResponseState state;
  state.id = object["id"].get<std::string>();
  state.created_at = object.value("created_at", 0L);
  state.status = object.value("status", std::string("in_progress"));
  if (string_member(object, "model")) state.model = object["model"].get<std::string>();
  if (string_member(object, "previous_response_id")) {
    state.previous_response_id = object["previous_response_id"].get<std::string>();
  }
  // What response_value sets itself is not an echoed request field.
  static const std::set<std::string> own = {
      "id",     "object", "created_at",          "status", "error", "incomplete_details", "model",
      "output", "usage",  "previous_response_id"};
  json echo = json::object();
  for (const auto& [key, value] : object.items()) {
    if (!own.contains(key)) echo[key] = value;
  }
  state.echo = dump(echo);
  return state;
}

std::string echoed_instructions(const ResponseState& state) {
  const json echo = json::parse(state.echo, nullptr, false);
  if (!echo.is_object() || !string_member(echo, "instructions")) return {};
  return echo["instructions"].get<std::string>();
}

std::optional<std::string> unanswered_tool_result(const std::vector<ChatMessage>& messages) {
  std::vector<std::string> asked;
  for (const auto& m : messages) {
    if (!m.tool_calls.empty()) {
      const json calls = json::parse(m.tool_calls, nullptr, false);
      if (calls.is_array()) {
        for (const auto& call : calls) {
          if (call.is_object() && string_member(call, "id"))
            asked.push_back(call["id"].get<std::string>());
        }
      }
    }
    if (m.role == "tool" && std::find(asked.begin(), asked.end(), m.tool_call_id) == asked.end()) {
      return m.tool_call_id;
    }
  }
  return std::nullopt;
}

std::variant<std::string, HttpResponse> input_items_page(std::string_view items_json,
                                                         std::string_view query) {
  long limit = 20;
  bool ascending = false;
  std::string after;
  for (const auto& [key, value] : query_params(query)) {
    if (key == "limit") {
      const json number = json::parse(value, nullptr, false);
      if (!number.is_number_integer() || number.get<long>() < 1 || number.get<long>() > 100) {
        return invalid_request("'limit' must be an integer from 1 to 100.", "limit");
      }
      limit = number.get<long>();
    } else if (key == "order") {
      if (value != "asc" && value != "desc") {
        return invalid_request("'order' must be asc or desc.", "order");
      }
      ascending = value == "asc";
    } else if (key == "after") {
      after = std::string(value);
    }
  }
  json items = json::parse(items_json, nullptr, false);
  if (!items.is_array()) items = json::array();
  if (!ascending) std::reverse(items.begin(), items.end());
  std::size_t start = 0;
  if (!after.empty()) {
    const auto found = std::find_if(items.begin(), items.end(), [&after](const json& item) {
      return item.is_object() && item.value("id", std::string()) == after;
    });
    if (found == items.end()) {
      return invalid_request("No input item '" + after.substr(0, 64) + "' in this response.",
                             "after");
    }
    start = static_cast<std::size_t>(found - items.begin()) + 1;
  }
  json page = json::array();
  for (std::size_t i = start; i < items.size() && page.size() < static_cast<std::size_t>(limit);
       ++i) {
    page.push_back(items[i]);
  }
  const bool more = start + page.size() < items.size();
  json out = {{"object", "list"},
              {"data", page},
              {"first_id", page.empty() ? json() : page.front()["id"]},
              {"last_id", page.empty() ? json() : page.back()["id"]},
              {"has_more", more}};
  return dump(out);
}

}  // namespace hermes::daemon::responses
