#include "daemon/platforms/discord/discord_platform.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>
#include <random>

#include "common/json_fields.hpp"
#include "common/logging.hpp"
#include "daemon/platforms/chat/backoff.hpp"
#include "daemon/platforms/chat/chat_machinery.hpp"
#include "daemon/platforms/chat/platform_lease.hpp"
#include "daemon/platforms/discord/discord_adapter.hpp"
#include "daemon/platforms/discord/discord_events.hpp"
#include "daemon/platforms/discord/gateway_protocol.hpp"
#include "daemon/platforms/web_socket.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using namespace discord;

namespace {

constexpr auto kConnectTimeout = 15s;
constexpr auto kHelloTimeout = 20s;
constexpr int kDeferredMessage = 5;  // "thinking…", filled in by the reply

chat::ChatSettings chat_settings(const Config& config) {
  const auto& dc = config.gateway.discord;
  chat::ChatSettings s;
  s.allowed_users = dc.allowed_users;
  s.allow_all_users = dc.allow_all_users;
  s.streaming = dc.streaming;
  s.busy_interrupt = config.display.busy_input_interrupt;
  s.tool_progress = config.display.tool_progress;
  s.model = config.model.default_model;
  s.provider = config.model.provider;
  return s;
}

AddressRules address_rules(const Config& config) {
  return {config.gateway.discord.require_mention, config.gateway.discord.free_response_channels,
          config.gateway.group_sessions_per_user};
}

// How one connection ended, and what comes next.
struct ConnectionEnd {
  AfterClose next = AfterClose::resume;
  std::string sentence;  // with fatal
  bool healthy = false;  // it got READY or RESUMED: the backoff starts over
  bool at_once = false;  // Discord asked for a reconnect: no wait
};

}  // namespace

