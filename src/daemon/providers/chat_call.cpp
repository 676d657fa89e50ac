#include "daemon/providers/chat_call.hpp"

#include <functional>
#include <memory>

#include "daemon/providers/json_text.hpp"
#include "daemon/providers/offload.hpp"

namespace hermes::providers {

namespace {

// Turns SSE events into deltas for the sink, remembering how the stream ended.
struct StreamState {
  DeltaSink sink;
  bool anthropic = false;  // the events are Anthropic's (message_start, content_block_delta, …)
  std::string content;
  std::vector<ToolCall> tool_calls;  // by the stream's index
  ChatUsage usage;
  std::string finish_reason;
  bool done = false;
  bool delivered = false;
  bool reader_gone = false;
  std::string error_event;  // an {"error": …} event, kept for the classifier
  bool malformed = false;
  std::chrono::steady_clock::time_point sent = std::chrono::steady_clock::now();
  std::optional<std::chrono::duration<double>> first_token;

  boost::asio::awaitable<bool> on_event(std::string data) {
    StreamEvent event = anthropic ? parse_messages_stream_event(data) : parse_stream_event(data);
    if (event.malformed) {
      malformed = true;
      co_return false;
    }
    if (event.is_error) {
      error_event = std::move(data);
      co_return false;
    }
    if (event.usage) merge_usage(*event.usage);
    if (!event.finish_reason.empty()) finish_reason = std::move(event.finish_reason);
    if (!first_token && (!event.delta.empty() || !event.tool_calls.empty())) {
      first_token = std::chrono::steady_clock::now() - sent;
    }
    for (auto& piece : event.tool_calls) {
      if (tool_calls.size() <= piece.index) tool_calls.resize(piece.index + 1);
      auto& call = tool_calls[piece.index];
      if (!piece.id.empty()) call.id = std::move(piece.id);
      if (!piece.name.empty()) call.name = std::move(piece.name);
      call.arguments += piece.arguments;
    }
    if (event.done) {
      done = true;
      co_return true;
    }
    if (event.delta.empty()) co_return true;
    content += event.delta;
    delivered = true;
    if (!co_await sink(event.delta)) {
      reader_gone = true;
      co_return false;
    }
    co_return true;
  }

