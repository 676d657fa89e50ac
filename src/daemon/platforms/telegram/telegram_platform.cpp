#include "daemon/platforms/telegram/telegram_platform.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "common/logging.hpp"
#include "common/runtime_status.hpp"
#include "common/test_hooks.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/platforms/chat/backoff.hpp"
#include "daemon/platforms/chat/chat_machinery.hpp"
#include "daemon/platforms/chat/platform_lease.hpp"
#include "daemon/platforms/telegram/telegram_adapter.hpp"
#include "daemon/platforms/telegram/telegram_updates.hpp"
#include "daemon/providers/http_client.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr int kPollSeconds = 25;

// No answer to a poll for this long (its timeout, the call's margin and a spare) is silence:
// /health says degraded, and a poll loop that made no progress that long is restarted.
// HERMES_TEST_HOOKS=1 with HERMES_TEST_POLL_SILENCE_MS=N shortens it for tests.
std::chrono::milliseconds silence_limit_setting() {
  return test_hook_millis("HERMES_TEST_POLL_SILENCE_MS", 200, 600000)
      .value_or(std::chrono::milliseconds((kPollSeconds + 10 + 25) * 1000));
}
// A server that answers at once (the local emulator does) must not make us spin.
constexpr auto kMinPollInterval = 100ms;  // at most 10 empty polls per second

// What `status` and `hermes gateway status` say the platform is doing.
enum class PlatformState { standby, connecting, running, error, stopped };

std::string_view to_string(PlatformState state) {
  switch (state) {
    case PlatformState::standby:
      return "standby";
    case PlatformState::connecting:
      return "connecting";
    case PlatformState::running:
      return "running";
    case PlatformState::error:
      return "error";
    case PlatformState::stopped:
      return "stopped";
  }
  return "error";
}

chat::ChatSettings chat_settings(const Config& config) {
  chat::ChatSettings s;
  s.allowed_users = config.gateway.telegram.allowed_users;
  s.allow_all_users = config.gateway.telegram.allow_all_users;
  s.streaming = config.gateway.telegram.streaming;
  s.busy_interrupt = config.display.busy_input_interrupt;
  s.tool_progress = config.display.tool_progress;
  s.model = config.model.default_model;
  s.provider = config.model.provider;
  return s;
}

}  // namespace

// The Telegram poller: getUpdates with a stored offset (one poller per bot token across
// gateways), handing what it brings to the shared chat machinery, which answers through the
// Telegram adapter.
struct TelegramPlatform::Impl : std::enable_shared_from_this<TelegramPlatform::Impl> {
  Impl(asio::io_context& io_context, const Config& config, Context c)
      : io(io_context),
        poll_client(io_context),
        settings(config.gateway.telegram),
        per_user(config.gateway.group_sessions_per_user),
        context(std::move(c)),
        adapter(io_context, config.gateway.telegram),
        machinery(io_context, adapter,
                  chat::ChatMachinery::Context{
                      context.sessions, context.store, context.conversation, context.metrics,
                      context.gateway_state, context.ledger,
                      [metrics = &context.metrics](long n) { metrics->set_telegram_abandoned(n); }},
                  chat_settings(config)) {}

