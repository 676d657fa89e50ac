#include "daemon/platforms/slack/slack_platform.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "common/json_fields.hpp"
#include "common/logging.hpp"
#include "common/test_hooks.hpp"
#include "daemon/platforms/chat/backoff.hpp"
#include "daemon/platforms/chat/chat_machinery.hpp"
#include "daemon/platforms/chat/platform_lease.hpp"
#include "daemon/platforms/slack/slack_adapter.hpp"
#include "daemon/platforms/slack/slack_events.hpp"
#include "daemon/platforms/web_socket.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;
using namespace slack;

namespace {

constexpr auto kConnectTimeout = 15s;
constexpr auto kHelloTimeout = 20s;
// Slack pings its Socket Mode connections; one silent this long (with our own ping unanswered
// in its second half) is dead.
constexpr auto kIdleLimit = 60s;
constexpr std::size_t kRecentEvents = 1024;

chat::ChatSettings chat_settings(const Config& config) {
  const auto& sc = config.gateway.slack;
  chat::ChatSettings s;
  s.allowed_users = sc.allowed_users;
  s.allow_all_users = sc.allow_all_users;
  s.streaming = sc.streaming;
  s.busy_interrupt = config.display.busy_input_interrupt;
  s.tool_progress = config.display.tool_progress;
  s.model = config.model.default_model;
  s.provider = config.model.provider;
  return s;
}

// Test hook only (HERMES_TEST_HOOKS=1, HERMES_TEST_SLACK_KILL_BEFORE_ACK=1): the process is
// killed (SIGKILL) after the first event is recorded and before it is acknowledged, so tests
// can prove Slack's retry of it is answered once.
bool kill_before_ack() {
  static const bool kill = [] {  // read once, not at every envelope
    const char* set = std::getenv("HERMES_TEST_SLACK_KILL_BEFORE_ACK");
    return test_hooks_enabled() && set && std::string_view(set) == "1";
  }();
  return kill;
}

AddressRules address_rules(const Config& config) {
  return {config.gateway.slack.require_mention, config.gateway.group_sessions_per_user};
}

// How one connection ended, and what comes next.
struct ConnectionEnd {
  std::string fatal;     // set: what to fix; no reconnecting
  bool healthy = false;  // it got its hello: the backoff starts over
  bool at_once = false;  // Slack asked for a new connection: no wait
};

}  // namespace

