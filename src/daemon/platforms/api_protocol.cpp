#include "daemon/platforms/api_protocol.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <span>

#include "common/ascii_case.hpp"
#include "daemon/providers/anthropic_messages.hpp"
#include "daemon/providers/hint.hpp"
#include "daemon/providers/json_text.hpp"

namespace hermes::daemon {

namespace {

using nlohmann::json;
using providers::FailoverReason;

HttpResponse bad_request(const std::string& message, const std::string& param) {
  return invalid_request(message, param);
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

HttpResponse invalid_request(const std::string& message, const std::string& param) {
  auto response = json_error(400, message, "invalid_request_error");
  auto body = json::parse(response.body);
  body["error"]["param"] = param;
  response.body = body.dump();
  return response;
}

std::optional<HttpResponse> unserved_model(const Config& config, const std::string& model) {
  if (model.empty() || model == config.model.default_model) return std::nullopt;
  for (const auto& f : config.fallback_providers) {
    if (f.model == model) return std::nullopt;
  }
  // Honoured or refused, never ignored: this gateway answers with its configured chain.
  return json_error(404,
                    "The model '" + model.substr(0, 100) + "' is not served here; use '" +
                        config.model.default_model + "' (GET /v1/models lists them).",
                    "invalid_request_error", "model_not_found");
}

std::optional<HttpResponse> unmappable_for_primary(const Config& config,
                                                   const std::string& extra_fields) {
  const auto primary = config.providers.find(config.model.provider);
  if (primary == config.providers.end() || primary->second.api != ProviderApi::anthropic) {
    return std::nullopt;
  }
  auto refused = providers::unmappable_field(extra_fields);
  if (!refused) return std::nullopt;
  return invalid_request(refused->refusal, refused->refused_field);
}

std::variant<json, HttpResponse> parse_body_object(std::string_view body) {
  // A chat request is a few levels deep; a bomb is refused before any tree is built.
  constexpr int kMaxNesting = 64;
  if (providers::json_nesting_exceeds(body, kMaxNesting)) {
    return invalid_request("The request body nests arrays or objects deeper than " +
                               std::to_string(kMaxNesting) + " levels.",
                           "");
  }
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return invalid_request("The request body is not valid JSON.", "");
  if (!parsed.is_object()) return invalid_request("The request body must be a JSON object.", "");
  return parsed;
}

void add_extra_field(std::string& extra_fields, std::string_view name, const json& value) {
  if (!extra_fields.empty()) extra_fields += ',';
  providers::append_json_string(extra_fields, name);
  extra_fields += ':';
  extra_fields += dump(value);
}

namespace {

// Passed to the provider as they are; null means absent.
constexpr std::string_view kPassedThrough[] = {"temperature",
                                               "top_p",
                                               "max_tokens",
                                               "max_completion_tokens",
                                               "stop",
                                               "seed",
                                               "presence_penalty",
                                               "frequency_penalty",
                                               "response_format",
                                               "user"};
// Only with the client's own tools.
constexpr std::string_view kToolFields[] = {"tool_choice", "parallel_tool_calls"};
constexpr std::string_view kOwnFields[] = {"model",          "messages", "stream",
                                           "stream_options", "tools",    "n"};

bool one_of(std::string_view name, std::span<const std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Text of a message's content: a string, null, or text parts. Other parts (images, audio,
// files) are not passed on by this gateway: a 400 naming the part, never a silent drop.
std::variant<std::string, HttpResponse> read_content(const json& message,
                                                     const std::string& where) {
  const auto c = message.find("content");
  if (c == message.end() || c->is_null()) return std::string();
  if (c->is_string()) return c->get<std::string>();
  if (!c->is_array()) {
    return bad_request(where + ".content must be a string or an array of parts.",
                       where + ".content");
  }
  std::string content;
  for (std::size_t j = 0; j < c->size(); ++j) {
    const auto& part = (*c)[j];
    const std::string part_where = where + ".content[" + std::to_string(j) + "]";
    const auto type = part.is_object() ? part.find("type") : part.end();
    const auto text = part.is_object() ? part.find("text") : part.end();
    if (type == part.end() || !type->is_string()) {
      return bad_request(part_where + " must be an object with a type.", part_where);
    }
    if (*type != "text") {
      return bad_request(part_where + " is a '" + type->get<std::string>().substr(0, 40) +
                             "' part; this gateway passes text parts only.",
                         part_where);
    }
    if (text == part.end() || !text->is_string()) {
      return bad_request(part_where + ".text must be a string.", part_where + ".text");
    }
    if (!content.empty()) content += "\n";
    content += text->get<std::string>();
  }
  return content;
}

// An assistant message's tool_calls, normalised; the ids go into `call_ids`.
std::variant<std::vector<providers::ToolCall>, HttpResponse> read_tool_calls(
    const json& calls, const std::string& where, std::vector<std::string>& call_ids) {
  std::vector<providers::ToolCall> out;
  if (!calls.is_array()) return bad_request(where + " must be an array.", where);
  for (std::size_t k = 0; k < calls.size(); ++k) {
    const auto& call = calls[k];
    const std::string call_where = where + "[" + std::to_string(k) + "]";
    const json* function =
        call.is_object() && call.contains("function") ? &call["function"] : nullptr;
    if (!call.is_object() || !call.contains("id") || !call["id"].is_string() || !function ||
        !function->is_object() || !function->contains("name") || !(*function)["name"].is_string() ||
        !function->contains("arguments") || !(*function)["arguments"].is_string()) {
      return bad_request(call_where +
                             " must be {id, type: \"function\", function: {name, arguments}} "
                             "with strings.",
                         call_where);
    }
    out.push_back({call["id"].get<std::string>(), (*function)["name"].get<std::string>(),
                   (*function)["arguments"].get<std::string>()});
    call_ids.push_back(out.back().id);
  }
  return out;
}

std::variant<std::string, HttpResponse> read_tools(const json& tools) {
  if (!tools.is_array()) return bad_request("'tools' must be an array.", "tools");
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const auto& tool = tools[i];
    const std::string where = "tools[" + std::to_string(i) + "]";
    const bool ok = tool.is_object() && tool.value("type", json()) == "function" &&
                    tool.contains("function") && tool["function"].is_object() &&
                    tool["function"].contains("name") && tool["function"]["name"].is_string();
    if (!ok) {
      return bad_request(where + " must be {type: \"function\", function: {name, …}}.", where);
    }
  }
  return tools.empty() ? std::string() : dump(tools);
}

std::optional<HttpResponse> read_client_tools(const json& parsed, std::string& chat_tools) {
  if (const auto tools = parsed.find("tools"); tools != parsed.end() && !tools->is_null()) {
    auto read = read_tools(*tools);
    if (auto* error = std::get_if<HttpResponse>(&read)) return std::move(*error);
    chat_tools = std::move(std::get<std::string>(read));
  }
  return std::nullopt;
}

// Every field is honoured or refused by name: nothing is dropped without a word.
std::optional<HttpResponse> read_passed_through_fields(const json& parsed, bool has_tools,
                                                       std::string& extra_fields) {
  for (const auto& [name, value] : parsed.items()) {
    if (value.is_null() || one_of(name, kOwnFields)) continue;
    const bool passed = one_of(name, kPassedThrough) || (one_of(name, kToolFields) && has_tools);
    if (!passed) {
      return bad_request(
          one_of(name, kToolFields)
              ? "'" + name + "' needs 'tools' in the same request."
              : "'" + name.substr(0, 60) + "' is not supported by this gateway; remove it.",
          name);
    }
    add_extra_field(extra_fields, name, value);
  }
  return std::nullopt;
}

std::optional<HttpResponse> refuse_several_choices(const json& parsed) {
  if (const auto n = parsed.find("n"); n != parsed.end() && !n->is_null() && *n != 1) {
    return bad_request("'n' must be 1: this gateway returns one choice.", "n");
  }
  return std::nullopt;
}

// An assistant message's tool_calls, in chat form on `message`.
std::optional<HttpResponse> read_message_tool_calls(const json& m, const std::string& where,
                                                    std::vector<std::string>& call_ids,
                                                    providers::ChatMessage& message) {
  const auto calls = m.find("tool_calls");
  if (calls == m.end() || calls->is_null()) return std::nullopt;
  if (message.role != "assistant") {
    return bad_request(where + ".tool_calls belongs to assistant messages only.",
                       where + ".tool_calls");
  }
  auto read = read_tool_calls(*calls, where + ".tool_calls", call_ids);
  if (auto* error = std::get_if<HttpResponse>(&read)) return std::move(*error);
  const auto& list = std::get<std::vector<providers::ToolCall>>(read);
  if (!list.empty()) message.tool_calls = providers::tool_calls_json(list);
  return std::nullopt;
}

// A tool message's tool_call_id, which must answer a call made earlier in the conversation.
std::optional<HttpResponse> read_tool_call_id(const json& m, const std::string& where,
                                              const std::vector<std::string>& call_ids,
                                              providers::ChatMessage& message) {
  const auto id = m.find("tool_call_id");
  if (id == m.end() || !id->is_string()) {
    return bad_request(where + ".tool_call_id must be a string.", where + ".tool_call_id");
  }
  message.tool_call_id = id->get<std::string>();
  if (std::find(call_ids.begin(), call_ids.end(), message.tool_call_id) == call_ids.end()) {
    return bad_request(where + " answers tool call '" + message.tool_call_id.substr(0, 64) +
                           "', which no earlier assistant message made.",
                       where + ".tool_call_id");
  }
  return std::nullopt;
}

// One entry of 'messages'; the ids of its tool calls go into `call_ids`.
std::variant<providers::ChatMessage, HttpResponse> read_message(
    const json& m, const std::string& where, std::vector<std::string>& call_ids) {
  if (!m.is_object()) return bad_request(where + " must be an object.", where);
  const auto role = m.find("role");
  if (role == m.end() || !role->is_string()) {
    return bad_request(where + ".role must be a string.", where + ".role");
  }
  const std::string r = role->get<std::string>();
  if (r != "system" && r != "user" && r != "assistant" && r != "developer" && r != "tool") {
    return bad_request(where + ".role must be system, user, assistant or tool.", where + ".role");
  }
  auto content = read_content(m, where);
  if (auto* error = std::get_if<HttpResponse>(&content)) return std::move(*error);
  providers::ChatMessage message(r == "developer" ? "system" : r,
                                 std::move(std::get<std::string>(content)));
  if (auto error = read_message_tool_calls(m, where, call_ids, message)) return std::move(*error);
  if (r == "tool") {
    if (auto error = read_tool_call_id(m, where, call_ids, message)) return std::move(*error);
  }
  return message;
}

std::optional<HttpResponse> read_messages(const json& parsed,
                                          std::vector<providers::ChatMessage>& out) {
  const auto messages = parsed.find("messages");
  if (messages == parsed.end()) return bad_request("'messages' is required.", "messages");
  if (!messages->is_array() || messages->empty()) {
    return bad_request("'messages' must be a non-empty array.", "messages");
  }
  // What one request may make the gateway store and send: a bound, not the body size alone
  // (1 MB of tiny messages is 65,000 rows).
  if (messages->size() > kMaxMessagesPerRequest) {
    return bad_request("Too many messages (" + std::to_string(messages->size()) +
                           "); the limit is " + std::to_string(kMaxMessagesPerRequest) +
                           " per request. Continue a session with X-Hermes-Session-Id instead of "
                           "resending the history.",
                       "messages");
  }
  std::vector<std::string> call_ids;  // of the assistant tool calls so far
  for (std::size_t i = 0; i < messages->size(); ++i) {
    auto message = read_message((*messages)[i], "messages[" + std::to_string(i) + "]", call_ids);
    if (auto* error = std::get_if<HttpResponse>(&message)) return std::move(*error);
    out.push_back(std::move(std::get<providers::ChatMessage>(message)));
  }
  return std::nullopt;
}

std::optional<HttpResponse> read_stream_fields(const json& parsed, ChatCompletionRequest& request) {
  if (auto stream = parsed.find("stream"); stream != parsed.end() && !stream->is_null()) {
    if (!stream->is_boolean()) return bad_request("'stream' must be true or false.", "stream");
    request.stream = stream->get<bool>();
  }
  if (auto options = parsed.find("stream_options");
      options != parsed.end() && !options->is_null()) {
    if (!options->is_object()) {
      return bad_request("'stream_options' must be an object.", "stream_options");
    }
    const auto usage = options->find("include_usage");
    request.include_usage = usage != options->end() && usage->is_boolean() && usage->get<bool>();
  }
  return std::nullopt;
}

std::optional<HttpResponse> read_model(const json& parsed, std::string& model_name) {
  if (auto model = parsed.find("model"); model != parsed.end() && !model->is_null()) {
    if (!model->is_string()) return bad_request("'model' must be a string.", "model");
    model_name = model->get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

std::variant<ChatCompletionRequest, HttpResponse> parse_chat_completion_request(
    std::string_view body) {
  auto body_object = parse_body_object(body);
  if (auto* error = std::get_if<HttpResponse>(&body_object)) return std::move(*error);
  const json& parsed = std::get<json>(body_object);
  ChatCompletionRequest request;
  // In this order: with several fields wrong, the client is told about the first of them.
  if (auto error = read_client_tools(parsed, request.tools)) return std::move(*error);
  if (auto error =
          read_passed_through_fields(parsed, !request.tools.empty(), request.extra_fields)) {
    return std::move(*error);
  }
  if (auto error = refuse_several_choices(parsed)) return std::move(*error);
  if (auto error = read_messages(parsed, request.messages)) return std::move(*error);
  if (auto error = read_stream_fields(parsed, request)) return std::move(*error);
  if (auto error = read_model(parsed, request.model)) return std::move(*error);
  return request;
}

int failure_status(FailoverReason reason) {
  switch (reason) {
    case FailoverReason::billing:
      return 402;
    case FailoverReason::rate_limit:
    case FailoverReason::upstream_rate_limit:
    case FailoverReason::budget_exceeded:
      return 429;
    case FailoverReason::overloaded:
      return 503;
    case FailoverReason::timeout:
      return 504;
    case FailoverReason::format_error:
    case FailoverReason::context_overflow:
    case FailoverReason::payload_too_large:
      return 400;
    default:
      return 502;
  }
}

HttpResponse failure_response(const providers::Classification& failure) {
  const int status = failure_status(failure.reason);
  HttpResponse response;
  response.status = status;
  json error = {{"message", providers::hint(failure)},
                {"type", providers::to_string(failure.reason)},
                {"code", failure.status > 0 ? json(failure.status) : json(nullptr)}};
  response.body = dump(json{{"error", error}});
  if (status == 429 || (status == 402 && failure.retry_after)) {
    const long long seconds =
        failure.retry_after ? std::max<long long>(1, (failure.retry_after->count() + 999) / 1000)
                            : 5;
    response.headers.emplace_back("Retry-After", std::to_string(seconds));
  }
  return response;
}

HttpResponse unauthorized_response() {
  auto response = json_error(401, "Missing or invalid API key: send Authorization: Bearer <key>.",
                             "invalid_request_error", "invalid_api_key");
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

HttpResponse interrupted_response() {
  auto response = json_error(503, kInterruptedMessage, "interrupted");
  response.headers.emplace_back("Retry-After", "1");
  return response;
}

HttpResponse store_failed_response() {
  return json_error(500,
                    "The gateway could not store this turn, so it is not answered; check the "
                    "gateway's log and the disk holding state.db, then send it again.",
                    "server_error", "state_store_failed");
}

HttpResponse store_unavailable_response() {
  auto response = json_error(503,
                             "The gateway's database cannot be reached right now, so this turn "
                             "was not answered (nothing of it was kept); send it again in a few "
                             "seconds.",
                             "server_error", "state_store_unavailable");
  response.headers.emplace_back("Retry-After", "2");
  return response;
}

HttpResponse client_gone_response() {
  return json_error(499, "The client closed the connection before the answer was complete.",
                    "client_closed_request");
}

HttpResponse stopped_response() {
  return json_error(400,
                    "The run was stopped before it finished (Stop in the gateway's dashboard).",
                    "run_stopped");
}

std::string_view text_finish_reason(std::string_view finish_reason) {
  if (finish_reason == "length" || finish_reason == "content_filter") return finish_reason;
  return "stop";
}

// The two bodies every answer produces are written straight into one buffer, keys in the
// same (sorted) order nlohmann would give them.
std::string completion_json(const std::string& id, const std::string& model,
                            const std::string& content, const providers::ChatUsage& usage,
                            long created, const std::vector<providers::ToolCall>& tool_calls,
                            std::string_view finish_reason) {
  using providers::append_json_string;
  std::string out;
  out.reserve(content.size() + model.size() + id.size() + 256);
  out += R"({"choices":[{"finish_reason":")";
  out += tool_calls.empty() ? text_finish_reason(finish_reason) : "tool_calls";
  out += R"(","index":0,"message":{"content":)";
  if (content.empty() && !tool_calls.empty()) {
    out += "null";
  } else {
    append_json_string(out, content);
  }
  out += R"(,"role":"assistant")";
  if (!tool_calls.empty()) {
    out += R"(,"tool_calls":)";
    out += providers::tool_calls_json(tool_calls);
  }
  out += R"(}}],"created":)";
  out += std::to_string(created);
  out += R"(,"id":)";
  append_json_string(out, id);
  out += R"(,"model":)";
  append_json_string(out, model);
  out += R"(,"object":"chat.completion","usage":{"completion_tokens":)";
  out += std::to_string(usage.completion_tokens);
  out += R"(,"prompt_tokens":)";
  out += std::to_string(usage.prompt_tokens);
  out += R"(,"total_tokens":)";
  out += std::to_string(usage.total_tokens);
  out += "}}";
  return out;
}

namespace {

// `data: {"choices":[{"delta":<delta>,"finish_reason":<finish>,"index":0}],…}\n\n`
std::string chunk_with(const std::string& id, const std::string& model, long created,
                       const std::string& delta, const char* finish) {
  using providers::append_json_string;
  std::string out = R"(data: {"choices":[{"delta":)" + delta + R"(,"finish_reason":)" + finish +
                    R"(,"index":0}],"created":)" + std::to_string(created) + R"(,"id":)";
  append_json_string(out, id);
  out += R"(,"model":)";
  append_json_string(out, model);
  out += R"(,"object":"chat.completion.chunk"})";
  return out + "\n\n";
}

}  // namespace

std::string tool_calls_chunk_events(const std::string& id, const std::string& model, long created,
                                    const std::vector<providers::ToolCall>& calls, bool first) {
  using providers::append_json_string;
  std::string delta = first ? R"({"role":"assistant","tool_calls":[)" : R"({"tool_calls":[)";
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (i) delta += ',';
    delta += R"({"index":)" + std::to_string(i) + R"(,"id":)";
    append_json_string(delta, calls[i].id);
    delta += R"(,"type":"function","function":{"name":)";
    append_json_string(delta, calls[i].name);
    delta += R"(,"arguments":)";
    append_json_string(delta, calls[i].arguments);
    delta += "}}";
  }
  delta += "]}";
  return chunk_with(id, model, created, delta, "null") +
         chunk_with(id, model, created, "{}", R"("tool_calls")");
}

std::string usage_chunk_event(const std::string& id, const std::string& model, long created,
                              const providers::ChatUsage& usage) {
  using providers::append_json_string;
  std::string out = R"(data: {"choices":[],"created":)" + std::to_string(created) + R"(,"id":)";
  append_json_string(out, id);
  out += R"(,"model":)";
  append_json_string(out, model);
  out += R"(,"object":"chat.completion.chunk","usage":{"completion_tokens":)" +
         std::to_string(usage.completion_tokens) + R"(,"prompt_tokens":)" +
         std::to_string(usage.prompt_tokens) + R"(,"total_tokens":)" +
         std::to_string(usage.total_tokens) + "}}";
  return out + "\n\n";
}

std::string chunk_event(const std::string& id, const std::string& model, long created,
                        const std::optional<std::string>& content, bool first, bool last,
                        std::string_view finish_reason) {
  using providers::append_json_string;
  std::string out;
  out.reserve((content ? content->size() : 0) + model.size() + id.size() + 192);
  out += R"(data: {"choices":[{"delta":{)";
  if (content) {
    out += R"("content":)";
    append_json_string(out, *content);
  }
  if (first) out += content ? R"(,"role":"assistant")" : R"("role":"assistant")";
  if (last) {
    out += R"(},"finish_reason":")";
    out += text_finish_reason(finish_reason);
    out += '"';
  } else {
    out += R"(},"finish_reason":null)";
  }
  out += R"(,"index":0}],"created":)";
  out += std::to_string(created);
  out += R"(,"id":)";
  append_json_string(out, id);
  out += R"(,"model":)";
  append_json_string(out, model);
  out += R"(,"object":"chat.completion.chunk"})";
  out += "\n\n";
  return out;
}

std::string models_json(const std::vector<std::string>& models) {
  json data = json::array();
  for (const auto& m : models) {
    data.push_back({{"id", m}, {"object", "model"}, {"created", 0}, {"owned_by", "hermes"}});
  }
  return dump(json{{"object", "list"}, {"data", data}});
}

bool bearer_matches(std::string_view authorization, std::string_view key) {
  // The scheme is case-insensitive (RFC 7235): "bearer", "BEARER" and "Bearer" alike.
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || authorization[kScheme.size()] != ' ' ||
      !equals_ignoring_case(authorization.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  std::string_view given = authorization.substr(kScheme.size() + 1);
  while (!given.empty() && given.front() == ' ') given.remove_prefix(1);
  return key_matches(given, key);
}

bool key_matches(std::string_view given, std::string_view key) {
  // Every byte of the longer string is looked at, so timing says nothing about the key.
  const std::size_t n = std::max(given.size(), key.size());
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < key.size() ? static_cast<unsigned char>(key[i]) : 0;
    diff = static_cast<unsigned char>(diff | (a ^ b));
  }
  return diff == 0;
}

std::string tool_share_note(long tool_tokens) {
  if (tool_tokens <= 0) return "";
  return " (about " + std::to_string(tool_tokens) +
         " of them the schemas of the gateway's tools; fewer are offered with tools.builtin, "
         "mcp_servers.<name>.tools.include or tools.max_tools)";
}

}  // namespace hermes::daemon
