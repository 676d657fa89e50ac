#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

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
  std::string model;  // informational; the gateway answers with its configured model
};

// A valid request, or the 400 answer saying what is wrong (which field, what was expected).
std::variant<ChatCompletionRequest, HttpResponse> parse_chat_completion_request(
    std::string_view body);

// The answer for a turn that failed after all recovery: the hint as message, the failover
// reason as type, the upstream status as code; 402/429(+Retry-After)/503/504/400/502.
HttpResponse failure_response(const providers::Classification& failure);
int failure_status(providers::FailoverReason reason);

HttpResponse interrupted_response();
// 499 (nginx's "client closed request"): what a turn whose client hung up is logged and
// counted as; it never reaches anyone.
HttpResponse client_gone_response();
// 401 for a missing or wrong `Authorization: Bearer <key>`.
HttpResponse unauthorized_response();
inline constexpr std::string_view kInterruptedMessage =
    "The gateway restarted before the model answered. Your message is saved in this session; "
    "send it again to continue.";

std::string completion_json(const std::string& id, const std::string& model,
                            const std::string& content, const providers::ChatUsage& usage,
                            long created);
// One `data: …\n\n` SSE event of a chat.completion.chunk.
std::string chunk_event(const std::string& id, const std::string& model, long created,
                        const std::optional<std::string>& content, bool first, bool last);
std::string models_json(const std::vector<std::string>& models);

// Constant-time check of `Authorization: Bearer <key>`.
bool bearer_matches(std::string_view authorization, std::string_view key);

}  // namespace hermes::daemon