struct DiscordPlatform::Impl : std::enable_shared_from_this<DiscordPlatform::Impl>,
                               chat::ConnectionState {
  Impl(asio::io_context& io_context, const Config& config, Context c)
      : io(io_context),
        settings(config.gateway.discord),
        rules(address_rules(config)),
        context(std::move(c)),
        adapter(io_context, config.gateway.discord),
        machinery(io_context, adapter,
                  chat::ChatMachinery::Context{context.sessions, context.store,
                                               context.conversation, context.metrics,
                                               context.gateway_state, context.ledger, [](long) {}},
                  chat_settings(config)) {}

  asio::awaitable<void> connection_loop();
  asio::awaitable<std::optional<std::string>> gateway_url();
  asio::awaitable<ConnectionEnd> run_connection(std::string url, bool resuming);
  asio::awaitable<bool> await_hello(std::chrono::milliseconds& interval);
  asio::awaitable<void> heartbeat(std::uint64_t generation, std::chrono::milliseconds interval);
  asio::awaitable<void> on_frame(const Frame& frame, ConnectionEnd& end);
  asio::awaitable<bool> on_dispatch(const Frame& frame, ConnectionEnd& end);
  asio::awaitable<void> on_ready(const json& d);
  asio::awaitable<bool> on_message(const json& d, long long frame_seq);
  asio::awaitable<bool> on_interaction(const json& d, long long frame_seq);
  asio::awaitable<void> register_commands();
  asio::awaitable<void> load_session();
  asio::awaitable<void> save_session();
  asio::awaitable<void> forget_session(std::string why);
  asio::awaitable<void> lead();
  void start_connection();
  asio::awaitable<void> sleep(std::chrono::milliseconds wait) {
    asio::steady_timer timer(io, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::io_context& io;
  DiscordConfig settings;
  AddressRules rules;
  Context context;
  DiscordAdapter adapter;
  chat::ChatMachinery machinery;
  std::unique_ptr<WebSocketClient> socket;
  std::chrono::milliseconds heartbeat_interval{0};
  bool end_session = false;  // uninstall: the stop ends the session at Discord
  // The session to resume, and the last dispatch handled (everything up to it recorded).
  std::string session_id;
  std::string resume_url;
  std::optional<long long> seq;
  double left_at = 0;  // when the stored session was last saved: how long we were away
  long long bot_id = 0;
  bool commands_registered = false;
  Threads threads;
  bool acked = true;             // the last heartbeat's ACK came
  std::uint64_t generation = 0;  // one per connection: an old heartbeat loop ends
  std::mt19937 random{std::random_device{}()};
};

asio::awaitable<void> DiscordPlatform::Impl::load_session() {
  const auto [stored, offset] = co_await context.store.platform_session();
  seq = offset;
  if (!stored) co_return;
  const json saved = json::parse(*stored, nullptr, false);
  session_id = string_field(saved, "session_id");
  resume_url = string_field(saved, "resume_url");
  if (const auto it = saved.find("saved_at"); it != saved.end() && it->is_number()) {
    left_at = it->get<double>();
  }
}

asio::awaitable<void> DiscordPlatform::Impl::save_session() {
  json saved = {
      {"session_id", session_id}, {"resume_url", resume_url}, {"saved_at", unix_time_now()}};
  const std::string text = session_id.empty() ? std::string() : saved.dump();
  co_await context.store.set_platform_session(text, seq.value_or(0));
}

asio::awaitable<void> DiscordPlatform::Impl::forget_session(std::string why) {
  if (!session_id.empty()) {
    const double away = left_at > 0 ? unix_time_now() - left_at : 0;
    spdlog::warn(
        "discord: the session cannot be resumed ({}); identifying afresh{}", why,
        away > 0 ? fmt::format(" (away {:.0f} s: what was sent meanwhile is not replayed)", away)
                 : std::string());
  }
  session_id.clear();
  resume_url.clear();
  seq.reset();
  co_await save_session();
}

// GET /gateway/bot: the URL to connect to, after waiting out session_start_limit. None when
// it failed (state and detail say why; fatal problems stop the connecting).
asio::awaitable<std::optional<std::string>> DiscordPlatform::Impl::gateway_url() {
  const auto reply = co_await adapter.request("GET", "/gateway/bot", json(), 15000ms);
  if (!reply.ok()) {
    state = "error";
    detail = "GET /gateway/bot failed: " + reply.description;
    if (reply.status == 401) {
      detail =
          "Discord refused the bot token (HTTP 401): copy a new token from the Developer "
          "Portal (your application > Bot > Reset Token) into gateway.discord.bot_token";
      connecting = false;
    }
    spdlog::error("discord: {}", detail);
    co_return std::nullopt;
  }
  const auto url = string_field(reply.body, "url");
  if (url.empty()) {
    state = "error";
    detail = "GET /gateway/bot answered no url";
    co_return std::nullopt;
  }
  const auto wait = identify_wait(reply.body);
  if (wait.count() > 0) {
    spdlog::warn("discord: no session starts left today; identifying in {} s",
                 std::chrono::duration_cast<std::chrono::seconds>(wait).count());
    detail = "waiting for Discord's session start limit";
    co_await sleep(wait);
  }
  co_return url;
}

asio::awaitable<void> DiscordPlatform::Impl::connection_loop() {
  auto self = shared_from_this();
  loop_running = true;
  struct Ended {
    bool& running;
    ~Ended() { running = false; }
  } ended{loop_running};
  co_await load_session();
  chat::Backoff backoff(1000ms, 60000ms);
  while (connecting) {
    const bool resuming = !session_id.empty() && !resume_url.empty();
    std::optional<std::string> url = resume_url;
    if (!resuming) url = co_await gateway_url();
    if (!connecting) break;
    if (!url) {
      co_await sleep(backoff.next());
      continue;
    }
    in_connection = true;
    const auto end = co_await run_connection(connect_url(*url), resuming);
    if (!connecting) {
      // Stopped: the sequence handled so far goes with the session to the next process
      // (uninstalled: the session ended, nothing is kept).
      if (end_session) {
        session_id.clear();
        seq.reset();
        co_await save_session();
        spdlog::info("discord: the Gateway session is ended (uninstall)");
      } else if (!session_id.empty()) {
        co_await save_session();
      }
      in_connection = false;
      break;
    }
    in_connection = false;
    if (end.next == AfterClose::fatal) {
      state = "error";
      detail = end.sentence;
      spdlog::error("discord: {}; not reconnecting until the gateway restarts", end.sentence);
      connecting = false;
      break;
    }
    if (end.next == AfterClose::identify) co_await forget_session("Discord ended it");
    if (end.healthy) backoff.reset();
    if (!end.at_once) co_await sleep(backoff.next());
  }
  if (state != "error") state = "stopped";
}

// HELLO opens every connection; none within the timeout is a dead connection.
asio::awaitable<bool> DiscordPlatform::Impl::await_hello(std::chrono::milliseconds& interval) {
  asio::steady_timer deadline(io, kHelloTimeout);
  WebSocketClient* current = socket.get();
  deadline.async_wait([current, self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && self->socket.get() == current) current->drop();
  });
  const auto text = co_await socket->read();
  deadline.cancel();
  if (!text) co_return false;
  const auto frame = parse_frame(*text);
  if (!frame || frame->op != static_cast<int>(Op::hello)) co_return false;
  const auto every = integer_field(frame->d, "heartbeat_interval").value_or(0);
  if (every <= 0) co_return false;
  interval = std::chrono::milliseconds(std::clamp<long long>(every, 100, 3600 * 1000));
  co_return true;
}

// One connection: HELLO, IDENTIFY or RESUME, then frames until it closes.
asio::awaitable<ConnectionEnd> DiscordPlatform::Impl::run_connection(std::string url,
                                                                     bool resuming) {
  auto self = shared_from_this();
  ConnectionEnd end;
  state = state == "error" ? state : "connecting";
  socket = std::make_unique<WebSocketClient>(io);
  if (auto failed = co_await socket->connect(url, kConnectTimeout)) {
    state = "error";
    detail = *failed;
    spdlog::warn("discord: {}", *failed);
    co_return end;
  }
  std::chrono::milliseconds interval{0};
  if (!co_await await_hello(interval)) {
    spdlog::warn("discord: no HELLO from the Gateway; reconnecting");
    co_return end;
  }
  heartbeat_interval = interval;
  const auto this_connection = ++generation;
  acked = true;
  asio::co_spawn(io, heartbeat(this_connection, interval),
                 [](std::exception_ptr e) { log_exception(e, "discord heartbeat"); });
  socket->send(resuming ? resume_payload(settings.bot_token, session_id, seq.value_or(0))
                        : identify_payload(settings.bot_token));
  while (true) {
    const auto text = co_await socket->read();
    if (!text) break;
    last_event_at = unix_time_now();
    const auto frame = parse_frame(*text);
    if (!frame) continue;  // not a payload: nothing to act on
    co_await on_frame(*frame, end);
  }
  ++generation;               // the heartbeat loop of this connection ends
  left_at = unix_time_now();  // how long we were away, if Discord will not resume
  const int code = socket->close_code();
  if (code != 0 && end.next == AfterClose::resume && !end.at_once) {
    const auto verdict = after_close(code);
    end.next = verdict.next;
    end.sentence = verdict.sentence;
  }
  if (connecting && end.next != AfterClose::fatal) {
    spdlog::info("discord: the Gateway connection closed ({}{}); {}",
                 code ? "code " + std::to_string(code) : std::string("no close frame"),
                 socket->close_detail().empty() ? "" : ", " + socket->close_detail(),
                 end.next == AfterClose::resume ? "resuming" : "identifying afresh");
    if (state == "running") state = "connecting";
  }
  co_return end;
}

// One payload of an open connection. Anything that is not a payload is ignored.
asio::awaitable<void> DiscordPlatform::Impl::on_frame(const Frame& frame, ConnectionEnd& end) {
  const auto op = static_cast<Op>(frame.op);
  if (op == Op::dispatch) {
    const bool kept = co_await on_dispatch(frame, end);
    if (!kept) socket->drop();  // resumed from what was recorded: Discord replays the rest
  } else if (op == Op::heartbeat) {
    socket->send(heartbeat_payload(seq));
  } else if (op == Op::heartbeat_ack) {
    acked = true;
  } else if (op == Op::reconnect) {
    spdlog::info("discord: the Gateway asks for a reconnect; resuming");
    end.at_once = true;
    socket->close(kResumableClose);
  } else if (op == Op::invalid_session) {
    const bool resumable = frame.d == true;
    end.next = resumable ? AfterClose::resume : AfterClose::identify;
    if (!resumable) {
      // Discord asks for 1-5 s before identifying again.
      const auto wait = std::chrono::milliseconds(1000 + random() % 4000);
      co_await sleep(wait);
      end.at_once = true;
    }
    socket->close(kResumableClose);
  }
}

// A heartbeat after interval × jitter, then every interval; a beat whose ACK has not come by
// the next one means a dead ("zombie") connection: dropped, then resumed.
asio::awaitable<void> DiscordPlatform::Impl::heartbeat(std::uint64_t this_connection,
                                                       std::chrono::milliseconds interval) {
  auto self = shared_from_this();
  std::uniform_real_distribution<double> jitter(0.0, 1.0);
  co_await sleep(first_heartbeat(interval, jitter(random)));
  while (generation == this_connection && socket) {
    if (!acked) {
      spdlog::warn("discord: no heartbeat ACK within {} ms: the connection is dead; resuming",
                   interval.count());
      socket->drop();
      break;
    }
    acked = false;
    socket->send(heartbeat_payload(seq));
    co_await sleep(interval);
  }
}

// False: an event could not be recorded; the connection is dropped so that Discord replays
// it on the resume (the sequence stays before it).
asio::awaitable<bool> DiscordPlatform::Impl::on_dispatch(const Frame& frame, ConnectionEnd& end) {
  learn_threads(frame.t, frame.d, threads);
  const long long frame_seq = frame.s.value_or(seq.value_or(0));
  if (frame.t == "READY") {
    if (frame.s) seq = frame.s;
    co_await on_ready(frame.d);
    end.healthy = true;
    co_return true;
  }
  if (frame.t == "RESUMED") {
    state = "running";
    detail.clear();
    end.healthy = true;
    spdlog::info("discord: session resumed; events sent meanwhile are replayed");
    co_await machinery.revive_abandoned();
  } else if (frame.t == "MESSAGE_CREATE") {
    if (!co_await on_message(frame.d, frame_seq)) co_return false;
  } else if (frame.t == "INTERACTION_CREATE") {
    if (!co_await on_interaction(frame.d, frame_seq)) co_return false;
  }
  if (frame.s) seq = frame.s;
  co_return true;
}

asio::awaitable<void> DiscordPlatform::Impl::on_ready(const json& d) {
  const auto ready = parse_ready(d);
  if (!ready) {
    spdlog::error("discord: READY without a session or user; reconnecting");
    socket->drop();
    co_return;
  }
  if (!session_id.empty()) co_await forget_session("Discord started a new one");
  session_id = ready->session_id;
  resume_url = ready->resume_url;
  bot_id = ready->bot_id;
  adapter.set_application(ready->application_id);
  state = "running";
  detail.clear();
  spdlog::info("discord: connected as {} ({})", ready->bot_name, ready->bot_id);
  co_await save_session();
  if (!commands_registered) {
    asio::co_spawn(io, register_commands(),
                   [](std::exception_ptr e) { log_exception(e, "discord commands"); });
  }
}

asio::awaitable<bool> DiscordPlatform::Impl::on_message(const json& d, long long frame_seq) {
  auto parsed = parse_message(d, bot_id, rules, threads);
  if (parsed.verdict == MessageVerdict::not_addressed) {
    spdlog::debug("discord: a channel message not for the bot (gateway.discord.require_mention)");
  }
  if (parsed.verdict != MessageVerdict::answer) co_return true;
  std::vector<chat::Inbound> messages{std::move(*parsed.message)};
  std::vector<chat::ButtonPress> no_presses;
  const bool recorded =
      co_await machinery.receive(std::move(messages), std::move(no_presses), frame_seq, true);
  if (!recorded) {
    state = "error";
    detail = "the state store refused a message; it is replayed on the resume";
  }
  co_return recorded;
}

// A slash command is checked against allowed_users and answered "thinking…" at once (Discord
// wants an answer within 3 s), then runs like the same command typed; a button press goes to
// the machinery's approvals, which check the presser.
asio::awaitable<bool> DiscordPlatform::Impl::on_interaction(const json& d, long long frame_seq) {
  const auto interaction = parse_interaction(d);
  if (!interaction || interaction->kind == Interaction::Kind::other) co_return true;
  const std::string callback =
      "/interactions/" + std::to_string(interaction->id) + "/" + interaction->token + "/callback";
  std::vector<chat::Inbound> messages;
  std::vector<chat::ButtonPress> presses;
  if (interaction->kind == Interaction::Kind::button) {
    presses.push_back({std::to_string(interaction->id) + ":" + interaction->token,
                       interaction->user_id, interaction->username, interaction->channel_id,
                       interaction->name});
  } else if (!machinery.allows(interaction->user_id, interaction->username)) {
    spdlog::info("discord: /{} from user {} refused (not in allowed_users)", interaction->name,
                 interaction->user_id);
    // Answered only to them, like a press: the same ephemeral interaction reply.
    std::string refusal =
        "You are not allowed to use this bot: your Discord user id is not in its allowed_users.";
    std::string press_id = std::to_string(interaction->id) + ":" + interaction->token;
    co_await adapter.answer_press(std::move(press_id), std::move(refusal));  // named: GCC 12
    co_return true;
  } else {
    json deferred = json::object();
    deferred["type"] = kDeferredMessage;
    const auto answered = co_await adapter.request("POST", callback, std::move(deferred), 10000ms);
    if (answered.ok()) adapter.await_reply_to(interaction->id, interaction->token);
    chat::Inbound in;
    in.update_id = interaction->id;
    in.message_id = interaction->id;
    in.chat_id = interaction->channel_id;
    in.user_id = interaction->user_id;
    in.username = interaction->username;
    in.chat_key = chat_key(interaction->channel_id, interaction->guild, interaction->user_id,
                           threads, rules.per_user_in_groups);
    in.text = "/" + interaction->name;
    messages.push_back(std::move(in));
  }
  const bool moved = !messages.empty();
  co_return co_await machinery.receive(std::move(messages), std::move(presses), frame_seq, moved);
}

// The shared commands as application commands (global): /stop, /new, /status, /usage, /help.
asio::awaitable<void> DiscordPlatform::Impl::register_commands() {
  auto self = shared_from_this();
  commands_registered = true;
  const auto path = "/applications/" + std::to_string(bot_id) + "/commands";
  const auto reply = co_await adapter.request("PUT", path, application_commands(), 30000ms);
  if (!reply.ok()) {
    commands_registered = false;  // tried again at the next READY
    spdlog::warn("discord: could not register the slash commands ({}); typed commands still work",
                 reply.description);
  }
}

// Several gateways: connects only while this gateway holds the bot token's lock.
asio::awaitable<void> DiscordPlatform::Impl::lead() {
  auto self = shared_from_this();
  auto hooks = chat::connection_hooks(
      *this, machinery, "another gateway holds this bot's connection",
      [this] { start_connection(); },
      [this] {
        if (socket) socket->close(kResumableClose);  // the next holder resumes the session
      });
  std::string lock = "discord:" + settings.bot_token;  // hashed, never stored
  std::string held = "discord: this gateway holds the bot's connection now";
  std::string lost = "discord: the connection lock went with the database connection; standing by";
  co_await chat::lead_platform(io, *context.shared, std::move(lock), std::move(held),
                               std::move(lost), std::move(hooks));
}

void DiscordPlatform::Impl::start_connection() {
  chat::begin_connection(io, *this, machinery, connection_loop(), "discord");
}

DiscordPlatform::DiscordPlatform(asio::io_context& io, const Config& config, Context context)
    : impl_(std::make_shared<Impl>(io, config, std::move(context))) {}

DiscordPlatform::~DiscordPlatform() = default;

void DiscordPlatform::start() {
  if (!impl_->context.shared) {
    impl_->start_connection();
    return;
  }
  impl_->state = "standby";
  asio::co_spawn(impl_->io, impl_->lead(),
                 [](std::exception_ptr e) { log_exception(e, "discord connection lock"); });
}

void DiscordPlatform::stop_polling() {
  chat::end_connection(*impl_, impl_->machinery);
  // Not 1000 or 1001: the session stays resumable for the next process (unless uninstalled).
  if (impl_->socket) impl_->socket->close(impl_->end_session ? 1000 : kResumableClose);
}

void DiscordPlatform::end_session_at_stop() {
  impl_->end_session = true;
}

void DiscordPlatform::set_jobs(chat::JobHooks jobs) {
  impl_->machinery.set_jobs(std::move(jobs));
}

void DiscordPlatform::send_queued() {
  impl_->machinery.send_queued();
}

long DiscordPlatform::busy() const {
  return impl_->machinery.busy() + (impl_->in_connection ? 1 : 0);
}

PlatformStatus DiscordPlatform::status() const {
  // Every frame counts, heartbeat ACKs too: two beats without one is silence.
  const auto interval = std::chrono::duration<double>(impl_->heartbeat_interval).count();
  return impl_->machinery.platform_status(impl_->state, impl_->detail, impl_->last_event_at,
                                          interval > 0 ? 2 * interval + 10 : 0, "Discord");
}

void DiscordPlatform::reconfigure(const Config& config) {
  impl_->rules = address_rules(config);
  impl_->machinery.reconfigure(chat_settings(config));
}

}  // namespace hermes::daemon
