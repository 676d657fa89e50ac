#include "daemon/platforms/api_server.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <variant>

#include "daemon/agent/context_window.hpp"
#include "daemon/agent/conversation.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/platforms/anthropic_protocol.hpp"
#include "daemon/platforms/api_protocol.hpp"
#include "daemon/providers/anthropic_messages.hpp"
#include "daemon/providers/hint.hpp"
#include "daemon/providers/offload.hpp"
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

// Completion and message ids only need to be unique, not secret: one generator, seeded once.
std::string answer_id(const char* prefix) {
  static std::mt19937_64 generator{std::random_device{}()};
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%s%016llx", prefix,
                static_cast<unsigned long long>(generator()));
  return buffer;
}

std::string completion_id() {
  return answer_id("chatcmpl-");
}

// Which API a request came in on: the turn is the same, its request and answer shapes differ.
enum class Dialect { openai, anthropic };

// What one request turns into: the session, and the messages to send upstream.
struct PreparedTurn {
  std::string session_id;
  bool new_session = false;
  Dialect dialect = Dialect::openai;
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
  std::optional<MessagesStreamWriter> anthropic;  // set: Anthropic's events instead of chunks

  asio::awaitable<bool> on_delta(std::string delta) {
    const bool first_chunk = first;
    first = false;
    if (anthropic) co_return co_await out->write(anthropic->text(delta));
    co_return co_await out->write(chunk_event(id, model, created, delta, first_chunk, false));
  }

  // The end of a stored, successful answer.
  asio::awaitable<void> finish(const TurnResult& result) {
    if (anthropic) {
      co_await out->write(anthropic->finish(
          result.client_tool_calls, providers::stop_reason_of(result.finish_reason), result.usage));
      co_return;
    }
    if (!result.client_tool_calls.empty()) {
      const bool first_chunk = first;
      first = false;
      co_await out->write(
          tool_calls_chunk_events(id, model, created, result.client_tool_calls, first_chunk));
    } else {
      if (first) co_await on_delta("");  // an empty answer still opens the stream
      co_await out->write(
          chunk_event(id, model, created, std::nullopt, false, true, result.finish_reason));
    }
    if (prepared.request.include_usage) {
      co_await out->write(usage_chunk_event(id, model, created, result.usage));
    }
    co_await out->write("data: [DONE]\n\n");
  }

  // A failure after the first bytes went out: an error event ends the stream, never a hang.
  asio::awaitable<void> fail(const HttpResponse& failure) {
    if (anthropic) {
      co_await out->write(MessagesStreamWriter::error(failure));
    } else {
      co_await out->write("data: " + failure.body + "\n\n");
    }
  }
};

// An error answer in the shape of the API the request came in on.
HttpResponse in_dialect(HttpResponse response, Dialect dialect) {
  if (dialect == Dialect::anthropic && !response.stream && response.status >= 400) {
    return anthropic_error(std::move(response));
  }
  return response;
}

}  // namespace

struct ApiServer::Impl {
  Impl(const Config& c, SessionStore& s, Conversation& v, usage::UsageLedger& l)
      : config(c), store(s), conversation(v), ledger(l) {}

  ConversationTurn conversation_turn(const PreparedTurn& turn) const {
    ConversationTurn t;
    t.session_id = turn.session_id;
    t.platform = "api_server";
    t.new_session = turn.new_session;
    if (turn.new_session) {
      t.fresh = turn.request.messages;
    } else {
      t.fresh = {turn.request.messages.back()};
    }
    return t;
  }

  // A stateless request too big for the model is the client's to shorten: a 400 saying so.
  static HttpResponse too_big(const ConversationResult& taken) {
    return json_error(400,
                      "These messages are about " + std::to_string(taken.tokens) + " tokens" +
                          tool_share_note(taken.tool_tokens) +
                          ", more than the model's context window of " +
                          std::to_string(taken.context_window) +
                          "; send fewer or shorter messages, or continue a stored session "
                          "(X-Hermes-Session-Id), which the gateway compacts.",
                      "context_overflow", "context_length_exceeded");
  }

  static std::optional<HttpResponse> store_failure(const ConversationResult& taken) {
    switch (taken.stored) {
      case StoreOutcome::stored:
        return std::nullopt;
      case StoreOutcome::unavailable:
        return store_unavailable_response();
      case StoreOutcome::failed:
        return store_failed_response();
    }
    return std::nullopt;
  }