  // OpenAI sends the counts once; Anthropic sends input in message_start and output in
  // message_delta: a count an event carries replaces the one before.
  void merge_usage(const ChatUsage& counts) {
    if (counts.prompt_tokens) usage.prompt_tokens = counts.prompt_tokens;
    if (counts.completion_tokens) usage.completion_tokens = counts.completion_tokens;
    if (counts.cache_write_tokens) usage.cache_write_tokens = counts.cache_write_tokens;
    if (counts.cache_read_tokens) usage.cache_read_tokens = counts.cache_read_tokens;
    usage.total_tokens = counts.total_tokens > usage.prompt_tokens + usage.completion_tokens
                             ? counts.total_tokens
                             : usage.prompt_tokens + usage.completion_tokens;
  }
};

// The request body in the provider's format; for Anthropic, an empty body and the refusal
// when a field cannot be expressed there.
AnthropicRequest write_body(const ChatCall& call) {
  const bool stream = static_cast<bool>(call.sink);
  if (call.anthropic) {
    return build_messages_request(call.model, call.messages, stream, call.tools, call.extra_fields,
                                  *call.anthropic);
  }
  AnthropicRequest out;
  out.body = build_chat_request(call.model, call.messages, stream, call.tools, call.extra_fields);
  return out;
}

// The HTTP request for `call`; a large conversation is serialised off the loop.
boost::asio::awaitable<HttpCall> prepare_request(const ChatCall& call, std::string& refusal) {
  HttpCall http;
  if (call.anthropic) {
    http.url = call.base_url + "/messages";
    if (!call.api_key.empty()) http.headers.emplace_back("x-api-key", call.api_key);
    http.headers.emplace_back("anthropic-version", "2023-06-01");
  } else {
    http.url = call.base_url + "/chat/completions";
    if (!call.api_key.empty()) http.headers.emplace_back("Authorization", "Bearer " + call.api_key);
  }
  std::size_t conversation_bytes = 0;
  for (const auto& m : call.messages) conversation_bytes += m.content.size();
  std::function<void()> write = [&http, &call, &refusal] {
    AnthropicRequest written = write_body(call);
    http.body = std::move(written.body);
    refusal = std::move(written.refusal);
  };
  if (conversation_bytes >= kOffloadBytes) {
    co_await offload(std::move(write));
  } else {
    write();
  }
  http.timeout = call.timeout;
  http.idle_timeout = call.idle_timeout;
  http.abort = call.abort;
  co_return http;
}

// A request the provider's format cannot carry fails like the provider's own 400 would, so
// the failover may try a provider that takes it.
ChatCallResult refused_request(const std::string& refusal, const std::string& model) {
  ChatCallResult result;
  result.error.status = 400;
  result.error.body = R"({"type":"error","error":{"type":"invalid_request_error","message":)";
  append_json_string(result.error.body, refusal);
  result.error.body += "}}";
  result.error.model = model;
  return result;
}

// The state a streamed answer builds up; null when the caller asked for no stream.
std::shared_ptr<StreamState> open_stream(const ChatCall& call) {
  if (!call.sink) return nullptr;
  auto stream = std::make_shared<StreamState>();
  stream->sink = call.sink;
  stream->anthropic = call.anthropic.has_value();
  return stream;
}

EventSink event_sink_for(const std::shared_ptr<StreamState>& stream) {
  if (!stream) return nullptr;
  return [stream](std::string data) { return stream->on_event(std::move(data)); };
}

// A result that is not ok yet, its error describing the reply for the classifier.
ChatCallResult result_for(const HttpReply& reply, const std::string& model) {
  ChatCallResult result;
  result.error.status = reply.status;
  result.error.headers = reply.headers;
  result.error.body = reply.body;
  result.error.transport = reply.failure;
  result.error.transport_detail = reply.failure_detail;
  result.error.model = model;
  return result;
}

// Moves what the stream gathered into `result`. True when the stream itself failed (an error
// event or one that is not JSON): `result` is then final.
bool take_stream(StreamState& stream, ChatCallResult& result) {
  result.partial_stream = stream.delivered;
  result.reader_gone = stream.reader_gone;
  result.content = stream.content;
  for (auto& c : stream.tool_calls) {
    if (c.name.empty()) continue;
    if (c.arguments.empty()) c.arguments = "{}";  // a tool_use without input deltas
    result.tool_calls.push_back(std::move(c));
  }
  result.usage = stream.usage;
  result.finish_reason = stream.finish_reason;
  result.first_token = stream.first_token;
  if (!stream.error_event.empty()) {
    result.error.body = stream.error_event;  // classified like any error body
    result.error.status = 0;
    result.error.transport = TransportFailure::none;
    return true;
  }
  if (stream.malformed) {
    result.error.transport = TransportFailure::malformed_body;
    result.error.transport_detail = "the provider sent an event that is not JSON";
    return true;
  }
  return false;
}

// An unstreamed answer's body; a large one is parsed off the loop.
boost::asio::awaitable<std::optional<ParsedCompletion>> read_completion(const std::string& body,
                                                                        bool anthropic) {
  std::optional<ParsedCompletion> parsed;
  std::function<void()> read_body = [&parsed, &body, anthropic] {
    parsed = anthropic ? parse_messages_response(body) : parse_chat_completion(body);
  };
  if (body.size() >= kOffloadBytes) {
    co_await offload(std::move(read_body));
  } else {
    read_body();
  }
  co_return parsed;
}

}  // namespace

boost::asio::awaitable<ChatCallResult> call_chat(HttpClient& client, ChatCall call) {
  std::string refusal;
  HttpCall http = co_await prepare_request(call, refusal);
  if (!refusal.empty()) co_return refused_request(refusal, call.model);
  const auto sent = std::chrono::steady_clock::now();
  const std::shared_ptr<StreamState> stream = open_stream(call);
  const EventSink events = event_sink_for(stream);  // named: GCC 12
  HttpReply reply = co_await client.post(std::move(http), events);

  ChatCallResult result = result_for(reply, call.model);
  if (stream && take_stream(*stream, result)) co_return result;
  if (reply.failure != TransportFailure::none || reply.status < 200 || reply.status > 299) {
    co_return result;
  }
  // A stream that ended cleanly is an answer, with or without [DONE] (some providers omit it).
  if (stream && (stream->delivered || stream->done || !result.tool_calls.empty())) {
    result.ok = true;
    co_return result;
  }
  std::optional<ParsedCompletion> parsed =
      co_await read_completion(reply.body, call.anthropic.has_value());
  if (!parsed) {
    result.error.transport = TransportFailure::malformed_body;
    result.error.transport_detail = call.anthropic
                                        ? "the provider's reply is not a message"
                                        : "the provider's reply is not a chat completion";
    co_return result;
  }
  result.ok = true;
  result.first_token = std::chrono::steady_clock::now() - sent;
  result.content = std::move(parsed->content);
  result.tool_calls = std::move(parsed->tool_calls);
  result.usage = parsed->usage;
  result.finish_reason = std::move(parsed->finish_reason);
  co_return result;
}

}  // namespace hermes::providers
