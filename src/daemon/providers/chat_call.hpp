#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "daemon/providers/anthropic_messages.hpp"
#include "daemon/providers/http_client.hpp"
#include "daemon/providers/openai_chat.hpp"
#include "daemon/providers/provider_error.hpp"

namespace hermes::providers {

// Receives content deltas of a streamed answer; returns false when the reader is gone.
using DeltaSink = std::function<boost::asio::awaitable<bool>(std::string)>;

struct ChatCall {
  std::string base_url;  // e.g. https://api.openai.com/v1
  std::string api_key;   // empty: no Authorization header
  std::string model;
  std::span<const ChatMessage> messages;  // the caller's, alive until the call returns
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};  // the whole call at most
  // Set: the limit on the provider's silence (to its first byte, then between bytes).
  std::optional<std::chrono::milliseconds> idle_timeout;
  std::string tools;         // the request's tools array as JSON text; "" offers none
  std::string extra_fields;  // a client's sampling parameters, as build_chat_request takes them
  DeltaSink sink;            // set: ask for a stream and pass deltas on
  std::shared_ptr<AbortSignal> abort;  // set: aborting it ends the call at once
  // Set: the provider speaks Anthropic's Messages API (POST {base_url}/messages) instead.
  std::optional<AnthropicOptions> anthropic;
};

struct ChatCallResult {
  bool ok = false;
  std::string content;
  std::vector<ToolCall> tool_calls;  // what the model asked to run (then content may be empty)
  ChatUsage usage;
  std::string finish_reason;    // OpenAI's words (stop, length, tool_calls); "" when not said
  ProviderError error;          // when !ok; for the classifier
  bool partial_stream = false;  // deltas already reached the sink before the failure
  bool reader_gone = false;     // the sink refused more (client disconnected)
  // From sending the request to the first streamed token (or, unstreamed, the whole answer).
  std::optional<std::chrono::duration<double>> first_token;
};

// One chat completion on one provider with one key, in the provider's wire format.
boost::asio::awaitable<ChatCallResult> call_chat(HttpClient& client, ChatCall call);

}  // namespace hermes::providers