  static void add_notes(HttpResponse& response, const ConversationResult& taken) {
    if (taken.fitted.dropped) {
      response.headers.emplace_back("X-Hermes-Context-Note", "oldest-dropped");
    }
    if (!taken.result.budget_warning.empty()) {
      response.headers.emplace_back("X-Hermes-Budget-Warning", taken.result.budget_warning);
    }
  }

  TurnOptions options_for(const PreparedTurn& turn,
                          std::shared_ptr<providers::AbortSignal> client_gone) const {
    TurnOptions options;
    options.abort = std::move(client_gone);
    options.client_tools = turn.request.tools;
    options.extra_fields = turn.request.extra_fields;
    options.chat = "api_server:" + turn.session_id;
    return options;
  }

  asio::awaitable<std::variant<PreparedTurn, HttpResponse>> prepare(HttpRequest& request,
                                                                    Dialect dialect);
  asio::awaitable<HttpResponse> take(HttpRequest request, Dialect dialect);
  asio::awaitable<HttpResponse> answer(const ConversationResult& taken, Dialect dialect);
  asio::awaitable<void> stream_turn(std::uint64_t id, ResponseStream& out);

  Config config;
  SessionStore& store;
  Conversation& conversation;
  usage::UsageLedger& ledger;
  // Streamed turns waiting for or in their producer. Owned here, by id, so the lambdas passed
  // through HttpResponse and DeltaSink carry no owning pointers: GCC 12 lost a reference count
  // when a shared_ptr captured there travelled through nested co_returns.
  std::map<std::uint64_t, std::unique_ptr<StreamTurn>> streams;
  std::uint64_t next_stream = 1;
};

// The request as a turn on a session (a new one, or the one X-Hermes-Session-Id names), or
// the error reply.
asio::awaitable<std::variant<PreparedTurn, HttpResponse>> ApiServer::Impl::prepare(
    HttpRequest& request, Dialect dialect) {
  std::variant<ChatCompletionRequest, HttpResponse> parsed;
  const auto parse_body = [&parsed, &request, dialect] {
    parsed = dialect == Dialect::anthropic ? parse_messages_request(request.body)
                                           : parse_chat_completion_request(request.body);
  };
  if (request.body.size() >= providers::kOffloadBytes) {
    std::function<void()> work = parse_body;  // named: GCC 12
    co_await providers::offload(std::move(work));
  } else {
    parse_body();  // a small body: no std::function (an allocation) on the hot path
  }
  if (auto* error = std::get_if<HttpResponse>(&parsed)) co_return std::move(*error);
  PreparedTurn turn;
  turn.dialect = dialect;
  turn.request = std::move(std::get<ChatCompletionRequest>(parsed));
  if (auto refused = unserved_model(config, turn.request.model)) co_return std::move(*refused);
  if (auto refused = unmappable_for_primary(config, turn.request.extra_fields)) {
    co_return std::move(*refused);
  }
  const std::string requested_session(request.header(kSessionHeader));
  if (requested_session.empty()) {
    turn.session_id = store.new_session_id();
    turn.new_session = true;
    co_return turn;
  }
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
  co_return turn;
}

asio::awaitable<HttpResponse> ApiServer::Impl::take(HttpRequest request, Dialect dialect) {
  auto prepared = co_await prepare(request, dialect);
  if (auto* refusal = std::get_if<HttpResponse>(&prepared)) co_return std::move(*refusal);
  PreparedTurn& turn = std::get<PreparedTurn>(prepared);
  if (turn.request.stream) {
    const std::uint64_t id = next_stream++;
    auto streamed = std::make_unique<StreamTurn>();
    streamed->prepared = std::move(turn);
    streamed->client_gone = request.client_gone;
    streamed->model = config.model.default_model;
    if (dialect == Dialect::anthropic) {
      streamed->anthropic.emplace(answer_id("msg_"), streamed->model);
    }
    streams.emplace(id, std::move(streamed));
    HttpResponse response;
    response.stream = [this, id](ResponseStream& out) { return stream_turn(id, out); };
    co_return response;
  }
  ConversationTurn taking = conversation_turn(turn);  // named: GCC 12
  TurnOptions options = options_for(turn, request.client_gone);
  PlatformRows no_rows;
  ConversationResult taken =
      co_await conversation.take_turn(std::move(taking), std::move(options), std::move(no_rows));
  if (taken.too_big) co_return too_big(taken);
  HttpResponse response = co_await answer(taken, dialect);
  response.headers.emplace_back(kSessionHeader, turn.session_id);
  add_notes(response, taken);
  co_return response;
}