  asio::awaitable<void> poll_loop();
  asio::awaitable<bool> poll_once(long long& offset, chat::Backoff& backoff);
  asio::awaitable<void> wait_after_failed_poll(const telegram::ApiReply& reply,
                                               chat::Backoff& backoff);
  asio::awaitable<void> get_past_oversized(const telegram::ApiReply& reply, long long& offset,
                                           chat::Backoff& backoff);
  asio::awaitable<void> learn_identity();
  asio::awaitable<void> supervise_polling();
  asio::awaitable<void> lead();
  void start_polling();
  asio::awaitable<void> sleep(std::chrono::milliseconds wait) {
    asio::steady_timer timer(io, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::io_context& io;
  providers::HttpClient poll_client;  // separate, so stopping the poll leaves sends alone
  TelegramConfig settings;
  bool per_user;  // gateway.group_sessions_per_user
  Context context;
  telegram::TelegramAdapter adapter;
  chat::ChatMachinery machinery;
  bool polling = false;
  bool poll_running = false;
  bool drained = false;  // stop_polling(): no more polling by this process
  PlatformState state = PlatformState::connecting;
  std::string detail;
  double last_event_at = 0;                        // the last answered poll
  Clock::time_point last_progress = Clock::now();  // a poll began or ended
  std::chrono::milliseconds silence_limit = silence_limit_setting();
  bool supervising = false;
  telegram::BotIdentity bot;  // from getMe: to know a mention of it in a group
  bool identity_tried = false;
  Clock::time_point last_identity_try;
  // Polls left that ask for one update at a time, after an answer too large to read.
  int one_at_a_time = 0;
};

// Who the bot is; until getMe answers, group messages are answered only when they are
// commands (a mention cannot be recognised yet).
asio::awaitable<void> TelegramPlatform::Impl::learn_identity() {
  json params = json::object();
  const auto reply = co_await adapter.call(poll_client, "getMe", std::move(params), 10000ms);
  if (!reply.ok || !reply.result.is_object()) {
    spdlog::warn("telegram: getMe failed ({}); mentions in groups are not recognised yet",
                 reply.description);
    co_return;
  }
  bot.id = reply.result.value("id", 0LL);
  bot.username = reply.result.value("username", std::string());
  spdlog::info("telegram: the bot is @{}", bot.username);
}

asio::awaitable<void> TelegramPlatform::Impl::poll_loop() {
  auto self = shared_from_this();
  poll_running = true;
  struct Ended {  // however the loop ends, even by an exception: the supervisor sees it
    bool& running;
    ~Ended() { running = false; }
  } ended{poll_running};
  long long offset = (co_await context.store.offset()).value_or(0);
  chat::Backoff backoff(1000ms, 30000ms);
  while (polling) {
    const auto started = Clock::now();
    const bool anything = co_await poll_once(offset, backoff);
    if (!anything && polling) {
      const auto elapsed = Clock::now() - started;
      if (elapsed < kMinPollInterval) {
        co_await sleep(
            std::chrono::duration_cast<std::chrono::milliseconds>(kMinPollInterval - elapsed));
      }
    }
  }
  state = PlatformState::stopped;
}

// One getUpdates: what it brings goes to the machinery (recorded before the offset moves).
// True when it brought messages.
asio::awaitable<bool> TelegramPlatform::Impl::poll_once(long long& offset, chat::Backoff& backoff) {
  // Until getMe answers (tried again at most every 30 s: a failing one costs no poll).
  if (bot.id == 0 && (!identity_tried || Clock::now() - last_identity_try >= 30s)) {
    identity_tried = true;
    last_identity_try = Clock::now();
    co_await learn_identity();
  }
  json params = {{"timeout", kPollSeconds},
                 {"allowed_updates", json::array({"message", "callback_query"})}};
  if (offset > 0) params["offset"] = offset;
  if (one_at_a_time > 0) params["limit"] = 1;
  const auto reply = co_await adapter.call(poll_client, "getUpdates", params,
                                           std::chrono::seconds(kPollSeconds + 10));
  last_progress = Clock::now();
  if (!polling) co_return false;
  if (reply.too_large) {
    co_await get_past_oversized(reply, offset, backoff);
    co_return true;
  }
  if (!reply.ok) {
    co_await wait_after_failed_poll(reply, backoff);
    co_return true;  // waited already
  }
  backoff.reset();
  last_event_at = unix_time_now();
  if (state == PlatformState::error) {
    // Telegram answers again: replies given up on while it did not are sent now.
    co_await machinery.revive_abandoned();
  }
  state = PlatformState::running;
  detail = settings.api_base.find("api.telegram.org") != std::string::npos ? "" : settings.api_base;
  auto polled =
      telegram::parse_updates(reply.result, offset, bot, settings.require_mention, per_user);
  if (polled.skipped_unaddressed > 0) {
    spdlog::debug(
        "telegram: {} group message(s) not for the bot (gateway.telegram.require_mention)",
        polled.skipped_unaddressed);
  }
  const bool anything = !polled.messages.empty();
  const bool moved = polled.next_offset != offset;
  const bool recorded = co_await machinery.receive(
      std::move(polled.messages), std::move(polled.presses), polled.next_offset, moved);
  if (!recorded) {
    // Telegram keeps them until an offset past them is sent: polled again after a wait.
    state = PlatformState::error;
    detail = "the state store refused the updates";
    spdlog::error("telegram: polling the unrecorded update(s) again in {}s",
                  std::chrono::duration_cast<std::chrono::seconds>(backoff.peek()).count());
    co_await sleep(backoff.next());
    co_return true;
  }
  offset = polled.next_offset;
  if (one_at_a_time > 0) one_at_a_time = anything ? one_at_a_time - 1 : 0;
  co_return anything;
}

// An answer over the size cap fails the same way at every poll (Telegram keeps the update
// until an offset past it is sent): narrowed to one update, which is skipped if it alone is
// too large, with its id and size in the log.
asio::awaitable<void> TelegramPlatform::Impl::get_past_oversized(const telegram::ApiReply& reply,
                                                                 long long& offset,
                                                                 chat::Backoff& backoff) {
  const auto size = reply.declared_bytes > 0 ? std::to_string(reply.declared_bytes) + " bytes"
                                             : std::string("over the size cap");
  const auto step = telegram::after_oversized_answer(offset, one_at_a_time > 0);
  if (step.kind == telegram::OversizedStep::Kind::one_at_a_time) {
    spdlog::warn(
        "telegram: a getUpdates answer too large to read ({}); asking for one update "
        "at a time",
        size);
    one_at_a_time = 100;
    co_return;
  }
  if (step.kind == telegram::OversizedStep::Kind::skip) {
    // The offset past it is recorded before it is used: a restart does not meet it again.
    std::vector<telegram::Inbound> none;  // named: no temporaries in a co_await (GCC 12)
    std::vector<telegram::ButtonPress> no_presses;
    const bool recorded =
        co_await machinery.receive(std::move(none), std::move(no_presses), step.next_offset, true);
    if (recorded) {
      spdlog::error("telegram: update {} skipped: too large to read ({}, {}); it is not answered",
                    offset, size, reply.description);
      detail = "skipped update " + std::to_string(offset) + ", too large to read (" + size + ")";
      offset = step.next_offset;
      co_return;
    }
  }
  state = PlatformState::error;
  detail = step.kind == telegram::OversizedStep::Kind::stuck
               ? "the first pending update is too large to read (" + size +
                     ") and no offset is known to skip it; drop it with the Bot API's "
                     "deleteWebhook?drop_pending_updates=true"
               : "the state store refused the offset past an update too large to read";
  spdlog::error("telegram: {}", detail);
  co_await sleep(backoff.next());
}

asio::awaitable<void> TelegramPlatform::Impl::wait_after_failed_poll(
    const telegram::ApiReply& reply, chat::Backoff& backoff) {
  state = PlatformState::error;
  if (reply.http_status == 409) {
    detail = "409 Conflict: another process polls this bot token";
    spdlog::error(
        "telegram: another poller holds this bot token (HTTP 409); stop the other bot or "
        "gateway using it. Retrying in 5s.");
    co_await sleep(5000ms);
    co_return;
  }
  detail = reply.description.empty() ? "getUpdates failed" : reply.description;
  const auto wait = backoff.next();
  spdlog::warn("telegram: getUpdates failed ({}); retrying in {}s", detail,
               std::chrono::duration_cast<std::chrono::seconds>(wait).count());
  const auto pause =  // named, not a conditional inside the co_await (GCC 12)
      reply.retry_after ? std::chrono::milliseconds(*reply.retry_after * 1000) : wait;
  co_await sleep(pause);
}

// Several gateways: polls only while this gateway holds the bot token's lock.
asio::awaitable<void> TelegramPlatform::Impl::lead() {
  auto self = shared_from_this();
  chat::LeaseHooks hooks;
  hooks.waiting = "another gateway polls this bot token";
  hooks.standby = [this](std::string why) {
    state = PlatformState::standby;
    detail = std::move(why);
  };
  hooks.start = [this] { start_polling(); };
  hooks.active = [this] { return polling; };
  hooks.lose = [this] {
    polling = false;
    machinery.close();
    machinery.stop_delivering();  // the outbox is another gateway's now
    poll_client.abort_all();
  };
  hooks.settled = [this] { return !poll_running && machinery.idle(); };
  hooks.drained = [this] { return drained; };
  std::string lock = "telegram:" + settings.bot_token;  // hashed, never stored
  std::string held = "telegram: this gateway polls the bot now (it holds the poller lock)";
  std::string lost =
      "telegram: the poller lock went with the database connection; standing by until it can "
      "be taken again";
  co_await chat::lead_platform(io, *context.shared, std::move(lock), std::move(held),
                               std::move(lost), std::move(hooks));
}

// The poller's own watchdog: a poll that made no progress past the silence limit (a
// connection that hangs without an error) is cut so the loop polls again, and a loop that
// ended while it should poll is started again; each is logged.
asio::awaitable<void> TelegramPlatform::Impl::supervise_polling() {
  auto self = shared_from_this();
  supervising = true;
  const auto tick = std::min<std::chrono::milliseconds>(silence_limit / 4, 1000ms);
  while (polling) {
    co_await sleep(tick);
    if (!polling) break;
    const auto quiet = Clock::now() - last_progress;
    if (poll_running && quiet > silence_limit) {
      spdlog::warn("telegram: the poll loop made no progress for {} s; restarting its poll",
                   std::chrono::duration_cast<std::chrono::seconds>(quiet).count());
      last_progress = Clock::now();
      poll_client.abort_all();
    } else if (!poll_running) {
      spdlog::warn("telegram: the poll loop had stopped; starting it again");
      last_progress = Clock::now();
      asio::co_spawn(io, poll_loop(),
                     [](std::exception_ptr e) { log_exception(e, "telegram poll loop"); });
    }
  }
  supervising = false;
}

void TelegramPlatform::Impl::start_polling() {
  polling = true;
  machinery.open();
  state = PlatformState::connecting;
  detail.clear();
  last_progress = Clock::now();
  poll_running = true;  // before the supervisor's first look
  asio::co_spawn(io, poll_loop(),
                 [](std::exception_ptr e) { log_exception(e, "telegram poll loop"); });
  if (!supervising) {
    asio::co_spawn(io, supervise_polling(),
                   [](std::exception_ptr e) { log_exception(e, "telegram poll supervisor"); });
  }
  asio::co_spawn(io, machinery.resume_pending(),
                 [](std::exception_ptr e) { log_exception(e, "telegram resume"); });
}

TelegramPlatform::TelegramPlatform(asio::io_context& io, const Config& config, Context context)
    : impl_(std::make_shared<Impl>(io, config, std::move(context))) {}

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

void TelegramPlatform::stop_polling() {
  impl_->drained = true;
  impl_->polling = false;
  impl_->machinery.close();
  impl_->poll_client.abort_all();
}

void TelegramPlatform::set_jobs(chat::JobHooks jobs) {
  impl_->machinery.set_jobs(std::move(jobs));
}

void TelegramPlatform::send_queued() {
  impl_->machinery.send_queued();
}

long TelegramPlatform::busy() const {
  return impl_->machinery.busy();
}

PlatformStatus TelegramPlatform::status() const {
  return impl_->machinery.platform_status(
      std::string(to_string(impl_->state)), impl_->detail, impl_->last_event_at,
      std::chrono::duration<double>(impl_->silence_limit).count(), "Telegram");
}

void TelegramPlatform::reconfigure(const Config& config) {
  impl_->settings.allowed_users = config.gateway.telegram.allowed_users;
  impl_->settings.allow_all_users = config.gateway.telegram.allow_all_users;
  impl_->settings.require_mention = config.gateway.telegram.require_mention;
  impl_->per_user = config.gateway.group_sessions_per_user;
  impl_->machinery.reconfigure(chat_settings(config));
}

}  // namespace hermes::daemon
