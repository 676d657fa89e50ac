#include "daemon/platforms/anthropic_protocol.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/json_fields.hpp"

namespace hermes::daemon {

namespace {

using nlohmann::json;
using providers::ChatMessage;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

HttpResponse bad_request(const std::string& message, const std::string& param) {
  return anthropic_error(invalid_request(message, param));
}

// The top-level fields this gateway honours. Any other (top_k, thinking, service_tier,
// container, mcp_servers, …: what it cannot honour through every provider) is refused by
// name, never dropped.
constexpr std::string_view kOwnFields[] = {"model", "max_tokens",     "messages", "system",
                                           "tools", "tool_choice",    "stream",   "temperature",
                                           "top_p", "stop_sequences", "metadata"};

bool one_of(std::string_view name, std::span<const std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Text of a string or an array of text blocks (tool_result content, system).
std::optional<std::string> text_of(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  if (content.is_null()) return std::string();
  if (!content.is_array()) return std::nullopt;
  std::string text;
  for (const auto& block : content) {
    if (string_field(block, "type") != "text" || !block.contains("text") ||
        !block["text"].is_string()) {
      return std::nullopt;
    }
    if (!text.empty()) text += "\n";
    text += block["text"].get<std::string>();
  }
  return text;
}

struct Reader {
  ChatCompletionRequest out;
  std::vector<std::string> tool_use_ids;  // of the assistant's tool_use blocks so far

  std::optional<HttpResponse> system(const json& parsed) {
    const auto system = parsed.find("system");
    if (system == parsed.end() || system->is_null()) return std::nullopt;
    auto text = text_of(*system);
    if (!text)
      return bad_request("'system' must be a string or an array of text blocks.", "system");
    if (!text->empty()) out.messages.emplace_back("system", std::move(*text));
    return std::nullopt;
  }

  std::optional<HttpResponse> assistant(const json& content, const std::string& where) {
    ChatMessage message("assistant", "");
    std::vector<providers::ToolCall> calls;
    for (std::size_t j = 0; j < content.size(); ++j) {
      const auto& block = content[j];
      const std::string at = where + ".content[" + std::to_string(j) + "]";
      const std::string type = string_field(block, "type");
      if (type == "text" && block.contains("text") && block["text"].is_string()) {
        message.content += block["text"].get<std::string>();
      } else if (type == "tool_use" && block.contains("id") && block["id"].is_string() &&
                 block.contains("name") && block["name"].is_string()) {
        const auto input = block.find("input");
        calls.push_back({block["id"].get<std::string>(), block["name"].get<std::string>(),
                         input == block.end() ? "{}" : dump(*input)});
        tool_use_ids.push_back(calls.back().id);
      } else {
        return bad_request(at + " must be a text block or a tool_use block {id, name, input}; '" +
                               type.substr(0, 40) + "' blocks are not passed on by this gateway.",
                           at);
      }
    }
    if (!calls.empty()) message.tool_calls = providers::tool_calls_json(calls);
    out.messages.push_back(std::move(message));
    return std::nullopt;
  }

  std::optional<HttpResponse> tool_result(const json& block, const std::string& at) {
    const auto id = block.find("tool_use_id");
    if (id == block.end() || !id->is_string()) {
      return bad_request(at + ".tool_use_id must be a string.", at + ".tool_use_id");
    }
    const std::string use_id = id->get<std::string>();
    if (std::find(tool_use_ids.begin(), tool_use_ids.end(), use_id) == tool_use_ids.end()) {
      return bad_request(at + " answers tool_use '" + use_id.substr(0, 64) +
                             "', which no earlier assistant message made.",
                         at + ".tool_use_id");
    }
    auto text = text_of(block.value("content", json()));
    if (!text)
      return bad_request(at + ".content must be a string or text blocks.", at + ".content");
    if (true_field(block, "is_error")) *text = "Error: " + *text;
    out.messages.emplace_back("tool", std::move(*text), "", use_id);
    return std::nullopt;
  }

  // A user message: its tool results (as tool messages), then its text (as one user message).
  std::optional<HttpResponse> user(const json& content, const std::string& where) {
    std::string text;
    bool has_text = false;
    for (std::size_t j = 0; j < content.size(); ++j) {
      const auto& block = content[j];
      const std::string at = where + ".content[" + std::to_string(j) + "]";
      const std::string type = string_field(block, "type");
      if (type == "text" && block.contains("text") && block["text"].is_string()) {
        if (has_text) text += "\n";
        text += block["text"].get<std::string>();
        has_text = true;
      } else if (type == "tool_result") {
        if (auto error = tool_result(block, at)) return error;
      } else {
        return bad_request(at + " is a '" + type.substr(0, 40) +
                               "' block; this gateway passes text and tool_result blocks only.",
                           at);
      }
    }
    if (has_text) out.messages.emplace_back("user", std::move(text));
    return std::nullopt;
  }

  std::optional<HttpResponse> message(const json& m, const std::string& where) {
    if (!m.is_object()) return bad_request(where + " must be an object.", where);
    const std::string role = string_field(m, "role");
    if (role != "user" && role != "assistant") {
      return bad_request(where + ".role must be user or assistant.", where + ".role");
    }
    const auto content = m.find("content");
    if (content == m.end() || !(content->is_string() || content->is_array())) {
      return bad_request(where + ".content must be a string or an array of blocks.",
                         where + ".content");
    }
    if (content->is_string()) {
      out.messages.emplace_back(role, content->get<std::string>());
      return std::nullopt;
    }
    return role == "user" ? user(*content, where) : assistant(*content, where);
  }

  std::optional<HttpResponse> messages(const json& parsed) {
    const auto messages = parsed.find("messages");
    if (messages == parsed.end() || !messages->is_array() || messages->empty()) {
      return bad_request("'messages' must be a non-empty array.", "messages");
    }
    if (messages->size() > kMaxMessagesPerRequest) {
      return bad_request("Too many messages (" + std::to_string(messages->size()) +
                             "); the limit is " + std::to_string(kMaxMessagesPerRequest) +
                             " per request.",
                         "messages");
    }
    for (std::size_t i = 0; i < messages->size(); ++i) {
      if (auto error = message((*messages)[i], "messages[" + std::to_string(i) + "]")) {
        return error;
      }
    }
    if (out.messages.empty() || out.messages.back().role == "system") {
      return bad_request("'messages' holds no text to answer.", "messages");
    }
    return std::nullopt;
  }

  std::optional<HttpResponse> tools(const json& parsed) {
    const auto tools = parsed.find("tools");
    if (tools == parsed.end() || tools->is_null()) return std::nullopt;
    if (!tools->is_array()) return bad_request("'tools' must be an array.", "tools");
    json converted = json::array();
    for (std::size_t i = 0; i < tools->size(); ++i) {
      const auto& tool = (*tools)[i];
      const std::string where = "tools[" + std::to_string(i) + "]";
      if (!tool.is_object() || !tool.contains("name") || !tool["name"].is_string() ||
          (tool.contains("type") && tool["type"] != "custom")) {
        return bad_request(where +
                               " must be a client tool {name, description, input_schema}; "
                               "server tools are not offered by this gateway.",
                           where);
      }
      json function = {{"name", tool["name"]}};
      if (tool.contains("description")) function["description"] = tool["description"];
      function["parameters"] = tool.value("input_schema", json{{"type", "object"}});
      converted.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    if (!converted.empty()) out.tools = dump(converted);
    return std::nullopt;
  }

  void add_field(std::string_view name, const json& value) {
    add_extra_field(out.extra_fields, name, value);
  }

  std::optional<HttpResponse> tool_choice(const json& choice) {
    if (out.tools.empty()) return bad_request("'tool_choice' needs 'tools'.", "tool_choice");
    const std::string type = string_field(choice, "type");
    if (type == "auto") {
      add_field("tool_choice", "auto");
    } else if (type == "any") {
      add_field("tool_choice", "required");
    } else if (type == "none") {
      add_field("tool_choice", "none");
    } else if (type == "tool" && choice.contains("name") && choice["name"].is_string()) {
      add_field("tool_choice", {{"type", "function"}, {"function", {{"name", choice["name"]}}}});
    } else {
      return bad_request("'tool_choice' must be {type: auto | any | none | tool (with name)}.",
                         "tool_choice");
    }
    if (true_field(choice, "disable_parallel_tool_use")) add_field("parallel_tool_calls", false);
    return std::nullopt;
  }

  std::optional<HttpResponse> sampling(const json& parsed, bool count_only) {
    for (const auto& [name, value] : parsed.items()) {
      if (!one_of(name, kOwnFields)) {
        if (value.is_null()) continue;
        return bad_request(
            "'" + name.substr(0, 60) + "' is not supported by this gateway; remove it.", name);
      }
    }
    const auto max_tokens = parsed.find("max_tokens");
    if (max_tokens != parsed.end() && max_tokens->is_number_integer() && *max_tokens >= 1) {
      add_field("max_tokens", *max_tokens);
    } else if (!count_only) {
      return bad_request("'max_tokens' is required: a positive integer.", "max_tokens");
    }
    for (const char* name : {"temperature", "top_p"}) {
      if (const auto v = parsed.find(name); v != parsed.end() && !v->is_null()) {
        if (!v->is_number())
          return bad_request(std::string("'") + name + "' must be a number.", name);
        add_field(name, *v);
      }
    }
    if (const auto stop = parsed.find("stop_sequences"); stop != parsed.end() && !stop->is_null()) {
      if (!stop->is_array()) {
        return bad_request("'stop_sequences' must be an array of strings.", "stop_sequences");
      }
      add_field("stop", *stop);
    }
    if (const auto meta = parsed.find("metadata"); meta != parsed.end() && meta->is_object()) {
      if (const auto user = meta->find("user_id"); user != meta->end() && user->is_string()) {
        add_field("user", *user);
      }
    }
    if (const auto choice = parsed.find("tool_choice");
        choice != parsed.end() && !choice->is_null()) {
      return tool_choice(*choice);
    }
    return std::nullopt;
  }

  std::optional<HttpResponse> head(const json& parsed) {
    const auto model = parsed.find("model");
    if (model == parsed.end() || !model->is_string()) {
      return bad_request("'model' is required: a string.", "model");
    }
    out.model = model->get<std::string>();
    if (const auto stream = parsed.find("stream"); stream != parsed.end() && !stream->is_null()) {
      if (!stream->is_boolean()) return bad_request("'stream' must be true or false.", "stream");
      out.stream = stream->get<bool>();
    }
    return std::nullopt;
  }
};

}  // namespace

std::variant<ChatCompletionRequest, HttpResponse> parse_messages_request(std::string_view body,
                                                                         bool count_only) {
  auto body_object = parse_body_object(body);
  if (auto* error = std::get_if<HttpResponse>(&body_object)) {
    return anthropic_error(std::move(*error));
  }
  const json& parsed = std::get<json>(body_object);
  Reader reader;
  // In this order: with several fields wrong, the client is told about the first of them.
  if (auto error = reader.head(parsed)) return std::move(*error);
  if (auto error = reader.tools(parsed)) return std::move(*error);
  if (auto error = reader.sampling(parsed, count_only)) return std::move(*error);
  if (auto error = reader.system(parsed)) return std::move(*error);
  if (auto error = reader.messages(parsed)) return std::move(*error);
  return std::move(reader.out);
}

std::string_view anthropic_error_type(int status) {
  switch (status) {
    case 400:
    case 405:
    case 422:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 402:
      return "billing_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 503:
    case 529:
      return "overloaded_error";
    default:
      return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
  }
}

HttpResponse anthropic_error(HttpResponse response) {
  const json body = json::parse(response.body, nullptr, false);
  std::string message = "The request failed.";
  if (body.is_object() && body.contains("error") && body["error"].is_object() &&
      body["error"].contains("message") && body["error"]["message"].is_string()) {
    message = body["error"]["message"].get<std::string>();
  }
  if (response.status == 401) {
    message = "Missing or invalid API key: send x-api-key: <key> (or Authorization: Bearer <key>).";
  }
  response.body = dump(
      {{"type", "error"},
       {"error",
        {{"type", std::string(anthropic_error_type(response.status))}, {"message", message}}}});
  return response;
}

namespace {

json usage_json(const providers::ChatUsage& usage) {
  const long cached = usage.cache_write_tokens + usage.cache_read_tokens;
  return {{"input_tokens", std::max(0L, usage.prompt_tokens - cached)},
          {"output_tokens", usage.completion_tokens},
          {"cache_creation_input_tokens", usage.cache_write_tokens},
          {"cache_read_input_tokens", usage.cache_read_tokens}};
}

json tool_use_json(const providers::ToolCall& call) {
  json input = json::parse(call.arguments, nullptr, false);
  if (!input.is_object()) input = json::object();
  return {{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}};
}

std::string event(std::string_view name, const json& data) {
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  out += dump(data);
  out += "\n\n";
  return out;
}

}  // namespace

std::string message_json(const std::string& id, const std::string& model,
                         const std::string& content,
                         const std::vector<providers::ToolCall>& tool_calls,
                         std::string_view stop_reason, const providers::ChatUsage& usage) {
  json blocks = json::array();
  if (!content.empty() || tool_calls.empty())
    blocks.push_back({{"type", "text"}, {"text", content}});
  for (const auto& call : tool_calls) blocks.push_back(tool_use_json(call));
  return dump({{"id", id},
               {"type", "message"},
               {"role", "assistant"},
               {"model", model},
               {"content", std::move(blocks)},
               {"stop_reason", std::string(stop_reason)},
               {"stop_sequence", nullptr},
               {"usage", usage_json(usage)}});
}

std::string count_tokens_json(long input_tokens) {
  return dump({{"input_tokens", input_tokens}});
}

MessagesStreamWriter::MessagesStreamWriter(std::string id, std::string model)
    : id_(std::move(id)), model_(std::move(model)) {}

std::string MessagesStreamWriter::open() {
  if (started_) return {};
  started_ = true;
  return event("message_start", {{"type", "message_start"},
                                 {"message",
                                  {{"id", id_},
                                   {"type", "message"},
                                   {"role", "assistant"},
                                   {"model", model_},
                                   {"content", json::array()},
                                   {"stop_reason", nullptr},
                                   {"stop_sequence", nullptr},
                                   {"usage", usage_json({})}}}});
}

std::string MessagesStreamWriter::text(std::string_view delta) {
  std::string out = open();
  if (!text_open_) {
    text_open_ = true;
    out += event("content_block_start", {{"type", "content_block_start"},
                                         {"index", next_index_},
                                         {"content_block", {{"type", "text"}, {"text", ""}}}});
  }
  if (!delta.empty()) {
    out += event("content_block_delta",
                 {{"type", "content_block_delta"},
                  {"index", next_index_},
                  {"delta", {{"type", "text_delta"}, {"text", std::string(delta)}}}});
  }
  return out;
}

std::string MessagesStreamWriter::finish(const std::vector<providers::ToolCall>& tool_calls,
                                         std::string_view stop_reason,
                                         const providers::ChatUsage& usage) {
  std::string out = tool_calls.empty() ? text("") : open();
  if (text_open_) {
    out += event("content_block_stop", {{"type", "content_block_stop"}, {"index", next_index_}});
    text_open_ = false;
    ++next_index_;
  }
  for (const auto& call : tool_calls) {
    json block = tool_use_json(call);
    const std::string input = dump(block["input"]);
    block["input"] = json::object();
    out += event("content_block_start", {{"type", "content_block_start"},
                                         {"index", next_index_},
                                         {"content_block", std::move(block)}});
    out += event("content_block_delta",
                 {{"type", "content_block_delta"},
                  {"index", next_index_},
                  {"delta", {{"type", "input_json_delta"}, {"partial_json", input}}}});
    out += event("content_block_stop", {{"type", "content_block_stop"}, {"index", next_index_}});
    ++next_index_;
  }
  out += event("message_delta",
               {{"type", "message_delta"},
                {"delta", {{"stop_reason", std::string(stop_reason)}, {"stop_sequence", nullptr}}},
                {"usage", usage_json(usage)}});
  out += event("message_stop", {{"type", "message_stop"}});
  return out;
}

std::string MessagesStreamWriter::error(const HttpResponse& error) {
  const json body = json::parse(error.body, nullptr, false);
  return event("error", body.is_object() ? body : json{{"type", "error"}});
}

}  // namespace hermes::daemon