// A finished turn as the reply: the completion, or the error saying how it ended.
asio::awaitable<HttpResponse> ApiServer::Impl::answer(const ConversationResult& taken,
                                                      Dialect dialect) {
  const TurnResult& result = taken.result;
  HttpResponse response;
  if (auto failed = store_failure(taken)) co_return std::move(*failed);
  if (result.interrupted) co_return interrupted_response();
  if (result.stopped) co_return stopped_response();
  if (result.client_gone) co_return client_gone_response();  // for the log: nobody reads it
  if (!result.ok) co_return failure_response(*result.failure);
  std::function<void()> write = [&response, &result, dialect] {
    if (dialect == Dialect::anthropic) {
      response.body =
          message_json(answer_id("msg_"), result.model, result.content, result.client_tool_calls,
                       providers::stop_reason_of(result.finish_reason), result.usage);
    } else {
      response.body = completion_json(completion_id(), result.model, result.content, result.usage,
                                      unix_now(), result.client_tool_calls, result.finish_reason);
    }
  };
  if (result.content.size() >= providers::kOffloadBytes) {
    co_await providers::offload(std::move(write));
  } else {
    write();
  }
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
  providers::DeltaSink sink = [turn](std::string delta) {
    return turn->on_delta(std::move(delta));
  };  // raw: owned above
  TurnOptions options = options_for(turn->prepared, turn->client_gone);
  options.sink = std::move(sink);
  ConversationTurn taking = conversation_turn(turn->prepared);
  ResponseStream* stream = &out;
  taking.on_fitted = [stream](const FittedTurn& fitted) { add_notes_to_stream(*stream, fitted); };
  PlatformRows no_rows;
  ConversationResult taken =
      co_await conversation.take_turn(std::move(taking), std::move(options), std::move(no_rows));
  if (taken.too_big) {
    out.instead = in_dialect(too_big(taken), turn->prepared.dialect);
    co_return;
  }
  const TurnResult& result = taken.result;

  // The end of the stream (and with it the answer) goes out only once the turn is stored.
  auto store_failed = store_failure(taken);
  if (result.ok && !store_failed) {
    co_await turn->finish(result);
    co_return;
  }
  if (result.client_gone && !result.stopped && !store_failed) {  // nobody is left to tell
    if (!out.started()) out.instead = client_gone_response();
    co_return;
  }
  HttpResponse failure = store_failed         ? std::move(*store_failed)
                         : result.stopped     ? stopped_response()
                         : result.interrupted ? interrupted_response()
                                              : failure_response(*result.failure);
  failure = in_dialect(std::move(failure), turn->prepared.dialect);
  failure.headers.emplace_back(kSessionHeader, turn->prepared.session_id);
  if (!out.started()) {
    out.instead = std::move(failure);
    co_return;
  }
  co_await turn->fail(failure);
}

ApiServer::ApiServer(const Config& config, SessionStore& store, Conversation& conversation,
                     usage::UsageLedger& ledger)
    : impl_(std::make_shared<Impl>(config, store, conversation, ledger)) {}
ApiServer::~ApiServer() = default;

asio::awaitable<void> ApiServer::resume_interrupted_turns() {
  auto impl = impl_;
  co_await impl->conversation.resume_cut_turns("api_server");
}

void ApiServer::reconfigure(const Config& config) {
  impl_->config = config;
}

bool ApiServer::authorized(const HttpRequest& request) const {
  const auto& key = impl_->config.gateway.api_server.key;
  if (key.empty() || bearer_matches(request.header("Authorization"), key)) return true;
  // Anthropic's SDKs send the key as x-api-key (older ones) or as a bearer (current ones).
  const auto api_key = request.header("x-api-key");
  return !api_key.empty() && key_matches(api_key, key);
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
  double since = usage::start_of_month(now);
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
  co_return co_await impl->take(std::move(request), Dialect::openai);
}

asio::awaitable<HttpResponse> ApiServer::messages(HttpRequest request) {
  auto impl = impl_;
  HttpResponse response = co_await impl->take(std::move(request), Dialect::anthropic);
  co_return in_dialect(std::move(response), Dialect::anthropic);
}

asio::awaitable<HttpResponse> ApiServer::count_tokens(HttpRequest request) {
  auto impl = impl_;
  auto parsed = parse_messages_request(request.body, true);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) co_return std::move(*error);
  const auto& counted = std::get<ChatCompletionRequest>(parsed);
  HttpResponse response;
  response.body = count_tokens_json(context::estimate_tokens(counted.messages) +
                                    context::estimate_text_tokens(counted.tools));
  co_return response;
}

}  // namespace hermes::daemon
