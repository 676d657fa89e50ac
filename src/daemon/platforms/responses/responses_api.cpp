#include "daemon/platforms/responses/responses_api.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "daemon/agent/conversation.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/platforms/responses/response_store.hpp"
#include "daemon/platforms/responses/responses_protocol.hpp"
#include "daemon/providers/failover_reason.hpp"
#include "daemon/providers/hint.hpp"
#include "daemon/providers/offload.hpp"

namespace hermes::daemon::responses {

namespace asio = boost::asio;
using providers::ChatMessage;

namespace {

// An input that does not fit the model's context window even with its chain compacted: the
// client's to shorten (a 400, as chat completions answers), never sent upstream.
std::string too_big_text(const ConversationResult& taken) {
  return "This input is about " + std::to_string(taken.tokens) + " tokens with its chain" +
         tool_share_note(taken.tool_tokens) + ", more than the model's context window of " +
         std::to_string(taken.context_window) + "; send a shorter input.";
}

HttpResponse input_too_big(const ConversationResult& taken) {
  return json_error(400, too_big_text(taken), "invalid_request_error", "context_length_exceeded");
}

constexpr std::string_view kInterruptedText =
    "The gateway restarted before the model answered; send the request again.";
constexpr std::string_view kClientGoneText =
    "The client disconnected before the answer was complete.";
constexpr std::string_view kStoppedText =
    "The run was stopped before it finished (Stop in the gateway's dashboard).";
constexpr std::string_view kStoreFailedText =
    "The gateway could not store this response; check the gateway's log and the disk holding "
    "state.db, then send it again.";

// A PlatformRows step with nothing to wait for.
asio::awaitable<void> nothing_more() {
  co_return;
}

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

// A request ready to run: its id, what its chain said before it, its own input.
struct PreparedResponse {
  ResponsesRequest request;
  std::string id;
  long created_at = 0;
  std::string system;  // the instructions, or the configured system prompt
  std::vector<ChatMessage> chain;
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

// What the chain keeps of a turn: its input and transcript, or, when the conversation had to
// be compacted, everything that was sent (the summary first, without the system prompt) and
// the transcript, standing for all that came before.
std::string kept_conversation(const ConversationResult& taken,
                              const std::vector<ChatMessage>& input, bool has_prefix) {
  const auto& result = taken.result;
  if (!taken.fitted.compacted) {
    std::vector<ChatMessage> added = input;
    added.insert(added.end(), result.transcript.begin(), result.transcript.end());
    return conversation_json(added);
  }
  const auto& sent = taken.fitted.messages;
  std::vector<ChatMessage> added(sent.begin() + (has_prefix && !sent.empty() ? 1 : 0), sent.end());
  added.insert(added.end(), result.transcript.begin(), result.transcript.end());
  return conversation_json(added, true);
}

}  // namespace

struct ResponsesApi::Impl {
  Impl(const Config& c, ResponseStore& s, Conversation& v)
      : config(c), store(s), conversation(v), ids(std::random_device{}()) {}

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
  static void settle(ResponseState& state, const TurnResult& result, const std::string& text) {
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
    } else if (result.stopped) {
      state.error_code = "run_stopped";
      state.error_message = kStoppedText;
    } else if (result.client_gone || !result.failure) {
      state.error_code = "client_gone";
      state.error_message = kClientGoneText;
    } else {
      state.error_code = std::string(providers::to_string(result.failure->reason));
      state.error_message = providers::hint(*result.failure);
    }
  }

  // The response as a row of the turn's transaction (unless store: false): its final state,
  // or in_progress when the drain cut it after complete tool rounds (the next process
  // finishes it). `keep_failures`: a failed turn is stored too (a streamed one was shown).
  void add_response(state::Transaction& tx, const PreparedResponse& p,
                    const ConversationResult& taken, ResponseState& state, const std::string& text,
                    bool keep_failures) {
    if (taken.end.mark == TurnMark::resumable) {
      state.status = "in_progress";
    } else {
      settle(state, taken.result, text);
    }
    if (!p.request.store) return;
    const bool resumable = taken.end.mark == TurnMark::resumable;
    if (!taken.result.ok && !resumable && !keep_failures) return;
    StoredResponse stored{p.id,
                          p.request.previous_response_id,
                          static_cast<double>(p.created_at),
                          response_json(state),
                          p.request.input_items,
                          kept_conversation(taken, p.request.input, !p.system.empty()),
                          resumable};
    store.add(tx, std::move(stored));
  }

