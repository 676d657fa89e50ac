#include "daemon/platforms/telegram/telegram_platform.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "common/logging.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/agent/turn_runner.hpp"
#include "daemon/platforms/telegram/telegram_text.hpp"
#include "daemon/providers/http_client.hpp"
#include "daemon/providers/redact.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using telegram::Command;

namespace {

constexpr const char* kPlatform = "telegram";
constexpr int kPollSeconds = 25;
// A server that answers at once (the local emulator does) must not make us spin.
constexpr auto kMinPollInterval = 100ms;  // at most 10 empty polls per second
constexpr int kMaxDeliveryAttempts = 8;

struct ApiReply {
  bool ok = false;
  json result;
  int http_status = 0;
  std::string description;  // redacted
  std::optional<int> retry_after;
};

}  // namespace

struct TelegramPlatform::Impl : std::enable_shared_from_this<TelegramPlatform::Impl> {
  Impl(asio::io_context& io_context, const Config& config, Context c)
      : io(io_context),
        poll_client(io_context),
        send_client(io_context),
        settings(config.gateway.telegram),
        model(config.model.default_model),
        provider(config.model.provider),
        context(std::move(c)) {}

  asio::awaitable<ApiReply> call(providers::HttpClient& client, const std::string& method,
                                 json params, std::chrono::milliseconds timeout);
  asio::awaitable<void> poll_loop();
  asio::awaitable<void> chat_worker(std::string chat_key);
  asio::awaitable<void> deliver_loop();
  asio::awaitable<void> typing_loop(long long chat_id, std::shared_ptr<bool> done);
  asio::awaitable<void> handle(SessionStore::Inbound message);
  asio::awaitable<void> sleep(std::chrono::milliseconds wait) {
    asio::steady_timer timer(io, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  bool allowed(const SessionStore::Inbound& m) const {
    if (settings.allowed_users.empty()) return true;
    for (const auto& entry : settings.allowed_users) {
      if (entry == std::to_string(m.user_id)) return true;
      if (!m.username.empty() && (entry == "@" + m.username || entry == m.username)) return true;
    }
    return false;
  }

  void kick_chat(const std::string& chat_key) {
    if (!polling || running_chats.contains(chat_key)) return;
    running_chats.insert(chat_key);
    asio::co_spawn(io, chat_worker(chat_key),
                   [](std::exception_ptr e) { log_exception(e, "telegram chat worker"); });
  }

  void kick_delivery() {
    if (delivering) return;
    delivering = true;
    asio::co_spawn(io, deliver_loop(),
                   [](std::exception_ptr e) { log_exception(e, "telegram delivery"); });
  }

  void queue_reply(long long chat_id, long long reply_to, const std::string& text) {
    bool first = true;
    for (const auto& part : telegram::split_message(text)) {
      context.store.queue_delivery(kPlatform, {0, chat_id, first ? reply_to : 0, part, 0});
      first = false;
    }
  }

  asio::io_context& io;
  providers::HttpClient poll_client;  // separate, so stopping the poll leaves sends alone
  providers::HttpClient send_client;
  TelegramConfig settings;
  std::string model;
  std::string provider;
  Context context;
  bool polling = false;
  bool delivering = false;
  std::set<std::string> running_chats;
  std::set<long long> refused_users;
  std::string state = "starting";
  std::string detail;
  std::string settings_system_prompt;
};

asio::awaitable<ApiReply> TelegramPlatform::Impl::call(providers::HttpClient& client,
                                                       const std::string& method, json params,
                                                       std::chrono::milliseconds timeout) {
  providers::HttpCall http;
  http.url = settings.api_base + "/bot" + settings.bot_token + "/" + method;
  http.body = params.dump(-1, ' ', false, json::error_handler_t::replace);
  http.timeout = timeout;
  const auto reply = co_await client.post(std::move(http));
  ApiReply out;
  out.http_status = reply.status;
  if (reply.failure != providers::TransportFailure::none) {
    out.description = providers::redact(reply.failure_detail);
    co_return out;
  }
  const json body = json::parse(reply.body, nullptr, false);
  if (body.is_object()) {
    out.ok = body.value("ok", false) && reply.status == 200;
    if (auto it = body.find("result"); it != body.end()) out.result = *it;
    out.description = providers::redact(body.value("description", body.value("message", "")));
    if (auto p = body.find("parameters");
        p != body.end() && p->is_object() && p->contains("retry_after")) {
      out.retry_after = p->value("retry_after", 1);
    }
  } else {
    out.description = "HTTP " + std::to_string(reply.status) + " with a body that is not JSON";
  }
  co_return out;
}

asio::awaitable<void> TelegramPlatform::Impl::poll_loop() {
  auto self = shared_from_this();
  long long offset = context.store.platform_offset(kPlatform).value_or(0);
  auto backoff = 1000ms;
  while (polling) {
    const auto started = Clock::now();
    json params = {{"timeout", kPollSeconds}, {"allowed_updates", json::array({"message"})}};
    if (offset > 0) params["offset"] = offset;
    const auto reply =
        co_await call(poll_client, "getUpdates", params, std::chrono::seconds(kPollSeconds + 10));
    if (!polling) break;
    if (!reply.ok) {
      if (reply.http_status == 409) {
        state = "error";
        detail = "409 Conflict: another process polls this bot token";
        spdlog::error(
            "telegram: another poller holds this bot token (HTTP 409); stop the other bot "
            "or gateway using it. Retrying in 5s.");
        co_await sleep(5000ms);
        continue;
      }
      state = "error";
      detail = reply.description.empty() ? "getUpdates failed" : reply.description;
      spdlog::warn("telegram: getUpdates failed ({}); retrying in {}s", detail,
                   std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
      co_await sleep(reply.retry_after ? std::chrono::milliseconds(*reply.retry_after * 1000)
                                       : backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
      continue;
    }
    backoff = 1000ms;
    state = "running";
    detail =
        settings.api_base.find("api.telegram.org") != std::string::npos ? "" : settings.api_base;
    std::set<std::string> touched;
    if (reply.result.is_array()) {
      for (const auto& update : reply.result) {
        const long long update_id = update.value("update_id", 0LL);
        offset = std::max(offset, update_id + 1);
        const auto message = update.find("message");
        if (message == update.end() || !message->is_object() || !message->contains("text") ||
            !(*message)["text"].is_string()) {
          continue;  // only text messages are answered
        }
        const auto& chat = (*message)["chat"];
        const auto& from = message->value("from", json::object());
        SessionStore::Inbound in;
        in.update_id = update_id;
        in.chat_id = chat.value("id", 0LL);
        in.user_id = from.value("id", 0LL);
        in.username = from.value("username", "");
        in.message_id = message->value("message_id", 0LL);
        in.text = (*message)["text"].get<std::string>();
        const std::string type = chat.value("type", "private");
        // In groups each member gets a session of their own.
        in.chat_key =
            std::to_string(in.chat_id) +
            (type == "group" || type == "supergroup" ? ":" + std::to_string(in.user_id) : "");
        context.store.record_inbound(kPlatform, in);
        touched.insert(in.chat_key);
      }
      // Only now that every update is recorded may Telegram forget them.
      context.store.set_platform_offset(kPlatform, offset);
    }
    for (const auto& chat : touched) kick_chat(chat);
    if (touched.empty()) {
      const auto elapsed = Clock::now() - started;
      if (elapsed < kMinPollInterval) {
        co_await sleep(
            std::chrono::duration_cast<std::chrono::milliseconds>(kMinPollInterval - elapsed));
      }
    }
  }
  state = "stopped";
}

asio::awaitable<void> TelegramPlatform::Impl::chat_worker(std::string chat_key) {
  auto self = shared_from_this();
  while (polling) {
    auto next = context.store.next_inbound(kPlatform, chat_key);
    if (!next) break;
    co_await handle(std::move(*next));
  }
  running_chats.erase(chat_key);
}

asio::awaitable<void> TelegramPlatform::Impl::typing_loop(long long chat_id,
                                                          std::shared_ptr<bool> done) {
  auto self = shared_from_this();
  while (!*done) {
    json params = json::object();  // built first: GCC 12 mis-compiles braced args in co_await
    params["chat_id"] = chat_id;
    params["action"] = "typing";
    const auto reply = co_await call(send_client, "sendChatAction", std::move(params), 10000ms);
    if (!reply.ok) {
      spdlog::debug("telegram: sendChatAction failed ({}); no typing indicator", reply.description);
      break;
    }
    for (int i = 0; i < 40 && !*done; ++i) co_await sleep(100ms);  // Telegram shows it ~5 s
  }
}

asio::awaitable<void> TelegramPlatform::Impl::handle(SessionStore::Inbound m) {
  auto& store = context.store;
  if (!allowed(m)) {
    spdlog::info("telegram: message from user {} refused (not in allowed_users)", m.user_id);
    store.in_transaction([&] {
      if (refused_users.insert(m.user_id).second)
        queue_reply(m.chat_id, m.message_id, telegram::refusal_reply());
      store.mark_inbound_done(kPlatform, m.update_id);
    });
    kick_delivery();
    co_return;
  }
  const auto command = telegram::parse_command(m.text);
  if (command != Command::none) {
    store.in_transaction([&] {
      std::string reply;
      if (command == Command::new_session) {
        store.create_session(kPlatform, m.chat_key);
        reply = telegram::new_session_reply();
      } else if (command == Command::status) {
        const auto session = store.chat_session(kPlatform, m.chat_key);
        reply = telegram::status_reply(model, provider, store.load_messages(session).size(),
                                       context.gateway_state());
      } else {
        reply = telegram::help_reply();
      }
      queue_reply(m.chat_id, m.message_id, reply);
      store.mark_inbound_done(kPlatform, m.update_id);
    });
    kick_delivery();
    co_return;
  }

  const auto session = store.chat_session(kPlatform, m.chat_key);
  std::vector<providers::ChatMessage> messages;
  if (!settings_system_prompt.empty()) messages.push_back({"system", settings_system_prompt});
  // The user's message is stored once, even if this turn is re-run after a crash.
  const auto history = store.load_messages(session);
  const bool already_stored =
      !history.empty() && history.back().role == "user" && history.back().content == m.text;
  if (!already_stored) store.append_message(session, "user", m.text);
  for (auto& h : store.load_messages(session)) messages.push_back(std::move(h));

  auto done = std::make_shared<bool>(false);
  asio::co_spawn(io, typing_loop(m.chat_id, done),
                 [](std::exception_ptr e) { log_exception(e, "telegram typing indicator"); });
  TurnResult result = co_await context.turns.run(std::move(messages));
  *done = true;

  store.in_transaction([&] {
    if (result.ok) {
      const std::string text =
          result.content.empty() ? "(The model sent an empty answer.)" : result.content;
      store.append_message(session, "assistant", result.content);
      queue_reply(m.chat_id, m.message_id, text);
    } else if (result.interrupted) {
      queue_reply(m.chat_id, m.message_id, telegram::interrupted_turn_reply());
    } else {
      queue_reply(m.chat_id, m.message_id, telegram::failed_turn_reply(*result.failure));
    }
    store.mark_inbound_done(kPlatform, m.update_id);
  });
  kick_delivery();
}

asio::awaitable<void> TelegramPlatform::Impl::deliver_loop() {
  auto self = shared_from_this();
  auto backoff = 500ms;
  while (auto delivery = context.store.next_delivery(kPlatform)) {
    json params = {{"chat_id", delivery->chat_id}, {"text", delivery->text}};
    if (delivery->reply_to > 0) {
      params["reply_to_message_id"] = delivery->reply_to;
      params["allow_sending_without_reply"] = true;
    }
    const auto reply = co_await call(send_client, "sendMessage", params, 30000ms);
    if (reply.ok) {
      context.store.delivery_done(delivery->id);
      backoff = 500ms;
      continue;
    }
    context.store.delivery_failed(delivery->id);
    if (delivery->attempts + 1 >= kMaxDeliveryAttempts) {
      spdlog::error("telegram: giving up on a reply to chat {} after {} attempts: {}",
                    delivery->chat_id, kMaxDeliveryAttempts, reply.description);
      context.store.delivery_done(delivery->id);
      continue;
    }
    spdlog::warn("telegram: sendMessage failed ({}); retrying in {} ms", reply.description,
                 backoff.count());
    co_await sleep(reply.retry_after ? std::chrono::milliseconds(*reply.retry_after * 1000)
                                     : backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30000));
  }
  delivering = false;
}

TelegramPlatform::TelegramPlatform(asio::io_context& io, const Config& config, Context context)
    : impl_(std::make_shared<Impl>(io, config, std::move(context))) {
  impl_->settings_system_prompt = config.agent.system_prompt;
}

TelegramPlatform::~TelegramPlatform() = default;

void TelegramPlatform::start() {
  impl_->polling = true;
  impl_->state = "starting";
  asio::co_spawn(impl_->io, impl_->poll_loop(),
                 [](std::exception_ptr e) { log_exception(e, "telegram poll loop"); });
  // Recorded but unanswered messages and undelivered replies from before a restart.
  for (const auto& chat : impl_->context.store.chats_with_inbound(kPlatform))
    impl_->kick_chat(chat);
  impl_->kick_delivery();
}

void TelegramPlatform::stop_polling() {
  impl_->polling = false;
  impl_->poll_client.abort_all();
}

long TelegramPlatform::busy() const {
  return static_cast<long>(impl_->running_chats.size()) + (impl_->delivering ? 1 : 0);
}

PlatformStatus TelegramPlatform::status() const {
  return {"telegram", impl_->state, impl_->detail};
}

void TelegramPlatform::reconfigure(const Config& config) {
  impl_->model = config.model.default_model;
  impl_->provider = config.model.provider;
  impl_->settings.allowed_users = config.gateway.telegram.allowed_users;
  impl_->settings_system_prompt = config.agent.system_prompt;
}

}  // namespace hermes::daemon
