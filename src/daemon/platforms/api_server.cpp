#include "daemon/platforms/api_server.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>

#include "daemon/agent/compactor.hpp"
#include "daemon/agent/context_window.hpp"
#include "daemon/agent/session_queue.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/providers/hint.hpp"
#include "daemon/providers/offload.hpp"
#include "daemon/state/sql_connection.hpp"
#include "daemon/usage/budget_rules.hpp"
#include "daemon/usage/usage_ledger.hpp"
#include "daemon/usage/usage_report.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using providers::ChatMessage;

namespace {

constexpr const char* kSessionHeader = "X-Hermes-Session-Id";

// The compaction notes of a streamed turn go out with its head.
void add_notes_to_stream(ResponseStream& out, const FittedTurn& fitted) {
  if (fitted.dropped) out.headers.emplace_back("X-Hermes-Context-Note", "oldest-dropped");
}

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
  Impl(const Config& c, SessionStore& s, SessionQueue& q, TurnRunner& t, Compactor& k,
       usage::UsageLedger& l)
      : config(c), store(s), queue(q), turns(t), compactor(k), ledger(l) {}

  std::vector<ChatMessage> upstream_messages(std::vector<ChatMessage> conversation) const {
    const bool has_system = !conversation.empty() && conversation.front().role == "system";
    if (!has_system && !config.agent.system_prompt.empty()) {
      conversation.insert(conversation.begin(), {"system", config.agent.system_prompt});
    }
    return conversation;
  }

  // What goes upstream: the stored history (a continued session, compacted to fit the
  // context window when it must be) plus the new messages. `force`: compact now (after a
  // context_overflow).
  asio::awaitable<FittedTurn> conversation(const PreparedTurn& turn, bool force = false) {
    const auto& messages = turn.request.messages;
    if (turn.new_session) {
      FittedTurn fitted;
      fitted.messages = upstream_messages(messages);
      co_return fitted;
    }
    auto history = co_await store.history(turn.session_id);
    std::vector<ChatMessage> prefix;
    const bool has_system = !history.empty() && history.front().role == "system";
    if (!has_system && !config.agent.system_prompt.empty()) {
      prefix.emplace_back("system", config.agent.system_prompt);
    }
    std::vector<ChatMessage> fresh{messages.back()};
    TurnOptions whose = options_for(turn, nullptr);
    co_return co_await compactor.fit(turn.session_id, std::move(prefix), std::move(history),
                                     std::move(fresh), force, std::move(whose));
  }

  // A stateless request too big for the model is the client's to shorten: a 400 saying so.
  std::optional<HttpResponse> too_big(const PreparedTurn& turn,
                                      const std::vector<ChatMessage>& messages) const {
    if (!turn.new_session) return std::nullopt;
    const long tokens = compactor.tokens(messages);
    const long window = turns.context_length();
    if (tokens <= window) return std::nullopt;
    return json_error(400,
                      "These messages are about " + std::to_string(tokens) +
                          " tokens, more than the model's context window of " +
                          std::to_string(window) +
                          "; send fewer or shorter messages, or continue a stored session "
                          "(X-Hermes-Session-Id), which the gateway compacts.",
                      "context_overflow", "context_length_exceeded");
  }

  // Runs the turn; a context_overflow before any tool round is met with one compaction of the
  // stored session and one retry.
  asio::awaitable<TurnResult> run_turn(const PreparedTurn& turn, FittedTurn& fitted,
                                       TurnOptions options) {
    auto messages = fitted.messages;
    TurnOptions retry_options = options;
    TurnResult result = co_await turns.run(std::move(messages), std::move(options));
    const bool overflow = !result.ok && result.failure &&
                          result.failure->reason == providers::FailoverReason::context_overflow;
    if (!overflow || turn.new_session || !result.transcript.empty()) co_return result;
    spdlog::info("api_server: session {}: context overflow; compacting and retrying once",
                 turn.session_id);
    fitted = co_await conversation(turn, true);
    if (!fitted.compacted) co_return result;
    auto again = fitted.messages;
    co_return co_await turns.run(std::move(again), std::move(retry_options));
  }

