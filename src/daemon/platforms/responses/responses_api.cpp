#include "daemon/platforms/responses/responses_api.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "daemon/agent/turn_runner.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/platforms/responses/response_store.hpp"
#include "daemon/platforms/responses/responses_protocol.hpp"
#include "daemon/providers/failover_reason.hpp"
#include "daemon/providers/hint.hpp"
#include "daemon/providers/offload.hpp"
#include "daemon/usage/budget_rules.hpp"

namespace hermes::daemon::responses {

namespace asio = boost::asio;
using providers::ChatMessage;

namespace {

constexpr std::string_view kInterruptedText =
    "The gateway restarted before the model answered; send the request again.";
constexpr std::string_view kClientGoneText =
    "The client disconnected before the answer was complete.";
constexpr std::string_view kStoreFailedText =
    "The gateway could not store this response; check the gateway's log and the disk holding "
    "state.db, then send it again.";

HttpResponse not_found(const std::string& message, std::string_view code,
                       std::string_view param = {}) {
  auto response = json_error(404, message, "invalid_request_error", code);
  if (!param.empty()) {
    // The same shape as a 400's: the field at fault named.
    auto body = nlohmann::json::parse(response.body);
    body["error"]["param"] = param;
    response.body = body.dump();
  }
  return response;
}

// A request ready to run: its id, the messages to send, what it adds to its chain.
struct PreparedResponse {
  ResponsesRequest request;
  std::string id;
  long created_at = 0;
  std::vector<ChatMessage> upstream;
};

// State shared by a streamed response's SSE writes.
struct StreamedResponse {
  PreparedResponse prepared;
  std::shared_ptr<providers::AbortSignal> client_gone;
  ResponseState state;
  ResponseEvents events;
  ResponseStream* out = nullptr;
  std::string streamed;

  asio::awaitable<bool> on_delta(std::string delta) {
    streamed += delta;
    std::string events_text = events.text_delta(state, delta);  // named: GCC 12
    co_return co_await out->write(std::move(events_text));
  }
};

}  // namespace

struct ResponsesApi::Impl {
  Impl(const Config& c, ResponseStore& s, TurnRunner& t)
      : config(c), store(s), turns(t), ids(std::random_device{}()) {}

  std::string new_id() {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    char id[5 + 12 + 32 + 1];
    std::snprintf(id, sizeof(id), "resp_%012llx%016llx%016llx",
                  static_cast<unsigned long long>(ms) & 0xFFFFFFFFFFFFull,
                  static_cast<unsigned long long>(ids()), static_cast<unsigned long long>(ids()));
    return id;
  }

  ResponseState state_of(const PreparedResponse& p, std::string status) const {
    ResponseState state;
    state.id = p.id;
    state.created_at = p.created_at;
    state.status = std::move(status);
    state.model = p.request.model.empty() ? config.model.default_model : p.request.model;
    state.previous_response_id = p.request.previous_response_id;
    state.echo = p.request.echo;
    return state;
  }

  // The outcome of a turn as the response's final state: completed, or failed with why.
  void settle(ResponseState& state, const TurnResult& result, const std::string& text) const {
    state.usage = result.usage;
    if (!result.model.empty()) state.model = result.model;
    if (result.ok) {
      state.status = "completed";
      state.text = text;
      state.calls = result.client_tool_calls;
      state.has_message = state.calls.empty() || !text.empty();
      return;
    }
    state.status = "failed";
    state.text = text;
    state.has_message = !text.empty();
    if (result.interrupted) {
      state.error_code = "interrupted";
      state.error_message = kInterruptedText;
    } else if (result.client_gone || !result.failure) {
      state.error_code = "client_gone";
      state.error_message = kClientGoneText;
    } else {
      state.error_code = std::string(providers::to_string(result.failure->reason));
      state.error_message = providers::hint(*result.failure);
    }
  }

  // Stores the response (unless store: false); false when that failed.
  asio::awaitable<bool> keep(const PreparedResponse& p, const ResponseState& state,
                             const TurnResult& result) {
    if (!p.request.store) co_return true;
    std::vector<ChatMessage> added = p.request.input;
    added.insert(added.end(), result.transcript.begin(), result.transcript.end());
    StoredResponse stored{p.id,
                          p.request.previous_response_id,
                          static_cast<double>(p.created_at),
                          response_json(state),
                          p.request.input_items,
                          conversation_json(added)};
    try {
      co_await store.save(std::move(stored));
      co_return true;
    } catch (const std::exception& e) {
      spdlog::error("api_server: response {} could not be stored: {}", p.id, e.what());
      co_return false;
    }
  }

