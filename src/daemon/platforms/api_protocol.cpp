#include "daemon/platforms/api_protocol.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "daemon/providers/hint.hpp"
#include "daemon/providers/json_text.hpp"

namespace hermes::daemon {

namespace {

using nlohmann::json;
using providers::FailoverReason;

HttpResponse bad_request(const std::string& message, const std::string& param) {
  auto response = json_error(400, message, "invalid_request_error");
  auto body = json::parse(response.body);
  body["error"]["param"] = param;
  response.body = body.dump();
  return response;
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::variant<ChatCompletionRequest, HttpResponse> parse_chat_completion_request(
    std::string_view body) {
  // A chat request is a few levels deep; a bomb is refused before any tree is built.
  constexpr int kMaxNesting = 64;
  if (providers::json_nesting_exceeds(body, kMaxNesting)) {
    return bad_request("The request body nests arrays or objects deeper than " +
                           std::to_string(kMaxNesting) + " levels.",
                       "");
  }
  const json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return bad_request("The request body is not valid JSON.", "");
  if (!parsed.is_object()) return bad_request("The request body must be a JSON object.", "");
  ChatCompletionRequest request;
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
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return bad_request(where + " must be an object.", where);
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string()) {
      return bad_request(where + ".role must be a string.", where + ".role");
    }
    const std::string r = role->get<std::string>();
    if (r != "system" && r != "user" && r != "assistant" && r != "developer") {
      return bad_request(where + ".role must be system, user or assistant.", where + ".role");
    }
    std::string content;
    const auto c = m.find("content");
    if (c == m.end() || c->is_null()) {
      content = "";
    } else if (c->is_string()) {
      content = c->get<std::string>();
    } else if (c->is_array()) {
      // Content parts: the text parts, joined (images are not passed on by this gateway).
      for (const auto& part : *c) {
        if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
            part["text"].is_string()) {
          if (!content.empty()) content += "\n";
          content += part["text"].get<std::string>();
        }
      }
    } else {
      return bad_request(where + ".content must be a string or an array of parts.",
                         where + ".content");
    }
    request.messages.push_back({r == "developer" ? "system" : r, std::move(content)});
  }
  if (auto stream = parsed.find("stream"); stream != parsed.end() && !stream->is_null()) {
    if (!stream->is_boolean()) return bad_request("'stream' must be true or false.", "stream");
    request.stream = stream->get<bool>();
  }
  if (auto model = parsed.find("model"); model != parsed.end() && model->is_string()) {
    request.model = model->get<std::string>();
  }
  return request;
}

int failure_status(FailoverReason reason) {
  switch (reason) {
    case FailoverReason::billing:
      return 402;
    case FailoverReason::rate_limit:
    case FailoverReason::upstream_rate_limit:
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

HttpResponse client_gone_response() {
  return json_error(499, "The client closed the connection before the answer was complete.",
                    "client_closed_request");
}

// The two bodies every answer produces are written straight into one buffer, keys in the
// same (sorted) order nlohmann would give them.
std::string completion_json(const std::string& id, const std::string& model,
                            const std::string& content, const providers::ChatUsage& usage,
                            long created) {
  using providers::append_json_string;
  std::string out;
  out.reserve(content.size() + model.size() + id.size() + 256);
  out += R"({"choices":[{"finish_reason":"stop","index":0,"message":{"content":)";
  append_json_string(out, content);
  out += R"(,"role":"assistant"}}],"created":)";
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

std::string chunk_event(const std::string& id, const std::string& model, long created,
                        const std::optional<std::string>& content, bool first, bool last) {
  using providers::append_json_string;
  std::string out;
  out.reserve((content ? content->size() : 0) + model.size() + id.size() + 192);
  out += R"(data: {"choices":[{"delta":{)";
  if (content) {
    out += R"("content":)";
    append_json_string(out, *content);
  }
  if (first) out += content ? R"(,"role":"assistant")" : R"("role":"assistant")";
  out += last ? R"(},"finish_reason":"stop")" : R"(},"finish_reason":null)";
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

}  // namespace hermes::daemon