  static void add_notes(HttpResponse& response, const FittedTurn& fitted,
                        const TurnResult& result) {
    if (fitted.dropped) response.headers.emplace_back("X-Hermes-Context-Note", "oldest-dropped");
    if (!result.budget_warning.empty()) {
      response.headers.emplace_back("X-Hermes-Budget-Warning", result.budget_warning);
    }
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
    } catch (const state::StoreUnavailable& e) {
      spdlog::error("api_server: session {}: the turn could not be stored: {}", turn.session_id,
                    e.what());
      co_return store_unavailable_response();
    } catch (const std::exception& e) {
      spdlog::error("api_server: session {}: the turn could not be stored: {}", turn.session_id,
                    e.what());
      co_return store_failed_response();
    }
    co_return std::nullopt;
  }

  TurnOptions options_for(const PreparedTurn& turn,
                          std::shared_ptr<providers::AbortSignal> client_gone) const {
    TurnOptions options;
    options.abort = std::move(client_gone);
    options.client_tools = turn.request.tools;
    options.extra_fields = turn.request.extra_fields;
    options.platform = "api_server";
    options.session_id = turn.session_id;
    options.chat = "api_server:" + turn.session_id;
    return options;
  }

  asio::awaitable<HttpResponse> chat_completions(HttpRequest request);
  asio::awaitable<void> stream_turn(std::uint64_t id, ResponseStream& out);

  Config config;
  SessionStore& store;
  SessionQueue& queue;
  TurnRunner& turns;
  Compactor& compactor;
  usage::UsageLedger& ledger;
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
  FittedTurn fitted = co_await conversation(turn);
  if (auto refused = too_big(turn, fitted.messages)) co_return std::move(*refused);
  TurnOptions options = options_for(turn, request.client_gone);  // named: GCC 12
  TurnResult result = co_await run_turn(turn, fitted, std::move(options));
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
  add_notes(response, fitted, result);
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
  FittedTurn fitted = co_await conversation(turn->prepared);
  if (auto refused = too_big(turn->prepared, fitted.messages)) {
    out.instead = std::move(*refused);
    co_return;
  }
  providers::DeltaSink sink = [turn](std::string delta) {
    return turn->on_delta(std::move(delta));
  };  // raw: owned above
  TurnOptions options = options_for(turn->prepared, turn->client_gone);
  options.sink = std::move(sink);
  add_notes_to_stream(out, fitted);
  TurnResult result = co_await run_turn(turn->prepared, fitted, std::move(options));

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
                     TurnRunner& turns, Compactor& compactor, usage::UsageLedger& ledger)
    : impl_(std::make_shared<Impl>(config, store, queue, turns, compactor, ledger)) {}
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

asio::awaitable<HttpResponse> ApiServer::usage(HttpRequest request) {
  auto impl = impl_;
  const auto now = unix_now();
  double since = static_cast<double>(usage::period_window(BudgetPeriod::month, now).start);
  std::vector<usage::UsageGrouping> groupings{
      usage::UsageGrouping::provider, usage::UsageGrouping::model, usage::UsageGrouping::day};
  for (const auto& [key, value] : query_params(request.query())) {
    if (key == "since") {
      const auto parsed = usage::parse_since(value, now);
      if (!parsed) {
        co_return invalid_request(
            "'since' must be like 24h, 7d, 2026-12-01, 2026-12-01T10:00:00Z or unix seconds.",
            "since");
      }
      since = *parsed;
    } else if (key == "by") {
      const auto by = usage::parse_grouping(value);
      if (!by) co_return invalid_request("'by' must be provider, model, session or day.", "by");
      groupings = {*by};
    }
  }
  auto totals = co_await impl->ledger.totals(since, usage::UsageGrouping::none);
  const usage::UsageTotal total = totals.empty() ? usage::UsageTotal{} : totals.front();
  std::vector<usage::UsageSection> sections;
  for (const auto by : groupings) {
    auto rows = co_await impl->ledger.totals(since, by);
    sections.push_back({by, std::move(rows)});
  }
  HttpResponse response;
  response.body = usage::usage_json(since, total, sections);
  co_return response;
}

asio::awaitable<HttpResponse> ApiServer::chat_completions(HttpRequest request) {
  auto impl = impl_;
  co_return co_await impl->chat_completions(std::move(request));
}

}  // namespace hermes::daemon