  TurnOptions options_for(const PreparedResponse& p,
                          std::shared_ptr<providers::AbortSignal> client_gone) const {
    TurnOptions options;
    options.abort = std::move(client_gone);
    options.client_tools = p.request.tools;
    options.extra_fields = p.request.extra_fields;
    options.platform = "api_server";
    options.chat = "api_server:" + p.id;  // a chat budget counts each response on its own
    return options;
  }

  asio::awaitable<std::variant<PreparedResponse, HttpResponse>> prepare(HttpRequest& request);
  asio::awaitable<HttpResponse> answer(PreparedResponse prepared,
                                       std::shared_ptr<providers::AbortSignal> client_gone);
  asio::awaitable<void> stream(std::uint64_t id, ResponseStream& out);

  Config config;
  ResponseStore& store;
  TurnRunner& turns;
  std::mt19937_64 ids;
  // Streamed responses waiting for or in their producer, owned here by id (see ApiServer:
  // GCC 12 loses owning captures that travel through nested co_returns).
  std::map<std::uint64_t, std::unique_ptr<StreamedResponse>> streams;
  std::uint64_t next_stream = 1;
};

asio::awaitable<std::variant<PreparedResponse, HttpResponse>> ResponsesApi::Impl::prepare(
    HttpRequest& request) {
  PreparedResponse p;
  p.id = new_id();
  p.created_at = static_cast<long>(usage::unix_seconds_now());
  const std::string item_prefix = "item_" + p.id.substr(5);
  std::variant<ResponsesRequest, HttpResponse> parsed;
  if (request.body.size() >= providers::kOffloadBytes) {
    std::function<void()> parse = [&parsed, &request, &item_prefix] {
      parsed = parse_responses_request(request.body, item_prefix);
    };
    co_await providers::offload(std::move(parse));
  } else {
    parsed = parse_responses_request(request.body, item_prefix);
  }
  if (auto* error = std::get_if<HttpResponse>(&parsed)) co_return std::move(*error);
  p.request = std::move(std::get<ResponsesRequest>(parsed));
  if (auto refused = unserved_model(config, p.request.model)) co_return std::move(*refused);

  // Instructions stand for this request only (they are not carried along the chain).
  const std::string& system =
      p.request.instructions.empty() ? config.agent.system_prompt : p.request.instructions;
  if (!system.empty()) p.upstream.emplace_back("system", system);
  if (const auto& previous = p.request.previous_response_id; !previous.empty()) {
    StoredChain chain;
    try {
      chain = co_await store.chain(previous);
    } catch (const std::exception& e) {
      spdlog::error("api_server: reading the chain of {} failed: {}", previous, e.what());
      co_return store_failed_response();
    }
    switch (chain.state) {
      case StoredChain::State::unknown:
        co_return not_found("No response '" + previous.substr(0, 80) +
                                "' is stored here (it was deleted, created with store: false, "
                                "or never existed); leave previous_response_id out to start a "
                                "new conversation.",
                            "previous_response_not_found", "previous_response_id");
      case StoredChain::State::broken:
        co_return not_found("The conversation of '" + previous.substr(0, 80) +
                                "' continues from '" + chain.missing_id.substr(0, 80) +
                                "', which was deleted, so it cannot be continued; start a new "
                                "one.",
                            "previous_response_not_found", "previous_response_id");
      case StoredChain::State::too_long:
        co_return invalid_request("This conversation is longer than " +
                                      std::to_string(ResponseStore::kMaxChainLength) +
                                      " responses; start a new one.",
                                  "previous_response_id");
      case StoredChain::State::found:
        break;
    }
    for (const auto& conversation : chain.conversations) {
      if (!append_conversation(conversation, p.upstream)) {
        spdlog::error("api_server: a stored response in the chain of {} is unreadable", previous);
        co_return store_failed_response();
      }
    }
  }
  p.upstream.insert(p.upstream.end(), p.request.input.begin(), p.request.input.end());
  if (auto call_id = unanswered_tool_result(p.upstream)) {
    co_return invalid_request("The function_call_output for '" + call_id->substr(0, 80) +
                                  "' answers no function call in this input or its chain.",
                              "input");
  }
  co_return p;
}

asio::awaitable<HttpResponse> ResponsesApi::Impl::answer(
    PreparedResponse p, std::shared_ptr<providers::AbortSignal> client_gone) {
  auto messages = p.upstream;
  TurnOptions options = options_for(p, std::move(client_gone));  // named: GCC 12
  TurnResult result = co_await turns.run(std::move(messages), std::move(options));
  if (!result.ok) {
    if (result.interrupted) {
      auto response = json_error(503, kInterruptedText, "interrupted");
      response.headers.emplace_back("Retry-After", "1");
      co_return response;
    }
    if (result.client_gone || !result.failure) co_return client_gone_response();
    co_return failure_response(*result.failure);
  }
  ResponseState state = state_of(p, "completed");
  settle(state, result, result.content);
  const bool stored = co_await keep(p, state, result);
  if (!stored) co_return store_failed_response();
  HttpResponse response;
  response.body = response_json(state);
  co_return response;
}

asio::awaitable<void> ResponsesApi::Impl::stream(std::uint64_t id, ResponseStream& out) {
  auto owned = streams.find(id);
  if (owned == streams.end()) co_return;
  std::unique_ptr<StreamedResponse> holder = std::move(owned->second);
  streams.erase(owned);
  StreamedResponse* s = holder.get();
  s->out = &out;
  // The id goes out at once: a client sees progress before the first token.
  // Strings written are named variables: GCC 12 frees a temporary argument twice here.
  std::string head = s->events.started(s->state);
  const bool open = co_await out.write(std::move(head));
  if (!open) co_return;
  auto messages = s->prepared.upstream;
  providers::DeltaSink sink = [s](std::string delta) {
    return s->on_delta(std::move(delta));
  };  // raw: owned above
  TurnOptions options = options_for(s->prepared, s->client_gone);
  options.sink = std::move(sink);
  TurnResult result = co_await turns.run(std::move(messages), std::move(options));

  ResponseState final_state = s->state;
  // What the client was shown is the answer's text (tool rounds' words included).
  settle(final_state, result, s->streamed.empty() ? result.content : s->streamed);
  const bool stored = co_await keep(s->prepared, final_state, result);
  if (result.client_gone) co_return;  // nobody is left to tell
  if (!stored) {
    final_state.status = "failed";
    final_state.error_code = "state_store_failed";
    final_state.error_message = kStoreFailedText;
  }
  std::string tail = final_state.status == "completed" ? s->events.completed(final_state)
                                                       : s->events.failed(final_state);
  co_await out.write(std::move(tail));
}

ResponsesApi::ResponsesApi(const Config& config, ResponseStore& store, TurnRunner& turns)
    : impl_(std::make_shared<Impl>(config, store, turns)) {}
ResponsesApi::~ResponsesApi() = default;

void ResponsesApi::reconfigure(const Config& config) {
  impl_->config = config;
}

asio::awaitable<HttpResponse> ResponsesApi::create(HttpRequest request) {
  auto impl = impl_;
  auto prepared = co_await impl->prepare(request);
  if (auto* refusal = std::get_if<HttpResponse>(&prepared)) co_return std::move(*refusal);
  auto& p = std::get<PreparedResponse>(prepared);
  if (!p.request.stream) co_return co_await impl->answer(std::move(p), request.client_gone);
  const std::uint64_t id = impl->next_stream++;
  auto streamed = std::make_unique<StreamedResponse>();
  streamed->state = impl->state_of(p, "in_progress");
  streamed->prepared = std::move(p);
  streamed->client_gone = request.client_gone;
  impl->streams.emplace(id, std::move(streamed));
  HttpResponse response;
  Impl* raw = impl.get();  // lives as long as the API server
  response.stream = [raw, id](ResponseStream& out) { return raw->stream(id, out); };
  co_return response;
}

asio::awaitable<HttpResponse> ResponsesApi::retrieve(std::string id) {
  auto impl = impl_;
  auto object = co_await impl->store.object_json(id);
  if (!object) {
    co_return not_found("No response '" + id.substr(0, 80) + "' is stored here.",
                        "response_not_found");
  }
  HttpResponse response;
  response.body = std::move(*object);
  co_return response;
}

asio::awaitable<HttpResponse> ResponsesApi::remove(std::string id) {
  auto impl = impl_;
  const bool removed = co_await impl->store.remove(id);
  if (!removed) {
    co_return not_found("No response '" + id.substr(0, 80) + "' is stored here.",
                        "response_not_found");
  }
  HttpResponse response;
  response.body = nlohmann::json{{"id", id}, {"object", "response"}, {"deleted", true}}.dump();
  co_return response;
}

asio::awaitable<HttpResponse> ResponsesApi::input_items(std::string id, std::string query) {
  auto impl = impl_;
  auto items = co_await impl->store.input_items_json(id);
  if (!items) {
    co_return not_found("No response '" + id.substr(0, 80) + "' is stored here.",
                        "response_not_found");
  }
  auto page = input_items_page(*items, query);
  if (auto* error = std::get_if<HttpResponse>(&page)) co_return std::move(*error);
  HttpResponse response;
  response.body = std::move(std::get<std::string>(page));
  co_return response;
}

}  // namespace hermes::daemon::responses
