#include "daemon/providers/chat_call.hpp"

#include <functional>
#include <memory>

#include "daemon/providers/offload.hpp"

namespace hermes::providers {

namespace {

// Turns SSE events into deltas for the sink, remembering how the stream ended.
struct StreamState {
  DeltaSink sink;
  std::string content;
  std::vector<ToolCall> tool_calls;  // by the stream's index
  ChatUsage usage;
  bool done = false;
  bool delivered = false;
  bool reader_gone = false;
  std::string error_event;  // an {"error": …} event, kept for the classifier
  bool malformed = false;
  std::chrono::steady_clock::time_point sent = std::chrono::steady_clock::now();
  std::optional<std::chrono::duration<double>> first_token;

  boost::asio::awaitable<bool> on_event(std::string data) {
    const StreamEvent event = parse_stream_event(data);
    if (event.malformed) {
      malformed = true;
      co_return false;
    }
    if (event.is_error) {
      error_event = std::move(data);
      co_return false;
    }
    if (event.usage) usage = *event.usage;
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
};

// The HTTP request for `call`; a large conversation is serialised off the loop.
boost::asio::awaitable<HttpCall> prepare_request(const ChatCall& call) {
  HttpCall http;
  http.url = call.base_url + "/chat/completions";
  if (!call.api_key.empty()) http.headers.emplace_back("Authorization", "Bearer " + call.api_key);
  std::size_t conversation_bytes = 0;
  for (const auto& m : call.messages) conversation_bytes += m.content.size();
  std::function<void()> write_body = [&http, &call] {
    http.body = build_chat_request(call.model, call.messages, static_cast<bool>(call.sink),
                                   call.tools, call.extra_fields);
  };
  if (conversation_bytes >= kOffloadBytes) {
    co_await offload(std::move(write_body));
  } else {
    write_body();
  }
  http.timeout = call.timeout;
  http.abort = call.abort;
  co_return http;
}

// The state a streamed answer builds up; null when the caller asked for no stream.
std::shared_ptr<StreamState> open_stream(const DeltaSink& sink) {
  if (!sink) return nullptr;
  auto stream = std::make_shared<StreamState>();
  stream->sink = sink;
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
    if (!c.name.empty()) result.tool_calls.push_back(std::move(c));
  }
  result.usage = stream.usage;
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
boost::asio::awaitable<std::optional<ParsedCompletion>> read_completion(const std::string& body) {
  std::optional<ParsedCompletion> parsed;
  std::function<void()> read_body = [&parsed, &body] { parsed = parse_chat_completion(body); };
  if (body.size() >= kOffloadBytes) {
    co_await offload(std::move(read_body));
  } else {
    read_body();
  }
  co_return parsed;
}

}  // namespace

boost::asio::awaitable<ChatCallResult> call_chat(HttpClient& client, ChatCall call) {
  HttpCall http = co_await prepare_request(call);
  const auto sent = std::chrono::steady_clock::now();
  const std::shared_ptr<StreamState> stream = open_stream(call.sink);
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
  std::optional<ParsedCompletion> parsed = co_await read_completion(reply.body);
  if (!parsed) {
    result.error.transport = TransportFailure::malformed_body;
    result.error.transport_detail = "the provider's reply is not a chat completion";
    co_return result;
  }
  result.ok = true;
  result.first_token = std::chrono::steady_clock::now() - sent;
  result.content = std::move(parsed->content);
  result.tool_calls = std::move(parsed->tool_calls);
  result.usage = parsed->usage;
  co_return result;
}

}  // namespace hermes::providers
