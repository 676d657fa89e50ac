#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/config.hpp"
#include "daemon/platforms/http_types.hpp"
#include "daemon/providers/classification.hpp"
#include "daemon/providers/openai_chat.hpp"

namespace hermes::daemon {

// The most messages one chat-completions request may carry (a 400 beyond).
inline constexpr std::size_t kMaxMessagesPerRequest = 1000;

// The OpenAI-compatible surface of the API server platform, as pure functions.

struct ChatCompletionRequest {
  std::vector<providers::ChatMessage> messages;
  bool stream = false;
  std::string model;  // "" when not given; the API server checks it against what it serves
  std::string tools;  // the client's own tools (JSON array text); "" for none
  // The sampling and output parameters to pass on (`"temperature":0.2,…`), and
  // tool_choice/parallel_tool_calls with client tools.
  std::string extra_fields;
  bool include_usage = false;  // stream_options.include_usage: a last chunk with the usage
};

// A valid request, or the 400 answer saying what is wrong (which field, what was expected).
std::variant<ChatCompletionRequest, HttpResponse> parse_chat_completion_request(
    std::string_view body);

// The 400 naming the first sampling field (`extra_fields`, OpenAI's names) that the primary
// provider's wire format has no place for (Anthropic's has no seed, penalties or JSON mode);
// nothing when the primary takes them all. Checked before any call: the answer must not depend
// on which provider happens to be up (a fallback of another kind would take the field).
std::optional<HttpResponse> unmappable_for_primary(const Config& config,
                                                   const std::string& extra_fields);

// A request body as a JSON object, or the 400 (OpenAI's shape) saying why it is not one: too
// deeply nested (refused before any tree is built), not JSON, or not an object. Every API the
// server speaks reads its body through this.
std::variant<nlohmann::json, HttpResponse> parse_body_object(std::string_view body);
// Appends `"name":value` to a request's extra fields (the members passed to the provider).
void add_extra_field(std::string& extra_fields, std::string_view name, const nlohmann::json& value);

// A 400 invalid_request_error naming the field (`param`) at fault.
HttpResponse invalid_request(const std::string& message, const std::string& param);

// ", about N of them the schemas of the gateway's tools (…max_tools)" when tools take part
// of a request too big for the model; "" when they take none.
std::string tool_share_note(long tool_tokens);
// The 404 model_not_found for a model the gateway does not answer with (its default or a
// fallback's); nothing for "" (not given) or a served one.
std::optional<HttpResponse> unserved_model(const Config& config, const std::string& model);

// The answer for a turn that failed after all recovery: the hint as message, the failover
// reason as type, the upstream status as code; 402/429(+Retry-After)/503/504/400/502.
HttpResponse failure_response(const providers::Classification& failure);
int failure_status(providers::FailoverReason reason);

HttpResponse interrupted_response();
// 500 state_store_failed: the turn could not be stored, so it is not answered.
// The database (PostgreSQL) is down or restarting: 503 with Retry-After.
HttpResponse store_unavailable_response();
HttpResponse store_failed_response();
// 499 (nginx's "client closed request"): what a turn whose client hung up is logged and
// counted as; it never reaches anyone.
HttpResponse client_gone_response();
// The turn was stopped by someone else (the dashboard's Stop): 400, so no client retries it.
HttpResponse stopped_response();
// 401 for a missing or wrong `Authorization: Bearer <key>`.
HttpResponse unauthorized_response();
inline constexpr std::string_view kInterruptedMessage =
    "The gateway restarted before the model answered. Your message is saved in this session; "
    "send it again to continue.";

// `tool_calls` set: the answer asks the client to run them (finish_reason "tool_calls").
// Otherwise finish_reason is "stop", or "length" / "content_filter" when the provider said so
// (`finish_reason`, OpenAI's words: an answer cut at max_tokens is not reported as complete).
std::string completion_json(const std::string& id, const std::string& model,
                            const std::string& content, const providers::ChatUsage& usage,
                            long created, const std::vector<providers::ToolCall>& tool_calls = {},
                            std::string_view finish_reason = {});
// The finish_reason an answer without tool calls reports: "length" and "content_filter" as
// the provider said, anything else "stop".
std::string_view text_finish_reason(std::string_view finish_reason);
// The streamed form of an answer's tool calls: one chunk with every call (each with its index,
// id, name and whole arguments), then the chunk that ends the choice with "tool_calls".
std::string tool_calls_chunk_events(const std::string& id, const std::string& model, long created,
                                    const std::vector<providers::ToolCall>& calls, bool first);
// The last chunk of a stream whose client asked for stream_options.include_usage.
std::string usage_chunk_event(const std::string& id, const std::string& model, long created,
                              const providers::ChatUsage& usage);
// One `data: …\n\n` SSE event of a chat.completion.chunk.
// `last`: the chunk ends the choice, with text_finish_reason(`finish_reason`).
std::string chunk_event(const std::string& id, const std::string& model, long created,
                        const std::optional<std::string>& content, bool first, bool last,
                        std::string_view finish_reason = {});
std::string models_json(const std::vector<std::string>& models);

// Constant-time check of `Authorization: Bearer <key>`.
bool bearer_matches(std::string_view authorization, std::string_view key);
// Constant-time comparison of a presented key (x-api-key) with the configured one.
bool key_matches(std::string_view given, std::string_view key);

}  // namespace hermes::daemon
