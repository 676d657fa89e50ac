#include "daemon/platforms/api_server.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>

#include "daemon/agent/session_queue.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/providers/hint.hpp"
#include "daemon/providers/offload.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using providers::ChatMessage;

namespace {

constexpr const char* kSessionHeader = "X-Hermes-Session-Id";

long unix_now() {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
}

// Completion ids only need to be unique, not secret: one generator, seeded once.
std::string completion_id() {
  static std::mt19937_64 generator{std::random_device{}()};
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "chatcmpl-%016llx",
                static_cast<unsigned long long>(generator()));
  return buffer;
}

// What one request turns into: the session, and the messages to send upstream.
struct PreparedTurn {
  std::string session_id;
  bool new_session = false;
  ChatCompletionRequest request;
};

// State shared by a streamed turn's SSE writes.
struct StreamTurn {
  PreparedTurn prepared;
  std::shared_ptr<providers::AbortSignal> client_gone;
  std::string id = completion_id();
  std::string model;
  long created = unix_now();
  ResponseStream* out = nullptr;
  bool first = true;

  asio::awaitable<bool> on_delta(std::string delta) {
    const bool first_chunk = first;
    first = false;
    co_return co_await out->write(chunk_event(id, model, created, delta, first_chunk, false));
  }
};

}  // namespace

struct ApiServer::Impl {
  Impl(const Config& c, SessionStore& s, SessionQueue& q, TurnRunner& t)
      : config(c), store(s), queue(q), turns(t) {}

  std::vector<ChatMessage> upstream_messages(std::vector<ChatMessage> conversation) const {
    const bool has_system = !conversation.empty() && conversation.front().role == "system";
    if (!has_system && !config.agent.system_prompt.empty()) {
      conversation.insert(conversation.begin(), {"system", config.agent.system_prompt});
    }
    return conversation;
  }

  // What goes upstream: the stored history (a continued session) plus the new messages.
  asio::awaitable<std::vector<ChatMessage>> conversation(const PreparedTurn& turn) {
    const auto& messages = turn.request.messages;
    if (turn.new_session) co_return upstream_messages(messages);
    auto history = co_await store.history(turn.session_id);
    history.push_back(messages.back());
    co_return upstream_messages(std::move(history));
  }

  // The turn's rows in one transaction, durable before anything is replied: the session (when
  // new), the user's message(s), the answer. Null when stored; otherwise the error reply.
  asio::awaitable<std::optional<HttpResponse>> store_turn(const PreparedTurn& turn,
                                                          const TurnResult& result) {
    state::Transaction tx;
    const auto& messages = turn.request.messages;
    if (turn.new_session) {
      store.add_session(tx, turn.session_id, "api_server");
      for (const auto& m : messages) store.add_message(tx, turn.session_id, m);
    } else {
      store.add_message(tx, turn.session_id, messages.back());
      store.touch(tx, turn.session_id);
    }
    // Tool rounds and the answer, in order; a turn cut short keeps its complete rounds.
    for (const auto& message : result.transcript) store.add_message(tx, turn.session_id, message);
    // The drain cut it after complete tool rounds: the next process finishes the turn.
    if (result.interrupted && !result.transcript.empty()) {
      store.mark_resumable(tx, turn.session_id, "api_server");
    }
    // The client hung up: what the model had said is kept, marked as cut short.
    if (result.client_gone) {
      store.add_message(tx, turn.session_id, "assistant", result.content, "interrupted");
    }
    try {
      co_await store.commit(std::move(tx));
    } catch (const std::exception& e) {
      spdlog::error("api_server: session {}: the turn could not be stored: {}", turn.session_id,
                    e.what());
      co_return store_failed_response();
    }
    co_return std::nullopt;
  }

  TurnOptions options_for(const ChatCompletionRequest& request,
                          std::shared_ptr<providers::AbortSignal> client_gone) const {
    TurnOptions options;
    options.abort = std::move(client_gone);
    options.client_tools = request.tools;
    options.extra_fields = request.extra_fields;
    return options;
  }

  asio::awaitable<HttpResponse> chat_completions(HttpRequest request);
  asio::awaitable<void> stream_turn(std::uint64_t id, ResponseStream& out);