  TurnOptions options_for(const PreparedResponse& p,
                          std::shared_ptr<providers::AbortSignal> client_gone) const {
    TurnOptions options;
    options.abort = std::move(client_gone);
    options.client_tools = p.request.tools;
    options.extra_fields = p.request.extra_fields;
    options.chat = "api_server:" + p.id;  // a chat budget counts each response on its own
    return options;
  }

  ConversationTurn turn_of(const PreparedResponse& p) const {
    ConversationTurn turn;
    turn.platform = "api_server";
    turn.chat_key = "response " + p.id;  // what the core's log lines name
    turn.own_history = p.chain;
    turn.system_prompt = p.system;
    turn.fresh = p.request.input;
    return turn;
  }

  asio::awaitable<std::variant<PreparedResponse, HttpResponse>> prepare(HttpRequest& request);
  asio::awaitable<std::optional<HttpResponse>> read_chain(const std::string& previous,
                                                          std::vector<ChatMessage>& chain);
  asio::awaitable<HttpResponse> answer(PreparedResponse prepared,
                                       std::shared_ptr<providers::AbortSignal> client_gone);
  asio::awaitable<void> stream(std::uint64_t id, ResponseStream& out);
  asio::awaitable<void> resume(StoredResponse cut);

  Config config;
  ResponseStore& store;
  Conversation& conversation;
  std::mt19937_64 ids;
  // Streamed responses waiting for or in their producer, owned here by id (see ApiServer:
  // GCC 12 loses owning captures that travel through nested co_returns).
  std::map<std::uint64_t, std::unique_ptr<StreamedResponse>> streams;
  std::uint64_t next_stream = 1;
};

// What the chain ending at `previous` said, oldest first (from its last compaction on);
// otherwise the reply saying why it cannot be continued.
asio::awaitable<std::optional<HttpResponse>> ResponsesApi::Impl::read_chain(
    const std::string& previous, std::vector<ChatMessage>& messages) {
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
      co_return not_found("The conversation of '" + previous.substr(0, 80) + "' continues from '" +
                              chain.missing_id.substr(0, 80) +
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
  for (const auto& conversation_text : chain.conversations) {
    if (!append_conversation(conversation_text, messages)) {
      spdlog::error("api_server: a stored response in the chain of {} is unreadable", previous);
      co_return store_failed_response();
    }
  }
  co_return std::nullopt;
}

asio::awaitable<std::variant<PreparedResponse, HttpResponse>> ResponsesApi::Impl::prepare(
    HttpRequest& request) {
  PreparedResponse p;
  p.id = new_id();
  p.created_at = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
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
  if (auto refused = unmappable_for_primary(config, p.request.extra_fields)) {
    co_return std::move(*refused);
  }

  // Instructions stand for this request only (they are not carried along the chain).
  p.system = p.request.instructions.empty() ? config.agent.system_prompt : p.request.instructions;
  if (const auto& previous = p.request.previous_response_id; !previous.empty()) {
    auto refused = co_await read_chain(previous, p.chain);
    if (refused) co_return std::move(*refused);
  }
  std::vector<ChatMessage> all = p.chain;
  all.insert(all.end(), p.request.input.begin(), p.request.input.end());
  if (auto call_id = unanswered_tool_result(all)) {
    co_return invalid_request("The function_call_output for '" + call_id->substr(0, 80) +
                                  "' answers no function call in this input or its chain.",
                              "input");
  }
  co_return p;
}

asio::awaitable<HttpResponse> ResponsesApi::Impl::answer(
    PreparedResponse p, std::shared_ptr<providers::AbortSignal> client_gone) {
  ResponseState state = state_of(p, "in_progress");
  ConversationTurn turn = turn_of(p);  // named: GCC 12
  TurnOptions options = options_for(p, std::move(client_gone));
  const PreparedResponse* prepared = &p;
  ResponseState* final_state = &state;
  PlatformRows rows = [this, prepared, final_state](state::Transaction& tx,
                                                    const ConversationResult& taken) {
    add_response(tx, *prepared, taken, *final_state, taken.result.content, false);
    return nothing_more();
  };
  const auto taken =
      co_await conversation.take_turn(std::move(turn), std::move(options), std::move(rows));
  if (taken.too_big) co_return input_too_big(taken);
  if (taken.stored != StoreOutcome::stored) co_return store_failed_response();
  const auto& result = taken.result;
  // Cut after complete tool rounds: stored in_progress, finished by the next process (GET
  // /v1/responses/{id} shows it completed then).
  const bool resumes = taken.end.mark == TurnMark::resumable && p.request.store;
  if (!result.ok && !resumes) {
    if (result.interrupted) {
      auto response = json_error(503, kInterruptedText, "interrupted");
      response.headers.emplace_back("Retry-After", "1");
      co_return response;
    }
    if (result.stopped) co_return stopped_response();
    if (result.client_gone || !result.failure) co_return client_gone_response();
    co_return failure_response(*result.failure);
  }
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
  providers::DeltaSink sink = [s](std::string delta) {
    return s->on_delta(std::move(delta));
  };  // raw: owned above
  TurnOptions options = options_for(s->prepared, s->client_gone);
  options.sink = std::move(sink);
  ConversationTurn turn = turn_of(s->prepared);
  ResponseState final_state = s->state;
  ResponseState* kept = &final_state;
  PlatformRows rows = [this, s, kept](state::Transaction& tx, const ConversationResult& taken) {
    // What the client was shown is the answer's text (tool rounds' words included).
    const std::string text = s->streamed.empty() ? taken.result.content : s->streamed;
    add_response(tx, s->prepared, taken, *kept, text, true);
    return nothing_more();
  };
  const auto taken =
      co_await conversation.take_turn(std::move(turn), std::move(options), std::move(rows));
  // Nobody is left to tell, unless the run was stopped from elsewhere: then the client is told.
  if (taken.result.client_gone && !taken.result.stopped) co_return;
  if (taken.too_big) {
    final_state.status = "failed";
    final_state.error_code = "context_length_exceeded";
    final_state.error_message = too_big_text(taken);
  } else if (taken.stored != StoreOutcome::stored) {
    final_state.status = "failed";
    final_state.error_code = "state_store_failed";
    final_state.error_message = kStoreFailedText;
  } else if (final_state.status == "in_progress") {
    co_return;  // the next process finishes it: GET /v1/responses/{id} shows the answer then
  }
  std::string tail = final_state.status == "completed" ? s->events.completed(final_state)
                                                       : s->events.failed(final_state);
  co_await out.write(std::move(tail));
}

// Finishes a response a previous process's drain cut after complete tool rounds: its chain
// and its own rounds so far go upstream again (no tool runs again), and the stored object
// becomes the final one.
asio::awaitable<void> ResponsesApi::Impl::resume(StoredResponse cut) {
  auto state = stored_state(cut.object_json);
  std::vector<ChatMessage> history;
  std::optional<HttpResponse> unreadable;
  if (!cut.previous_id.empty()) unreadable = co_await read_chain(cut.previous_id, history);
  if (!state || unreadable || !append_conversation(cut.conversation_json, history)) {
    spdlog::error("api_server: response {} cannot be resumed (its chain is unreadable)", cut.id);
    co_return;
  }
  spdlog::info("api_server: response {}: resuming a turn a restart cut after its tool rounds",
               cut.id);
  const std::string instructions = echoed_instructions(*state);
  ConversationTurn turn;
  turn.platform = "api_server";
  turn.chat_key = "response " + cut.id;
  turn.own_history = history;
  turn.system_prompt = instructions.empty() ? config.agent.system_prompt : instructions;
  TurnOptions options;  // named: GCC 12
  options.chat = "api_server:" + cut.id;
  PlatformRows no_rows;
  const auto taken =
      co_await conversation.take_turn(std::move(turn), std::move(options), std::move(no_rows));
  if (taken.end.mark == TurnMark::resumable) co_return;  // cut again: the next start goes on
  settle(*state, taken.result, taken.result.content);
  std::vector<ChatMessage> own;
  append_conversation(cut.conversation_json, own);
  own.insert(own.end(), taken.result.transcript.begin(), taken.result.transcript.end());
  try {
    co_await store.finish(cut.id, response_json(*state), conversation_json(own));
  } catch (const std::exception& e) {
    spdlog::error("api_server: response {}: the resumed turn could not be stored: {}", cut.id,
                  e.what());
    co_return;
  }
  spdlog::info("api_server: response {}: resumed turn {}", cut.id, state->status);
}

ResponsesApi::ResponsesApi(const Config& config, ResponseStore& store, Conversation& conversation)
    : impl_(std::make_shared<Impl>(config, store, conversation)) {}
ResponsesApi::~ResponsesApi() = default;

asio::awaitable<void> ResponsesApi::resume_cut_responses() {
  auto impl = impl_;
  std::vector<StoredResponse> cut;
  try {
    cut = co_await impl->store.resumable();
  } catch (const std::exception& e) {
    spdlog::error("api_server: could not read the responses to resume: {}", e.what());
    co_return;
  }
  for (auto& response : cut) co_await impl->resume(std::move(response));
}

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