struct SlackPlatform::Impl : std::enable_shared_from_this<SlackPlatform::Impl>,
                             chat::ConnectionState {
  Impl(asio::io_context& io_context, const Config& config, Context c)
      : io(io_context),
        settings(config.gateway.slack),
        rules(address_rules(config)),
        context(std::move(c)),
        adapter(io_context, config.gateway.slack, context.store),
        machinery(io_context, adapter,
                  chat::ChatMachinery::Context{context.sessions, context.store,
                                               context.conversation, context.metrics,
                                               context.gateway_state, context.ledger, [](long) {}},
                  chat_settings(config)) {}

  asio::awaitable<void> connection_loop();
  asio::awaitable<bool> learn_identity();
  asio::awaitable<std::optional<std::string>> socket_url();
  asio::awaitable<std::shared_ptr<WebSocketClient>> open_socket(std::string url);
  asio::awaitable<ConnectionEnd> run_connection(std::string url);
  asio::awaitable<bool> hand_over(std::string reason);
  asio::awaitable<void> on_envelope(const SocketMessage& message);
  asio::awaitable<bool> on_event(const json& payload);
  asio::awaitable<void> on_slash_command(const SocketMessage& message);
  asio::awaitable<bool> on_press(const json& payload);
  asio::awaitable<void> lead();
  void fail(std::string sentence);
  bool seen(long long update_id) const { return recent_set.contains(update_id); }
  void remember_seen(long long update_id);
  void start_connection();
  asio::awaitable<void> sleep(std::chrono::milliseconds wait) {
    asio::steady_timer timer(io, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::io_context& io;
  SlackConfig settings;
  AddressRules rules;
  Context context;
  SlackAdapter adapter;
  chat::ChatMachinery machinery;
  std::shared_ptr<WebSocketClient> socket;
  std::shared_ptr<WebSocketClient> retiring;  // the connection a disconnect replaced, closing
  bool connected_before = false;
  std::string bot_user;
  // Events recorded lately: Slack's retries of them are acknowledged and dropped here (the
  // inbox drops them too, across restarts).
  std::deque<long long> recent;
  std::unordered_set<long long> recent_set;
};

void SlackPlatform::Impl::fail(std::string sentence) {
  state = "error";
  detail = std::move(sentence);
  connecting = false;
  spdlog::error("slack: {}; not reconnecting until the gateway restarts or reloads", detail);
}

void SlackPlatform::Impl::remember_seen(long long update_id) {
  if (!recent_set.insert(update_id).second) return;
  recent.push_back(update_id);
  if (recent.size() > kRecentEvents) {
    recent_set.erase(recent.front());
    recent.pop_front();
  }
}

// auth.test: who the bot is (its own posts come back as events). False when it failed.
asio::awaitable<bool> SlackPlatform::Impl::learn_identity() {
  const auto reply = co_await adapter.call("auth.test", json::object(), false, 15000ms);
  if (reply.ok()) {
    bot_user = string_field(reply.body, "user_id");
    spdlog::info("slack: the bot is {} ({}) in team {}", string_field(reply.body, "user"), bot_user,
                 string_field(reply.body, "team"));
    co_return !bot_user.empty();
  }
  if (auto fatal = fatal_auth_error(reply.error, false)) {
    fail(std::move(*fatal));
  } else {
    state = "error";
    detail = "auth.test failed: " + reply.description;
    spdlog::warn("slack: {}", detail);
  }
  co_return false;
}

// apps.connections.open: a fresh Socket Mode URL. None when it failed (fatal ones stop).
asio::awaitable<std::optional<std::string>> SlackPlatform::Impl::socket_url() {
  const auto reply = co_await adapter.call("apps.connections.open", json::object(), true, 15000ms);
  const auto url = string_field(reply.body, "url");
  if (reply.ok() && !url.empty()) co_return url;
  if (auto fatal = fatal_auth_error(reply.error, true)) {
    fail(std::move(*fatal));
  } else {
    state = "error";
    detail = "apps.connections.open failed: " + reply.description;
    spdlog::warn("slack: {}", detail);
  }
  co_return std::nullopt;
}

// A connected socket that has said hello, or null.
asio::awaitable<std::shared_ptr<WebSocketClient>> SlackPlatform::Impl::open_socket(
    std::string url) {
  auto opened = std::make_shared<WebSocketClient>(io);
  opened->set_idle_limit(std::chrono::duration_cast<std::chrono::seconds>(kIdleLimit));
  if (auto failed = co_await opened->connect(url, kConnectTimeout)) {
    detail = *failed;
    spdlog::warn("slack: {}", *failed);
    co_return nullptr;
  }
  asio::steady_timer deadline(io, kHelloTimeout);
  auto timed_out = std::make_shared<bool>(false);
  deadline.async_wait([weak = std::weak_ptr(opened), timed_out](boost::system::error_code ec) {
    if (ec) return;
    *timed_out = true;
    if (auto waiting = weak.lock()) waiting->drop();
  });
  const auto text = co_await opened->read();
  deadline.cancel();
  const auto hello = text ? parse_socket_message(*text) : std::nullopt;
  if (*timed_out || !hello || hello->kind != SocketMessage::Kind::hello) {
    spdlog::warn("slack: no hello on the Socket Mode connection; trying again");
    co_return nullptr;
  }
  co_return opened;
}

asio::awaitable<void> SlackPlatform::Impl::connection_loop() {
  auto self = shared_from_this();
  loop_running = true;
  struct Ended {
    bool& running;
    ~Ended() { running = false; }
  } ended{loop_running};
  chat::Backoff backoff(1000ms, 60000ms);
  while (connecting) {
    std::optional<std::string> url;
    if (bot_user.empty() && co_await learn_identity()) backoff.reset();
    if (!bot_user.empty() && connecting) url = co_await socket_url();
    if (!connecting) break;
    if (!url) {
      co_await sleep(backoff.next());
      continue;
    }
    in_connection = true;
    const auto end = co_await run_connection(*url);
    in_connection = false;
    if (!connecting) break;
    if (!end.fatal.empty()) {
      fail(end.fatal);
      break;
    }
    if (end.healthy) backoff.reset();
    if (!end.at_once) co_await sleep(backoff.next());
  }
  if (state != "error") state = "stopped";
}

// One connection and the ones that replace it at Slack's request, until one ends on its own.
asio::awaitable<ConnectionEnd> SlackPlatform::Impl::run_connection(std::string url) {
  auto self = shared_from_this();
  ConnectionEnd end;
  socket = co_await open_socket(std::move(url));
  if (!socket) {
    state = "error";
    co_return end;
  }
  end.healthy = true;
  state = "running";
  detail.clear();
  spdlog::info("slack: Socket Mode connected");
  if (connected_before) co_await machinery.revive_abandoned();
  connected_before = true;
  while (true) {
    const auto text = co_await socket->read();
    if (!text) break;
    last_event_at = unix_time_now();
    const auto message = parse_socket_message(*text);
    if (!message) continue;  // not JSON: nothing to act on
    if (message->kind == SocketMessage::Kind::envelope) {
      co_await on_envelope(*message);
    } else if (message->kind == SocketMessage::Kind::disconnect) {
      if (message->reason == "link_disabled") {
        end.fatal = *fatal_auth_error("link_disabled", true);
        socket->close(1000);
        break;
      }
      if (!co_await hand_over(message->reason)) {
        end.at_once = true;
        socket->close(1000);
        break;
      }
    }
  }
  if (connecting && end.fatal.empty()) {
    spdlog::info("slack: the Socket Mode connection closed ({}); reconnecting",
                 socket->close_detail().empty() ? "no close frame" : socket->close_detail());
    if (state == "running") state = "connecting";
  }
  co_return end;
}

// Slack will close this connection soon (refresh_requested, warning): the next one is opened
// first, then this one closes, so no envelope waits for a gap. False when no next one opened.
asio::awaitable<bool> SlackPlatform::Impl::hand_over(std::string reason) {
  spdlog::info("slack: Slack asks for a new connection ({}); opening it before closing this one",
               reason);
  const auto url = co_await socket_url();
  if (!url || !connecting) co_return false;
  auto next = co_await open_socket(*url);
  if (!next) co_return false;
  retiring = std::move(socket);
  socket = std::move(next);
  retiring->close(1000);
  state = "running";
  detail.clear();
  co_return true;
}

// Every envelope is acknowledged, but an event only once it is in the inbox: when recording
// fails, Slack sends it again.
asio::awaitable<void> SlackPlatform::Impl::on_envelope(const SocketMessage& message) {
  if (message.type == "slash_commands") {
    co_await on_slash_command(message);
    co_return;
  }
  bool recorded = true;
  if (message.type == "events_api") {
    recorded = co_await on_event(message.payload);
  } else if (message.type == "interactive") {
    recorded = co_await on_press(message.payload);
  }
  if (recorded && message.type == "events_api" && kill_before_ack()) ::raise(SIGKILL);
  if (recorded) {
    socket->send(acknowledgement(message.envelope_id));
  } else {
    state = "error";
    detail = "the state store refused an event; Slack sends it again";
  }
}

asio::awaitable<bool> SlackPlatform::Impl::on_event(const json& payload) {
  auto parsed = parse_event(payload, bot_user, rules);
  if (parsed.verdict == EventVerdict::not_addressed) {
    spdlog::debug("slack: a channel message not for the bot (gateway.slack.require_mention)");
  }
  if (parsed.verdict != EventVerdict::answer) co_return true;
  const long long id = parsed.message->update_id;
  if (seen(id)) co_return true;  // a retry, or the app_mention of a message already taken
  adapter.remember(parsed.message->chat_id, parsed.place);
  std::vector<chat::Inbound> messages{std::move(*parsed.message)};
  std::vector<chat::ButtonPress> no_presses;
  const long long event_time = integer_field(payload, "event_time").value_or(0);
  const bool recorded =
      co_await machinery.receive(std::move(messages), std::move(no_presses), event_time, true);
  if (recorded) remember_seen(id);
  co_return recorded;
}

// `/hermes <verb>`: checked against allowed_users, then recorded like the command typed; the
// answer goes to the command's response_url.
asio::awaitable<void> SlackPlatform::Impl::on_slash_command(const SocketMessage& message) {
  const auto command = parse_slash_command(message.payload);
  if (!command) {
    socket->send(acknowledgement(message.envelope_id));
    co_return;
  }
  if (!machinery.allows(user_number(command->user), command->user)) {
    spdlog::info("slack: {} from user {} refused (not in allowed_users)", command->command,
                 command->user);
    json refusal = {{"response_type", "ephemeral"},
                    {"text",
                     "You are not allowed to use this bot: your Slack member id is not in its "
                     "allowed_users."}};
    socket->send(acknowledgement(message.envelope_id, refusal));
    co_return;
  }
  chat::Inbound in;
  const std::string id_source =
      command->trigger_id.empty() ? message.envelope_id : command->trigger_id;
  in.update_id = command_number(id_source);
  in.message_id = in.update_id;
  const Place place{command->channel, ""};
  in.chat_id = conversation_number(place.channel, "");
  in.user_id = user_number(command->user);
  in.username = command->user;
  in.chat_key =
      chat_key(place, command->channel.starts_with('D'), command->user, rules.per_user_in_groups);
  in.text = command_text(*command);
  const long long id = in.update_id;
  if (!seen(id)) {
    adapter.remember(in.chat_id, place);
    if (!command->response_url.empty()) adapter.answer_by_url(id, command->response_url);
    std::vector<chat::Inbound> messages{std::move(in)};
    std::vector<chat::ButtonPress> no_presses;
    if (!co_await machinery.receive(std::move(messages), std::move(no_presses), 0, true)) {
      co_return;  // not acknowledged: Slack sends it again
    }
    remember_seen(id);
  }
  socket->send(acknowledgement(message.envelope_id));
}

// A button press goes to the machinery's approvals, which check the presser and the chat.
asio::awaitable<bool> SlackPlatform::Impl::on_press(const json& payload) {
  const auto action = parse_button_action(payload);
  if (!action) co_return true;
  std::vector<chat::ButtonPress> presses{
      {action->response_url, user_number(action->user), action->user,
       conversation_number(action->channel, action->thread_ts), action->value}};
  std::vector<chat::Inbound> no_messages;
  co_return co_await machinery.receive(std::move(no_messages), std::move(presses), 0, false);
}

// Several gateways: connects only while this gateway holds the app token's lock.
asio::awaitable<void> SlackPlatform::Impl::lead() {
  auto self = shared_from_this();
  auto hooks = chat::connection_hooks(
      *this, machinery, "another gateway holds this app's Socket Mode connection",
      [this] { start_connection(); },
      [this] {
        if (socket) socket->close(1000);
      });
  std::string lock = "slack:" + settings.app_token;  // hashed, never stored
  std::string held = "slack: this gateway holds the app's Socket Mode connection now";
  std::string lost = "slack: the connection lock went with the database connection; standing by";
  co_await chat::lead_platform(io, *context.shared, std::move(lock), std::move(held),
                               std::move(lost), std::move(hooks));
}

void SlackPlatform::Impl::start_connection() {
  chat::begin_connection(io, *this, machinery, connection_loop(), "slack");
}

SlackPlatform::SlackPlatform(asio::io_context& io, const Config& config, Context context)
    : impl_(std::make_shared<Impl>(io, config, std::move(context))) {}

SlackPlatform::~SlackPlatform() = default;

void SlackPlatform::start() {
  if (!impl_->context.shared) {
    impl_->start_connection();
    return;
  }
  impl_->state = "standby";
  asio::co_spawn(impl_->io, impl_->lead(),
                 [](std::exception_ptr e) { log_exception(e, "slack connection lock"); });
}

void SlackPlatform::stop_polling() {
  chat::end_connection(*impl_, impl_->machinery);
  if (impl_->socket) impl_->socket->close(1000);
}

long SlackPlatform::busy() const {
  return impl_->machinery.busy() + (impl_->in_connection ? 1 : 0);
}

PlatformStatus SlackPlatform::status() const {
  // No silence limit of its own: the socket's keep-alive ends a dead connection, and the
  // reconnect shows in the state.
  return impl_->machinery.platform_status(impl_->state, impl_->detail, impl_->last_event_at, 0,
                                          "Slack");
}

void SlackPlatform::reconfigure(const Config& config) {
  impl_->rules = address_rules(config);
  impl_->adapter.set_settings(config.gateway.slack);
  impl_->machinery.reconfigure(chat_settings(config));
}

}  // namespace hermes::daemon