  Config config;
  SessionStore& store;
  SessionQueue& queue;
  TurnRunner& turns;
  // Streamed turns waiting for or in their producer. Owned here, by id, so the lambdas passed
  // through HttpResponse and DeltaSink carry no owning pointers: GCC 12 lost a reference count
  // when a shared_ptr captured there travelled through nested co_returns.
  std::map<std::uint64_t, std::unique_ptr<StreamTurn>> streams;
  std::uint64_t next_stream = 1;
};

asio::awaitable<HttpResponse> ApiServer::Impl::chat_completions(HttpRequest request) {
  std::variant<ChatCompletionRequest, HttpResponse> parsed;
  if (request.body.size() >= providers::kOffloadBytes) {
    std::function<void()> parse = [&parsed, &request] {
      parsed = parse_chat_completion_request(request.body);
    };
    co_await providers::offload(std::move(parse));
  } else {
    parsed = parse_chat_completion_request(request.body);
  }
  if (auto* error = std::get_if<HttpResponse>(&parsed)) co_return std::move(*error);
  PreparedTurn turn;
  turn.request = std::move(std::get<ChatCompletionRequest>(parsed));
  if (auto refused = unserved_model(config, turn.request.model)) co_return std::move(*refused);

  const std::string requested_session(request.header(kSessionHeader));
  if (!requested_session.empty()) {
    const bool known = co_await store.exists(requested_session);
    if (!known) {
      co_return json_error(404,
                           "Unknown session '" + requested_session.substr(0, 64) +
                               "'; omit X-Hermes-Session-Id to start a new one.",
                           "invalid_request_error", "session_not_found");
    }
    if (turn.request.messages.back().role != "user") {
      co_return json_error(400, "The last message must be the user's new turn.",
                           "invalid_request_error");
    }
    turn.session_id = requested_session;
  } else {
    turn.session_id = store.new_session_id();
    turn.new_session = true;
  }

  if (turn.request.stream) {
    const std::uint64_t id = next_stream++;
    auto streamed = std::make_unique<StreamTurn>();
    streamed->prepared = std::move(turn);
    streamed->client_gone = request.client_gone;
    streamed->model = config.model.default_model;
    streams.emplace(id, std::move(streamed));
    HttpResponse response;
    response.stream = [this, id](ResponseStream& out) { return stream_turn(id, out); };
    co_return response;
  }

  auto session_turn = co_await queue.wait_turn(turn.session_id);
  auto messages = co_await conversation(turn);
  TurnOptions options = options_for(turn.request, request.client_gone);  // named: GCC 12
  TurnResult result = co_await turns.run(std::move(messages), std::move(options));
  HttpResponse response;
  if (auto failed = co_await store_turn(turn, result)) {
    response = std::move(*failed);
  } else if (result.ok) {
    std::function<void()> write = [&response, &result] {
      response.body = completion_json(completion_id(), result.model, result.content, result.usage,
                                      unix_now(), result.client_tool_calls);
    };
    if (result.content.size() >= providers::kOffloadBytes) {
      co_await providers::offload(std::move(write));
    } else {
      write();
    }
  } else if (result.interrupted) {
    response = interrupted_response();
  } else if (result.client_gone) {
    response = client_gone_response();  // for the log and metrics: nobody reads it
  } else {
    response = failure_response(*result.failure);
  }
  response.headers.emplace_back(kSessionHeader, turn.session_id);
  co_return response;
}

