#include "daemon/platforms/telegram/telegram_platform.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/logging.hpp"
#include "common/test_hooks.hpp"
#include "daemon/agent/conversation.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/platforms/chat/session_key.hpp"
#include "daemon/platforms/telegram/backoff.hpp"
#include "daemon/platforms/telegram/stream_plan.hpp"
#include "daemon/platforms/telegram/telegram_store.hpp"
#include "daemon/platforms/telegram/telegram_text.hpp"
#include "daemon/platforms/telegram/telegram_updates.hpp"
#include "daemon/providers/http_client.hpp"
#include "daemon/providers/redact.hpp"
#include "daemon/state/shared_locks.hpp"
#include "daemon/state/sql_connection.hpp"
#include "daemon/tools/tool_names.hpp"
#include "daemon/usage/budget_rules.hpp"
#include "daemon/usage/usage_ledger.hpp"
#include "daemon/usage/usage_report.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using telegram::ApiReply;
using telegram::Command;
using telegram::Inbound;

namespace {

constexpr const char* kPlatform = "telegram";
constexpr int kPollSeconds = 25;
// A server that answers at once (the local emulator does) must not make us spin.
// What `status` and `hermes gateway status` say the platform is doing.
enum class PlatformState { standby, starting, running, error, stopped };

std::string_view to_string(PlatformState state) {
  switch (state) {
    case PlatformState::standby:
      return "standby";
    case PlatformState::starting:
      return "starting";
    case PlatformState::running:
      return "running";
    case PlatformState::error:
      return "error";
    case PlatformState::stopped:
      return "stopped";
  }
  return "error";
}

constexpr auto kMinPollInterval = 100ms;  // at most 10 empty polls per second
constexpr int kMaxDeliveryAttempts = 8;

// 300 s for a user to answer an approval; HERMES_TEST_HOOKS=1 with
// HERMES_TEST_APPROVAL_TIMEOUT_MS=N shortens it for tests.
std::chrono::milliseconds approval_timeout_setting() {
  return test_hook_millis("HERMES_TEST_APPROVAL_TIMEOUT_MS", 1, 300000)
      .value_or(std::chrono::milliseconds(300000));
}

// HERMES_TEST_HOOKS=1 with HERMES_TEST_DELIVERY_BACKOFF_MS=N: tests give up on a send in
// milliseconds instead of a minute.
std::chrono::milliseconds delivery_backoff_setting() {
  return test_hook_millis("HERMES_TEST_DELIVERY_BACKOFF_MS", 1, 500)
      .value_or(std::chrono::milliseconds(500));
}

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
  asio::awaitable<void> lead();
  void start_polling();
  asio::awaitable<void> chat_worker(std::string chat_key);
  asio::awaitable<void> deliver_loop();
  asio::awaitable<void> deliver_pending();
  asio::awaitable<void> typing_loop(long long chat_id, std::shared_ptr<bool> done);
  asio::awaitable<void> handle(Inbound message);
  asio::awaitable<void> take_turn(Inbound message);
  using CommandHandler = asio::awaitable<std::string> (Impl::*)(const Inbound&,
                                                                state::Transaction&);
  static CommandHandler command_handler(Command command);
  asio::awaitable<std::string> command_new(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_status(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_approval(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_stop(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_compress(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_usage(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_help(const Inbound& m, state::Transaction& tx);
  asio::awaitable<void> resume_pending();
  asio::awaitable<void> revive_abandoned();
  struct StreamedReply;
  asio::awaitable<bool> pump(StreamedReply& reply);
  asio::awaitable<bool> stream_delta(StreamedReply& reply, std::string delta);
  asio::awaitable<void> stream_ticker(std::shared_ptr<StreamedReply> reply,
                                      std::shared_ptr<bool> done);
  asio::awaitable<std::shared_ptr<StreamedReply>> start_stream(const Inbound& m,
                                                               TurnOptions& options,
                                                               std::shared_ptr<bool> done);
  asio::awaitable<void> settle_stream(StreamedReply* streamed);
  asio::awaitable<void> queue_turn_reply(state::Transaction& tx, const Inbound& m,
                                         const ConversationResult& taken, StreamedReply* streamed);
  asio::awaitable<void> finish(state::Transaction tx);
  asio::awaitable<void> sleep(std::chrono::milliseconds wait) {
    asio::steady_timer timer(io, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  bool allowed(const Inbound& m) const {
    if (settings.allow_all_users) return true;  // opened on purpose (the config insists)
    for (const auto& entry : settings.allowed_users) {
      if (entry == std::to_string(m.user_id)) return true;
      if (!m.username.empty() && (entry == "@" + m.username || entry == m.username)) return true;
    }
    return false;
  }

  // A kick while the chat's worker runs makes it look again before it ends: its last look
  // may have been queued at the store before the new message was recorded.
  void kick_chat(const std::string& chat_key) {
    if (!polling) return;
    if (running_chats.contains(chat_key)) {
      rekicked_chats.insert(chat_key);
      return;
    }
    running_chats.insert(chat_key);
    asio::co_spawn(io, chat_worker(chat_key),
                   [](std::exception_ptr e) { log_exception(e, "telegram chat worker"); });
  }

  void kick_delivery() {
    more_deliveries = true;
    if (delivering) return;
    delivering = true;
    asio::co_spawn(io, deliver_loop(),
                   [](std::exception_ptr e) { log_exception(e, "telegram delivery"); });
  }

  // The whole answer in the messages it was streamed into (edits: "not modified" is done),
  // and new ones for what does not fit; through the outbox, so nothing is lost.
  void queue_streamed_final(state::Transaction& tx, const StreamedReply& reply,
                            const std::string& text);

  void queue_reply(state::Transaction& tx, long long chat_id, long long reply_to,
                   const std::string& text) {
    bool first = true;
    for (const auto& part : telegram::split_message(text)) {
      context.store.queue_delivery(tx, {0, chat_id, first ? reply_to : 0, part, 0});
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
  bool poll_running = false;
  bool drained = false;     // stop_polling(): no more polling by this process
  bool lease_lost = false;  // the poller lock went: the outbox is another gateway's now
  bool delivering = false;
  bool more_deliveries = false;  // kicked while the delivery loop ran
  bool resuming = false;
  std::set<std::string> rekicked_chats;
  std::set<std::string> running_chats;
  std::set<long long> refused_users;
  PlatformState state = PlatformState::starting;
  std::string detail;
  bool settings_require_mention = true;
  bool settings_per_user = true;         // gateway.group_sessions_per_user
  bool settings_busy_interrupt = false;  // display.busy_input_mode: interrupt
  ToolProgress settings_tool_progress = ToolProgress::changed;  // display.tool_progress
  // Tool calls waiting for the user's Approve or Deny, by the id in their buttons.
  struct PendingApproval {
    std::string chat_key;
    std::optional<bool> decision;
    std::shared_ptr<asio::steady_timer> wake;
  };
  std::map<std::string, std::shared_ptr<PendingApproval>> approvals;
  std::uint64_t next_approval = 1;
  // What /approve and /deny did (at once, from the poll), for their replies in order.
  std::map<std::string, std::vector<std::string>> approval_notes;
  std::chrono::milliseconds approval_timeout = approval_timeout_setting();

  void decide(PendingApproval& pending, bool approve) {
    if (pending.decision) return;
    pending.decision = approve;
    if (pending.wake) pending.wake->cancel();
  }
  std::shared_ptr<PendingApproval> waiting_in(const std::string& chat_key) const {
    for (auto it = approvals.rbegin(); it != approvals.rend(); ++it) {
      if (it->second->chat_key == chat_key && !it->second->decision) return it->second;
    }
    return nullptr;
  }
  asio::awaitable<bool> ask_approval(long long chat_id, std::string chat_key, std::string tool,
                                     std::string arguments);
  asio::awaitable<void> answer_press(telegram::ButtonPress press);
  // A command handled beside the chat's running turn; its worker skips it meanwhile.
  std::set<long long> handled_at_once;
  asio::awaitable<void> handle_at_once(Inbound message) {
    auto self = shared_from_this();
    const auto update_id = message.update_id;
    try {
      co_await handle(std::move(message));
    } catch (const std::exception& e) {
      spdlog::error("telegram: a command could not be answered ({})", e.what());
    }
    handled_at_once.erase(update_id);
    kick_delivery();
  }
  long abandoned = 0;  // reply parts given up on since Telegram last answered
  // The first wait before a failed send is tried again (shorter only under test hooks).
  std::chrono::milliseconds delivery_backoff = delivery_backoff_setting();
  // The abort signal of each chat's running turn, and the chats whose turn a /stop ended
  // (its /stop, handled next in order, then says so).
  std::map<std::string, std::shared_ptr<providers::AbortSignal>> running_turns;
  std::set<std::string> stopped_by_command;

  void stop_turn(const std::string& chat_key, bool by_command) {
    const auto running = running_turns.find(chat_key);
    if (running == running_turns.end()) return;
    spdlog::info("telegram: chat {}: {}", chat_key,
                 by_command ? "/stop ends the running turn" : "a new message interrupts the turn");
    if (by_command) stopped_by_command.insert(chat_key);
    if (auto pending = waiting_in(chat_key)) decide(*pending, false);  // a stop is no approval
    running->second->abort(providers::AbortSignal::Reason::stop);
  }
  telegram::BotIdentity bot;  // from getMe: to know a mention of it in a group
  bool identity_tried = false;
  Clock::time_point last_identity_try;

  // Users refused before (a restart does not refuse them a second time). Each path that
  // starts chat workers loads them first.
  asio::awaitable<void> load_refused_users() {
    auto users = co_await context.store.refused_users();
    refused_users.insert(users.begin(), users.end());
  }

  // Who the bot is; until getMe answers, group messages are answered only when they are
  // commands (a mention cannot be recognised yet).
  asio::awaitable<void> learn_identity() {
    json params = json::object();
    const auto reply = co_await call(poll_client, "getMe", std::move(params), 10000ms);
    if (!reply.ok || !reply.result.is_object()) {
      spdlog::warn("telegram: getMe failed ({}); mentions in groups are not recognised yet",
                   reply.description);
      co_return;
    }
    bot.id = reply.result.value("id", 0LL);
    bot.username = reply.result.value("username", std::string());
    spdlog::info("telegram: the bot is @{}", bot.username);
  }

  // The chat a chat budget and /usage count: its session key (telegram:dm:42, …).
  static std::string chat_id_of(const std::string& chat_key) { return chat_key; }
  TurnOptions turn_options(const std::string& session, const std::string& chat_key) const {
    TurnOptions options;
    options.platform = kPlatform;
    options.session_id = session;
    options.chat = chat_id_of(chat_key);
    return options;
  }
};

// A reply being streamed into the chat: the messages it fills (stored as they are sent), the
// text so far and when the live message last changed.
struct TelegramPlatform::Impl::StreamedReply {
  long long chat_id = 0;
  long long reply_to = 0;
  long long update_id = 0;
  telegram::StreamSettings settings;
  std::vector<long long> ids;  // every message of this reply, in order (some from before a restart)
  std::size_t live = 0;        // index of the live message in ids (== ids.size(): none yet)
  std::string text;            // the answer so far
  std::size_t frozen = 0;      // bytes of `text` in full messages before the live one
  std::string shown;           // what the live message shows
  bool shown_known = false;    // false for a message from before a restart
  Clock::time_point started = Clock::now();
  Clock::time_point last_edit = Clock::now();
  Clock::time_point blocked_until{};
  bool pumping = false;   // one pump at a time: the sink and the ticker must not both send
  std::string last_tool;  // display.tool_progress new: a line only when the tool changes
};

// The whole answer in the messages it was streamed into (edits: "not modified" is done), and
// new ones for what does not fit; through the outbox, so nothing is lost.
void TelegramPlatform::Impl::queue_streamed_final(state::Transaction& tx,
                                                  const StreamedReply& reply,
                                                  const std::string& text) {
  const auto parts = telegram::split_message(text);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    telegram::Delivery d{0, reply.chat_id, 0, parts[i], 0};
    if (i < reply.ids.size()) d.edit_message_id = reply.ids[i];
    context.store.queue_delivery(tx, std::move(d));
  }
}

asio::awaitable<ApiReply> TelegramPlatform::Impl::call(providers::HttpClient& client,
                                                       const std::string& method, json params,
                                                       std::chrono::milliseconds timeout) {
  providers::HttpCall http;
  http.url = settings.api_base + "/bot" + settings.bot_token + "/" + method;
  http.body = params.dump(-1, ' ', false, json::error_handler_t::replace);
  http.timeout = timeout;
  const auto reply = co_await client.post(std::move(http));
  if (reply.failure != providers::TransportFailure::none) {
    ApiReply out;
    out.http_status = reply.status;
    out.description = providers::redact(reply.failure_detail);
    co_return out;
  }
  ApiReply out = telegram::parse_api_reply(reply.status, reply.body);
  co_return out;
}

asio::awaitable<void> TelegramPlatform::Impl::poll_loop() {
  auto self = shared_from_this();
  poll_running = true;
  long long offset = (co_await context.store.offset()).value_or(0);
  co_await load_refused_users();  // before any message of this process is handled
  telegram::Backoff backoff(1000ms, 30000ms);
  while (polling) {
    const auto started = Clock::now();
    // Until getMe answers (tried again at most every 30 s: a failing one costs no poll).
    if (bot.id == 0 && (!identity_tried || started - last_identity_try >= 30s)) {
      identity_tried = true;
      last_identity_try = started;
      co_await learn_identity();
    }
    json params = {{"timeout", kPollSeconds},
                   {"allowed_updates", json::array({"message", "callback_query"})}};
    if (offset > 0) params["offset"] = offset;
    const auto reply =
        co_await call(poll_client, "getUpdates", params, std::chrono::seconds(kPollSeconds + 10));
    if (!polling) break;
    if (!reply.ok) {
      if (reply.http_status == 409) {
        state = PlatformState::error;
        detail = "409 Conflict: another process polls this bot token";
        spdlog::error(
            "telegram: another poller holds this bot token (HTTP 409); stop the other bot "
            "or gateway using it. Retrying in 5s.");
        co_await sleep(5000ms);
        continue;
      }
      state = PlatformState::error;
      detail = reply.description.empty() ? "getUpdates failed" : reply.description;
      const auto wait = backoff.next();
      spdlog::warn("telegram: getUpdates failed ({}); retrying in {}s", detail,
                   std::chrono::duration_cast<std::chrono::seconds>(wait).count());
      const auto pause =  // named, not a conditional inside the co_await (GCC 12)
          reply.retry_after ? std::chrono::milliseconds(*reply.retry_after * 1000) : wait;
      co_await sleep(pause);
      continue;
    }
    backoff.reset();
    if (state == PlatformState::error) {
      // Telegram answers again: replies given up on while it did not are sent now.
      co_await revive_abandoned();
    }
    state = PlatformState::running;
    detail =
        settings.api_base.find("api.telegram.org") != std::string::npos ? "" : settings.api_base;
    const long long stored_offset = offset;
    auto polled = telegram::parse_updates(reply.result, offset, bot, settings_require_mention,
                                          settings_per_user);
    if (polled.skipped_unaddressed > 0) {
      spdlog::debug(
          "telegram: {} group message(s) not for the bot (gateway.telegram.require_mention)",
          polled.skipped_unaddressed);
    }
    offset = polled.next_offset;
    std::set<std::string> touched;
    for (const auto& in : polled.messages) touched.insert(in.chat_key);
    std::vector<std::pair<std::string, bool>> stops;  // chat, by /stop (else a new message)
    for (const auto& in : polled.messages) {
      const bool stop = telegram::parse_command(in.text) == Command::stop;
      const bool interrupts = settings_busy_interrupt && in.media.empty() &&
                              telegram::parse_command(in.text) == Command::none;
      if (stop || interrupts) stops.emplace_back(in.chat_key, stop);
    }
    for (auto& press : polled.presses) {
      asio::co_spawn(io, answer_press(std::move(press)),
                     [](std::exception_ptr e) { log_exception(e, "telegram button"); });
    }
    // /new, /status, /usage and /help mid-turn are answered at once, not after the turn.
    for (const auto& in : polled.messages) {
      const auto command = telegram::parse_command(in.text);
      const bool quick = command == Command::new_session || command == Command::status ||
                         command == Command::usage || command == Command::help;
      if (!quick || !running_turns.contains(in.chat_key)) continue;
      handled_at_once.insert(in.update_id);
      asio::co_spawn(io, handle_at_once(in),
                     [](std::exception_ptr e) { log_exception(e, "telegram command"); });
    }
    // /approve and /deny answer the waiting question at once; their replies come in order.
    for (const auto& in : polled.messages) {
      const auto command = telegram::parse_command(in.text);
      if (command != Command::approve && command != Command::deny) continue;
      if (!allowed(in)) continue;
      auto pending = waiting_in(in.chat_key);
      if (pending) decide(*pending, command == Command::approve);
      approval_notes[in.chat_key].push_back(!pending ? "Nothing is waiting for your approval."
                                            : command == Command::approve ? "Approved."
                                                                          : "Denied.");
    }
    if (offset != stored_offset) {
      // Recorded with the new offset in one transaction: only then may Telegram forget them.
      bool recorded = true;
      try {
        co_await context.store.record_poll(std::move(polled.messages), offset);
      } catch (const std::exception& e) {
        recorded = false;
        spdlog::error("telegram: could not record {} update(s) ({}); polling them again in {}s",
                      touched.size(), e.what(),
                      std::chrono::duration_cast<std::chrono::seconds>(backoff.peek()).count());
      }
      if (recorded) {
        // Not queued behind the running turn: it ends now, within the poll's latency.
        for (const auto& [chat, by_command] : stops) stop_turn(chat, by_command);
      }
      if (!recorded) {
        offset = stored_offset;  // Telegram keeps them until an offset past them is sent
        state = PlatformState::error;
        detail = "the state store refused the updates";
        co_await sleep(backoff.next());
        continue;
      }
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
  poll_running = false;
  state = PlatformState::stopped;
}

namespace {

constexpr auto kLeaseCheck = 1000ms;  // a dead holder's lock is taken over within ~1 s

}  // namespace

// Several gateways: stands by until this one holds the bot token's lock, polls while it
// does, and stands by again if the lock went with a lost database connection. The holder
// dying (even SIGKILL) closes its connection, which lets go of the lock.
asio::awaitable<void> TelegramPlatform::Impl::lead() {
  auto self = shared_from_this();
  const std::string lock_name = "telegram:" + settings.bot_token;  // hashed, never stored
  while (!drained) {
    state = PlatformState::standby;
    detail = "another gateway polls this bot token";
    bool mine = false;
    try {
      mine = co_await context.shared->try_hold(lock_name);
    } catch (const std::exception& e) {
      detail = std::string("cannot ask the database who polls: ") + e.what();
    }
    if (!mine) {
      co_await sleep(kLeaseCheck);
      continue;
    }
    if (drained) break;
    spdlog::info("telegram: this gateway polls the bot now (it holds the poller lock)");
    start_polling();
    while (polling) {
      co_await sleep(kLeaseCheck);
      if (!polling) break;
      const bool held = co_await context.shared->holds(lock_name);
      if (held) continue;
      spdlog::error(
          "telegram: the poller lock went with the database connection; standing by until "
          "it can be taken again");
      polling = false;
      lease_lost = true;
      poll_client.abort_all();
    }
    // Nothing of this turn at the bot runs on when another gateway may take over.
    while (poll_running || !running_chats.empty() || resuming || delivering) {
      co_await sleep(50ms);
    }
    lease_lost = false;
    if (!drained) context.shared->release(lock_name);
  }
}

void TelegramPlatform::Impl::start_polling() {
  polling = true;
  state = PlatformState::starting;
  detail.clear();
  asio::co_spawn(io, poll_loop(),
                 [](std::exception_ptr e) { log_exception(e, "telegram poll loop"); });
  resuming = true;
  asio::co_spawn(io, resume_pending(),
                 [](std::exception_ptr e) { log_exception(e, "telegram resume"); });
}

asio::awaitable<void> TelegramPlatform::Impl::chat_worker(std::string chat_key) {
  auto self = shared_from_this();
  bool store_away = false;
  while (polling) {
    try {
      auto next = co_await context.store.next_inbound(chat_key);
      if (!next) {
        if (rekicked_chats.erase(chat_key)) continue;
        break;
      }
      if (handled_at_once.contains(next->update_id)) {
        co_await sleep(20ms);  // answered beside the turn; done in a moment
        continue;
      }
      co_await handle(std::move(*next));
    } catch (const state::StoreUnavailable& e) {
      // The database is away (restarting): the message waits in the inbox until it is back.
      spdlog::warn("telegram: chat {}: {}; trying again in 1s", chat_key, e.what());
      store_away = true;
    } catch (const std::exception& e) {
      // The message stays unanswered in the inbox; the next start takes it up again.
      spdlog::error(
          "telegram: chat {}: state store failed ({}); its messages wait for the next "
          "start",
          chat_key, e.what());
      break;
    }
    if (store_away) {
      store_away = false;
      co_await sleep(1000ms);  // not in the handler: no co_await there
    }
  }
  running_chats.erase(chat_key);
  rekicked_chats.erase(chat_key);
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

asio::awaitable<void> TelegramPlatform::Impl::finish(state::Transaction tx) {
  try {
    co_await context.sessions.commit(std::move(tx));
  } catch (const std::exception& e) {
    // Left unanswered in the inbox: the next start answers it again.
    spdlog::error("telegram: could not store the answer ({}); it is retried at the next start",
                  e.what());
    co_return;
  }
  kick_delivery();
}

asio::awaitable<void> TelegramPlatform::Impl::handle(Inbound m) {
  state::Transaction tx;
  if (!allowed(m)) {
    spdlog::info("telegram: message from user {} refused (not in allowed_users)", m.user_id);
    // Told once, also across restarts (the refusal is stored with the message's done mark).
    if (refused_users.insert(m.user_id).second) {
      queue_reply(tx, m.chat_id, m.message_id, telegram::refusal_reply());
      context.store.add_refused_user(tx, m.user_id);
    }
    context.store.mark_done(tx, m.update_id);
    co_await finish(std::move(tx));
    co_return;
  }
  if (!m.media.empty()) {
    // Recorded like any message, answered once, never sent to the model.
    queue_reply(tx, m.chat_id, m.message_id, telegram::media_reply(m.media));
    context.store.mark_done(tx, m.update_id);
    co_await finish(std::move(tx));
    co_return;
  }
  const auto command = telegram::parse_command(m.text);
  if (command == Command::none) {
    co_await take_turn(std::move(m));
    co_return;
  }
  const auto handler = command_handler(command);
  std::string reply = co_await (this->*handler)(m, tx);
  queue_reply(tx, m.chat_id, m.message_id, reply);
  context.store.mark_done(tx, m.update_id);
  co_await finish(std::move(tx));
}

// The chat commands, one handler each: the reply to send (rows they add go in `tx`).
TelegramPlatform::Impl::CommandHandler TelegramPlatform::Impl::command_handler(Command command) {
  static const std::map<Command, CommandHandler> handlers = {
      {Command::new_session, &Impl::command_new},  {Command::status, &Impl::command_status},
      {Command::approve, &Impl::command_approval}, {Command::deny, &Impl::command_approval},
      {Command::stop, &Impl::command_stop},        {Command::compress, &Impl::command_compress},
      {Command::usage, &Impl::command_usage},      {Command::help, &Impl::command_help},
  };
  const auto found = handlers.find(command);
  return found == handlers.end() ? &Impl::command_help : found->second;
}

asio::awaitable<std::string> TelegramPlatform::Impl::command_new(const Inbound& m,
                                                                 state::Transaction& tx) {
  context.sessions.add_session(tx, context.sessions.new_session_id(), kPlatform, m.chat_key);
  co_return telegram::new_session_reply();
}

asio::awaitable<std::string> TelegramPlatform::Impl::command_status(const Inbound& m,
                                                                    state::Transaction&) {
  const auto session = co_await context.sessions.chat_session(kPlatform, m.chat_key);
  std::size_t messages = 0;
  const long tokens = co_await context.conversation.history_tokens(session, &messages);
  std::string reply = telegram::status_reply(model, provider, messages, context.gateway_state()) +
                      "\n" + telegram::context_line(tokens, context.conversation.context_window());
  co_return reply;
}

// What /approve and /deny did (at once, from the poll), in order.
asio::awaitable<std::string> TelegramPlatform::Impl::command_approval(const Inbound& m,
                                                                      state::Transaction&) {
  auto& notes = approval_notes[m.chat_key];
  if (notes.empty()) co_return "Nothing is waiting for your approval.";
  std::string reply = notes.front();
  notes.erase(notes.begin());
  co_return reply;
}

asio::awaitable<std::string> TelegramPlatform::Impl::command_stop(const Inbound& m,
                                                                  state::Transaction&) {
  const bool stopped = stopped_by_command.erase(m.chat_key) > 0;
  std::string reply = stopped ? telegram::stopped_reply() : telegram::nothing_to_stop_reply();
  co_return reply;
}

asio::awaitable<std::string> TelegramPlatform::Impl::command_compress(const Inbound& m,
                                                                      state::Transaction&) {
  const auto session = co_await context.sessions.chat_session(kPlatform, m.chat_key);
  TurnOptions whose = turn_options(session, m.chat_key);
  const auto fitted = co_await context.conversation.compress(session, std::move(whose));
  std::string reply = telegram::compress_reply(fitted.replaced, fitted.dropped, fitted.tokens_after,
                                               context.conversation.context_window());
  co_return reply;
}

asio::awaitable<std::string> TelegramPlatform::Impl::command_usage(const Inbound& m,
                                                                   state::Transaction&) {
  const auto today =
      static_cast<double>(usage::period_window(BudgetPeriod::day, usage::unix_seconds_now()).start);
  auto chat =
      co_await context.ledger.totals(today, usage::UsageGrouping::none, chat_id_of(m.chat_key));
  auto all = co_await context.ledger.totals(today, usage::UsageGrouping::none);
  const auto chat_total = chat.empty() ? usage::UsageTotal{} : chat[0];
  const auto all_total = all.empty() ? usage::UsageTotal{} : all[0];
  std::string reply =
      telegram::usage_reply(usage::usage_line(chat_total), usage::usage_line(all_total));
  co_return reply;
}

asio::awaitable<std::string> TelegramPlatform::Impl::command_help(const Inbound&,
                                                                  state::Transaction&) {
  co_return telegram::help_reply();
}

// Streamed: the answer appears as it is written, in messages edited in place (those of a
// previous process's attempt at this message are edited, never sent again).
asio::awaitable<std::shared_ptr<TelegramPlatform::Impl::StreamedReply>>
TelegramPlatform::Impl::start_stream(const Inbound& m, TurnOptions& options,
                                     std::shared_ptr<bool> done) {
  if (!settings.streaming) co_return nullptr;
  auto streamed = std::make_shared<StreamedReply>();  // shared with its ticker
  streamed->chat_id = m.chat_id;
  streamed->reply_to = m.message_id;
  streamed->update_id = m.update_id;
  if (chat::kind_of_key(m.chat_key).value_or(chat::ChatKind::dm) != chat::ChatKind::dm) {
    streamed->settings.edit_every = 3000ms;  // groups: Telegram allows fewer edits
  }
  streamed->ids = co_await context.store.stream_messages(m.update_id);
  StreamedReply* raw = streamed.get();  // owned by the turn, for the whole turn
  providers::DeltaSink sink = [this, raw](std::string delta) {
    return stream_delta(*raw, std::move(delta));
  };
  options.sink = std::move(sink);
  if (settings_tool_progress != ToolProgress::off) {
    options.on_tool_call = [this, raw](const providers::ToolCall& call) {
      const auto name = tools::display_tool_name(call.name);
      if (settings_tool_progress == ToolProgress::changed && name == raw->last_tool) return;
      raw->last_tool = name;
      raw->text += (raw->text.empty() ? "" : "\n") +
                   telegram::tool_progress_line(name, call.arguments) + "\n";
    };
  }
  asio::co_spawn(io, stream_ticker(streamed, std::move(done)),
                 [](std::exception_ptr e) { log_exception(e, "telegram stream"); });
  co_return streamed;
}

// A message for the model: one turn through the conversation core, the reply (or the note
// of how it ended) queued in the outbox with the turn's rows.
asio::awaitable<void> TelegramPlatform::Impl::take_turn(Inbound m) {
  const auto session = co_await context.sessions.chat_session(kPlatform, m.chat_key);
  auto done = std::make_shared<bool>(false);
  asio::co_spawn(io, typing_loop(m.chat_id, done),
                 [](std::exception_ptr e) { log_exception(e, "telegram typing indicator"); });
  // Named, never a temporary inside the co_await: GCC 12 mishandles one holding a
  // std::function (the turn never resumed).
  TurnOptions options = turn_options(session, m.chat_key);
  auto streamed = co_await start_stream(m, options, done);
  options.approver = [this, chat_id = m.chat_id, chat_key = m.chat_key](std::string tool,
                                                                        std::string arguments) {
    return ask_approval(chat_id, chat_key, std::move(tool), std::move(arguments));
  };
  auto stop_signal = std::make_shared<providers::AbortSignal>();
  options.abort = stop_signal;
  running_turns[m.chat_key] = stop_signal;
  struct EndRunning {
    std::map<std::string, std::shared_ptr<providers::AbortSignal>>& turns;
    const std::string& chat;
    ~EndRunning() { turns.erase(chat); }
  } end_running{running_turns, m.chat_key};

  ConversationTurn turn;
  turn.session_id = session;
  turn.platform = kPlatform;
  turn.chat_key = m.chat_key;
  turn.fresh = {{"user", m.text}};
  turn.redelivered = true;  // the inbox hands it over again after a crash or a drain
  const Inbound* message = &m;
  StreamedReply* reply = streamed.get();
  PlatformRows rows = [this, message, reply, done](state::Transaction& tx,
                                                   const ConversationResult& taken) {
    *done = true;
    return queue_turn_reply(tx, *message, taken, reply);
  };
  const auto taken =
      co_await context.conversation.take_turn(std::move(turn), std::move(options), std::move(rows));
  *done = true;
  if (taken.stored == StoreOutcome::stored) {
    kick_delivery();
  } else {
    // Left unanswered in the inbox: the next start answers it again.
    spdlog::error("telegram: could not store the answer ({}); it is retried at the next start",
                  taken.store_error);
  }
}

// The turn's reply as rows of its transaction: the answer (into the streamed messages when
// there are some), or the sentence saying how it ended; the message is marked done unless the
// next process is to finish it.
asio::awaitable<void> TelegramPlatform::Impl::queue_turn_reply(state::Transaction& tx,
                                                               const Inbound& m,
                                                               const ConversationResult& taken,
                                                               StreamedReply* streamed) {
  const auto& result = taken.result;
  // Its rounds are stored and the message stays unanswered in the inbox: the next process
  // resumes the turn from them, and the user gets the answer without asking again.
  if (taken.end.mark == TurnMark::resumable) co_return;
  switch (taken.end.tell) {
    case TurnTell::answer: {
      std::string text =
          result.content.empty() ? "(The model sent an empty answer.)" : result.content;
      if (taken.fitted.dropped) text = std::string(kDroppedNotice) + "\n\n" + text;
      if (!result.budget_warning.empty()) text += "\n\n" + result.budget_warning;
      co_await settle_stream(streamed);
      if (streamed && !streamed->ids.empty()) {
        queue_streamed_final(tx, *streamed, text);
      } else {
        queue_reply(tx, m.chat_id, m.message_id, text);
      }
      break;
    }
    case TurnTell::interrupted:
      queue_reply(tx, m.chat_id, m.message_id, telegram::interrupted_turn_reply());
      break;
    case TurnTell::failure:
      queue_reply(tx, m.chat_id, m.message_id, telegram::failed_turn_reply(*result.failure));
      break;
    case TurnTell::nothing:  // stopped: the /stop (or the interrupting message) answers
      break;
  }
  context.store.mark_done(tx, m.update_id);
}

// An edit still on its way must not land after the final one, and a 429 that asked this chat
// to wait holds the final edit too (at most a minute here; the outbox obeys any later one).
asio::awaitable<void> TelegramPlatform::Impl::settle_stream(StreamedReply* streamed) {
  if (!streamed) co_return;
  for (int i = 0; streamed->pumping && i < 200; ++i) co_await sleep(50ms);
  if (Clock::now() < streamed->blocked_until) {
    co_await sleep(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(
                                streamed->blocked_until - Clock::now()),
                            std::chrono::milliseconds(60000)));
  }
}

// The time rules (the first message after 1 s, an edit a second after the last) hold when
// no delta comes too: a tool runs, the model thinks.
asio::awaitable<void> TelegramPlatform::Impl::stream_ticker(std::shared_ptr<StreamedReply> reply,
                                                            std::shared_ptr<bool> done) {
  auto self = shared_from_this();
  while (!*done) {
    co_await sleep(250ms);
    if (*done) break;
    co_await pump(*reply);
  }
}

asio::awaitable<bool> TelegramPlatform::Impl::stream_delta(StreamedReply& reply,
                                                           std::string delta) {
  reply.text += delta;
  co_await pump(reply);
  co_return true;  // the chat never stops the model: a failed edit is made up at the end
}

// Carries out what the stream plan says until it says wait. Sends and edits go straight to
// Telegram; only the final text goes through the outbox (durable, retried).
asio::awaitable<bool> TelegramPlatform::Impl::pump(StreamedReply& r) {
  if (r.pumping) co_return true;
  r.pumping = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{r.pumping};
  for (int guard = 0; guard < 64; ++guard) {
    const auto now = Clock::now();
    telegram::StreamView view;
    view.live = r.text.substr(r.frozen);
    view.sent = r.live < r.ids.size();
    view.shown = r.shown_known ? r.shown : std::string("\x01");  // unknown: always edit
    view.since_start = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.started);
    view.since_last_edit = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.last_edit);
    view.blocked = now < r.blocked_until;
    const auto step = telegram::next_stream_step(view, r.settings);
    if (step.action == telegram::StreamAction::wait) co_return true;
    const bool new_message = !view.sent;
    json params = json::object();
    params["chat_id"] = r.chat_id;
    params["text"] = step.text;
    if (new_message && r.ids.empty() && r.reply_to > 0) {
      params["reply_to_message_id"] = r.reply_to;
      params["allow_sending_without_reply"] = true;
    }
    if (!new_message) params["message_id"] = r.ids[r.live];
    const std::string method = new_message ? "sendMessage" : "editMessageText";  // named: GCC 12
    const auto answer = co_await call(send_client, method, std::move(params), 10000ms);
    r.last_edit = Clock::now();
    const bool not_modified = answer.description.find("not modified") != std::string::npos;
    if (!answer.ok && !not_modified) {
      if (answer.retry_after)
        r.blocked_until = Clock::now() + std::chrono::seconds(*answer.retry_after);
      spdlog::debug("telegram: streaming to chat {}: {} failed ({})", r.chat_id,
                    new_message ? "sendMessage" : "editMessageText", answer.description);
      if (!answer.retry_after) r.blocked_until = Clock::now() + 1s;
      co_return false;
    }
    if (new_message) {
      const long long id = answer.result.is_object() ? answer.result.value("message_id", 0LL) : 0;
      if (id == 0) co_return false;
      r.ids.push_back(id);
      try {
        co_await context.store.add_stream_message(r.update_id, static_cast<long long>(r.live), id);
      } catch (const std::exception& e) {
        spdlog::error("telegram: could not store a streamed message's id ({})", e.what());
      }
    }
    r.shown = step.text;
    r.shown_known = true;
    if (step.action == telegram::StreamAction::freeze) {
      r.frozen += step.text.size();
      ++r.live;
      r.shown.clear();
      r.shown_known = false;
    }
  }
  co_return true;
}

// Shows the call with Approve / Deny buttons and waits for the user (a press, /approve or
// /deny) or the timeout, which denies.
asio::awaitable<bool> TelegramPlatform::Impl::ask_approval(long long chat_id, std::string chat_key,
                                                           std::string tool,
                                                           std::string arguments) {
  auto self = shared_from_this();
  const std::string id = std::to_string(next_approval++);
  auto pending = std::make_shared<PendingApproval>();
  pending->chat_key = chat_key;
  pending->wake = std::make_shared<asio::steady_timer>(io, approval_timeout);
  approvals[id] = pending;
  const std::string question = telegram::approval_prompt(tool, arguments);
  json buttons = json::array();
  buttons.push_back({{"text", "Approve"}, {"callback_data", "approve:" + id}});
  buttons.push_back({{"text", "Deny"}, {"callback_data", "deny:" + id}});
  json params = json::object();
  params["chat_id"] = chat_id;
  params["text"] = question;
  params["reply_markup"] = {{"inline_keyboard", json::array({buttons})}};
  const auto sent = co_await call(send_client, "sendMessage", std::move(params), 10000ms);
  long long message_id = 0;
  if (sent.ok && sent.result.is_object()) message_id = sent.result.value("message_id", 0LL);
  if (!sent.ok) {
    spdlog::warn("telegram: could not ask for approval ({}); {} is not run", sent.description,
                 tool);
    approvals.erase(id);
    co_return false;
  }
  if (!pending->decision) {
    auto wake = pending->wake;
    co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  approvals.erase(id);
  const bool approved = pending->decision.value_or(false);
  spdlog::info("telegram: chat {}: {} {}", chat_key, tool,
               approved            ? "approved"
               : pending->decision ? "denied"
                                   : "not answered in time: denied");
  if (message_id != 0) {  // the question says what became of it; best effort
    json edit = json::object();
    edit["chat_id"] = chat_id;
    edit["message_id"] = message_id;
    edit["text"] = question + "\n" +
                   (approved            ? "✅ Approved."
                    : pending->decision ? "❌ Denied."
                                        : "⌛ No answer in time: denied.");
    co_await call(send_client, "editMessageText", std::move(edit), 10000ms);
  }
  co_return approved;
}

asio::awaitable<void> TelegramPlatform::Impl::answer_press(telegram::ButtonPress press) {
  auto self = shared_from_this();
  std::string text;
  const auto colon = press.data.find(':');
  const auto verb = press.data.substr(0, colon);
  const auto id = colon == std::string::npos ? std::string() : press.data.substr(colon + 1);
  telegram::Inbound who;
  who.user_id = press.user_id;
  who.username = press.username;
  const auto found = approvals.find(id);
  if (!allowed(who)) {
    text = "Only an allowed user can answer this.";
  } else if (found == approvals.end() || found->second->decision ||
             (verb != "approve" && verb != "deny")) {
    text = "This question is answered already.";
  } else {
    decide(*found->second, verb == "approve");
    text = verb == "approve" ? "Approved" : "Denied";
  }
  json params = json::object();
  params["callback_query_id"] = press.id;
  params["text"] = text;
  co_await call(send_client, "answerCallbackQuery", std::move(params), 10000ms);
}

asio::awaitable<void> TelegramPlatform::Impl::deliver_loop() {
  auto self = shared_from_this();
  try {
    while (more_deliveries) {
      more_deliveries = false;
      co_await deliver_pending();
    }
  } catch (const std::exception& e) {
    spdlog::error(
        "telegram: state store failed while delivering ({}); undelivered replies are "
        "sent at the next start",
        e.what());
  }
  delivering = false;
}

asio::awaitable<void> TelegramPlatform::Impl::deliver_pending() {
  telegram::Backoff backoff(delivery_backoff, 30000ms);
  while (true) {
    // Not in the while condition: GCC 12 evaluates a co_await there only once.
    if (lease_lost) break;
    auto delivery = co_await context.store.next_delivery();
    if (!delivery) break;
    json params = {{"chat_id", delivery->chat_id}, {"text", delivery->text}};
    const bool edit = delivery->edit_message_id != 0;
    if (edit) {
      params["message_id"] = delivery->edit_message_id;
    } else if (delivery->reply_to > 0) {
      params["reply_to_message_id"] = delivery->reply_to;
      params["allow_sending_without_reply"] = true;
    }
    const std::string method = edit ? "editMessageText" : "sendMessage";  // named: GCC 12
    const auto reply = co_await call(send_client, method, params, 30000ms);
    // An edit to the text the message already shows is done, not failed.
    if (reply.ok || (edit && reply.description.find("not modified") != std::string::npos)) {
      co_await context.store.delivery_done(delivery->id);
      backoff.reset();
      continue;
    }
    co_await context.store.delivery_failed(delivery->id);
    if (delivery->attempts + 1 >= kMaxDeliveryAttempts) {
      // Kept, never deleted: sent again when Telegram answers again (or at the next start).
      spdlog::error(
          "telegram: a reply to chat {} failed {} times ({}); kept as abandoned until Telegram "
          "answers again",
          delivery->chat_id, kMaxDeliveryAttempts, reply.description);
      co_await context.store.delivery_abandoned(delivery->id);
      ++abandoned;
      context.metrics.set_telegram_abandoned(abandoned);
      continue;
    }
    const auto wait = backoff.next();
    spdlog::warn("telegram: sendMessage failed ({}); retrying in {} ms", reply.description,
                 wait.count());
    // Named, not a conditional inside the co_await: GCC 12 read it from an unset slot.
    const auto pause =
        reply.retry_after ? std::chrono::milliseconds(*reply.retry_after * 1000) : wait;
    co_await sleep(pause);
  }
}

asio::awaitable<void> TelegramPlatform::Impl::revive_abandoned() {
  long long revived = 0;
  try {
    revived = co_await context.store.revive_abandoned();
  } catch (const std::exception& e) {
    spdlog::error("telegram: could not retry the abandoned replies ({})", e.what());
    co_return;
  }
  abandoned = 0;
  context.metrics.set_telegram_abandoned(0);
  if (revived > 0) {
    spdlog::info("telegram: sending {} reply part(s) that could not be delivered before", revived);
    kick_delivery();
  }
}

TelegramPlatform::TelegramPlatform(asio::io_context& io, const Config& config, Context context)
    : impl_(std::make_shared<Impl>(io, config, std::move(context))) {
  impl_->settings_require_mention = config.gateway.telegram.require_mention;
  impl_->settings_per_user = config.gateway.group_sessions_per_user;
  impl_->settings_busy_interrupt = config.display.busy_input_interrupt;
  impl_->settings_tool_progress = config.display.tool_progress;
}

TelegramPlatform::~TelegramPlatform() = default;

void TelegramPlatform::start() {
  if (!impl_->context.shared) {
    impl_->start_polling();
    return;
  }
  impl_->state = PlatformState::standby;
  asio::co_spawn(impl_->io, impl_->lead(),
                 [](std::exception_ptr e) { log_exception(e, "telegram poller lock"); });
}

// Recorded but unanswered messages and undelivered replies from before a restart.
asio::awaitable<void> TelegramPlatform::Impl::resume_pending() {
  auto self = shared_from_this();
  std::vector<std::string> chats;
  try {
    co_await load_refused_users();
    chats = co_await context.store.chats_with_inbound();
  } catch (const std::exception& e) {
    spdlog::error(
        "telegram: could not read the unanswered messages ({}); they wait for the next "
        "start",
        e.what());
  }
  resuming = false;
  for (const auto& chat : chats) kick_chat(chat);
  co_await revive_abandoned();  // a new process tries those again too
  kick_delivery();
}

void TelegramPlatform::stop_polling() {
  impl_->drained = true;
  impl_->polling = false;
  impl_->poll_client.abort_all();
}

long TelegramPlatform::busy() const {
  return static_cast<long>(impl_->running_chats.size()) + (impl_->delivering ? 1 : 0) +
         (impl_->resuming ? 1 : 0);
}

PlatformStatus TelegramPlatform::status() const {
  std::string detail = impl_->detail;
  if (impl_->abandoned > 0) {
    detail += (detail.empty() ? "" : "; ") + std::to_string(impl_->abandoned) +
              " reply part(s) abandoned until Telegram answers again";
  }
  return {"telegram", std::string(to_string(impl_->state)), detail};
}

void TelegramPlatform::reconfigure(const Config& config) {
  impl_->model = config.model.default_model;
  impl_->provider = config.model.provider;
  impl_->settings.allowed_users = config.gateway.telegram.allowed_users;
  impl_->settings.allow_all_users = config.gateway.telegram.allow_all_users;
  impl_->settings_require_mention = config.gateway.telegram.require_mention;
  impl_->settings_per_user = config.gateway.group_sessions_per_user;
  impl_->settings_busy_interrupt = config.display.busy_input_interrupt;
  impl_->settings_tool_progress = config.display.tool_progress;
}

}  // namespace hermes::daemon