asio::awaitable<void> ApiServer::Impl::stream_turn(std::uint64_t id, ResponseStream& out) {
  auto owned = streams.find(id);
  if (owned == streams.end()) co_return;
  // Kept alive to the end of this coroutine: moved out of the map, which may rehash meanwhile.
  std::unique_ptr<StreamTurn> holder = std::move(owned->second);
  streams.erase(owned);
  StreamTurn* turn = holder.get();
  turn->out = &out;
  out.headers.emplace_back(kSessionHeader, turn->prepared.session_id);
  auto session_turn = co_await queue.wait_turn(turn->prepared.session_id);
  auto messages = co_await conversation(turn->prepared);
  providers::DeltaSink sink = [turn](std::string delta) {
    return turn->on_delta(std::move(delta));
  };  // raw: owned above
  TurnOptions options = options_for(turn->prepared.request, turn->client_gone);
  options.sink = std::move(sink);
  TurnResult result = co_await turns.run(std::move(messages), std::move(options));

  // The end of the stream (and with it the answer) goes out only once the turn is stored.
  auto store_failure = co_await store_turn(turn->prepared, result);
  if (result.ok && !store_failure) {
    if (!result.client_tool_calls.empty()) {
      const bool first = turn->first;
      turn->first = false;
      co_await out.write(tool_calls_chunk_events(turn->id, turn->model, turn->created,
                                                 result.client_tool_calls, first));
    } else {
      if (turn->first) co_await turn->on_delta("");  // an empty answer still opens the stream
      co_await out.write(
          chunk_event(turn->id, turn->model, turn->created, std::nullopt, false, true));
    }
    if (turn->prepared.request.include_usage) {
      co_await out.write(usage_chunk_event(turn->id, turn->model, turn->created, result.usage));
    }
    co_await out.write("data: [DONE]\n\n");
    co_return;
  }
  if (result.client_gone && !store_failure) {  // nobody is left to tell
    if (!out.started()) out.instead = client_gone_response();
    co_return;
  }
  HttpResponse failure = store_failure        ? std::move(*store_failure)
                         : result.interrupted ? interrupted_response()
                                              : failure_response(*result.failure);
  failure.headers.emplace_back(kSessionHeader, turn->prepared.session_id);
  if (!out.started()) {
    out.instead = std::move(failure);
    co_return;
  }
  // Tokens already went out: end the stream with an error event, never a hang.
  co_await out.write("data: " + failure.body + "\n\n");
}

ApiServer::ApiServer(const Config& config, SessionStore& store, SessionQueue& queue,
                     TurnRunner& turns)
    : impl_(std::make_shared<Impl>(config, store, queue, turns)) {}
ApiServer::~ApiServer() = default;

asio::awaitable<void> ApiServer::resume_interrupted_turns() {
  auto impl = impl_;
  const auto sessions = co_await impl->store.resumable_sessions("api_server");
  for (const auto& id : sessions) {
    auto session_turn = co_await impl->queue.wait_turn(id);
    auto history = co_await impl->store.history(id);
    spdlog::info("api_server: session {}: resuming a turn a restart cut after its tool rounds", id);
    auto messages = impl->upstream_messages(std::move(history));
    TurnOptions options;  // named: GCC 12
    TurnResult result = co_await impl->turns.run(std::move(messages), std::move(options));
    state::Transaction tx;
    for (const auto& message : result.transcript) impl->store.add_message(tx, id, message);
    // Cut again by this process's drain: it stays to resume; otherwise it is done (answered,
    // or failed: the session then ends with its rounds and the next message goes on).
    if (!result.interrupted) impl->store.clear_resumable(tx, id);
    try {
      co_await impl->store.commit(std::move(tx));
    } catch (const std::exception& e) {
      spdlog::error("api_server: session {}: the resumed turn could not be stored: {}", id,
                    e.what());
    }
    spdlog::info("api_server: session {}: resumed turn {}", id,
                 result.ok            ? "answered"
                 : result.interrupted ? "cut again"
                                      : "failed");
  }
}

void ApiServer::reconfigure(const Config& config) {
  impl_->config = config;
}

bool ApiServer::authorized(const HttpRequest& request) const {
  const auto& key = impl_->config.gateway.api_server.key;
  return key.empty() || bearer_matches(request.header("Authorization"), key);
}

asio::awaitable<HttpResponse> ApiServer::models() {
  auto impl = impl_;
  std::vector<std::string> models{impl->config.model.default_model};
  for (const auto& f : impl->config.fallback_providers) {
    if (!f.model.empty() && std::find(models.begin(), models.end(), f.model) == models.end()) {
      models.push_back(f.model);
    }
  }
  HttpResponse response;
  response.body = models_json(models);
  co_return response;
}

asio::awaitable<HttpResponse> ApiServer::chat_completions(HttpRequest request) {
  auto impl = impl_;
  co_return co_await impl->chat_completions(std::move(request));
}

}  // namespace hermes::daemon
