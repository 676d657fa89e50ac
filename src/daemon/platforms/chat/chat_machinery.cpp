#include "daemon/platforms/chat/chat_machinery.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <set>

#include "common/logging.hpp"
#include "common/runtime_status.hpp"
#include "common/test_hooks.hpp"
#include "daemon/agent/conversation.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/builtin/memory_store.hpp"
#include "daemon/platforms/chat/approval_rules.hpp"
#include "daemon/platforms/chat/backoff.hpp"
#include "daemon/platforms/chat/chat_text.hpp"
#include "daemon/platforms/chat/session_key.hpp"
#include "daemon/state/sql_connection.hpp"
#include "daemon/tools/tool_names.hpp"
#include "daemon/usage/usage_ledger.hpp"
#include "daemon/usage/usage_report.hpp"

namespace hermes::daemon::chat {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

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

bool is_group(const std::string& chat_key) {
  return kind_of_key(chat_key).value_or(ChatKind::dm) != ChatKind::dm;
}

// A reply being streamed into the chat: the messages it fills (stored as they are sent), the
// text so far and when the live message last changed.
struct StreamedReply {
  long long chat_id = 0;
  long long reply_to = 0;
  long long update_id = 0;
  StreamSettings settings;
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

// A tool call waiting for the user's Approve or Deny, by the id in its buttons.
struct PendingApproval {
  std::string chat_key;
  long long chat_id = 0;
  long long asked_by = 0;  // whose message started the turn
  std::optional<bool> decision;
  std::shared_ptr<asio::steady_timer> wake;
};

}  // namespace

struct ChatMachinery::Impl : std::enable_shared_from_this<ChatMachinery::Impl> {
  Impl(asio::io_context& io_context, ChatAdapter& a, Context c, ChatSettings s)
      : io(io_context), adapter(a), context(std::move(c)), settings(std::move(s)) {}

  // Receiving.
  void answer_at_once(const std::vector<Inbound>& messages);
  void take_approval_answers(const std::vector<Inbound>& messages);
  // Answering, one chat at a time.
  asio::awaitable<void> chat_worker(std::string chat_key);
  asio::awaitable<void> handle(Inbound message);
  asio::awaitable<void> handle_at_once(Inbound message);
  asio::awaitable<void> take_turn(Inbound message);
  asio::awaitable<void> queue_turn_reply(state::Transaction& tx, const Inbound& m,
                                         const ConversationResult& taken, StreamedReply* streamed);
  asio::awaitable<void> finish(state::Transaction tx);
  asio::awaitable<void> typing_loop(long long chat_id, std::shared_ptr<bool> done);
  // The command table.
  using CommandHandler = asio::awaitable<std::string> (Impl::*)(const Inbound&,
                                                                state::Transaction&);
  static CommandHandler command_handler(Command command);
  asio::awaitable<std::string> command_new(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_status(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_approval(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_stop(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_compress(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_usage(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_cron(const Inbound& m, state::Transaction& tx);
  asio::awaitable<std::string> command_help(const Inbound& m, state::Transaction& tx);
  // Streamed replies.
  asio::awaitable<std::shared_ptr<StreamedReply>> start_stream(const Inbound& m,
                                                               TurnOptions& options,
                                                               std::shared_ptr<bool> done);
  asio::awaitable<bool> pump(StreamedReply& reply);
  asio::awaitable<bool> stream_delta(StreamedReply& reply, std::string delta);
  asio::awaitable<void> stream_ticker(std::shared_ptr<StreamedReply> reply,
                                      std::shared_ptr<bool> done);
  asio::awaitable<void> settle_stream(StreamedReply* streamed);
  void queue_streamed_final(state::Transaction& tx, const StreamedReply& reply,
                            const std::string& text);
  // Approvals.
  asio::awaitable<bool> ask_approval(long long chat_id, std::string chat_key, long long asked_by,
                                     std::string tool, std::string arguments);
  asio::awaitable<void> answer_press(ButtonPress press);
  // The outbox.
  asio::awaitable<void> deliver_loop();
  asio::awaitable<void> deliver_pending();
  asio::awaitable<bool> deliver(const Delivery& delivery, Backoff& backoff);
  asio::awaitable<void> revive_abandoned();
  asio::awaitable<void> resume_pending();

  asio::awaitable<void> sleep(std::chrono::milliseconds wait) {
    asio::steady_timer timer(io, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  std::string platform() const { return std::string(adapter.platform()); }

  bool allowed(long long user_id, const std::string& username) const {
    if (settings.allow_all_users) return true;  // opened on purpose (the config insists)
    for (const auto& entry : settings.allowed_users) {
      if (entry == std::to_string(user_id)) return true;
      if (!username.empty() && (entry == "@" + username || entry == username)) return true;
    }
    return false;
  }

  // A kick while the chat's worker runs makes it look again before it ends: its last look
  // may have been queued at the store before the new message was recorded.
  void kick_chat(const std::string& chat_key) {
    if (!open) return;
    if (running_chats.contains(chat_key)) {
      rekicked_chats.insert(chat_key);
      return;
    }
    running_chats.insert(chat_key);
    asio::co_spawn(io, chat_worker(chat_key),
                   [](std::exception_ptr e) { log_exception(e, "chat worker"); });
  }

  void kick_delivery() {
    more_deliveries = true;
    if (delivering) return;
    delivering = true;
    asio::co_spawn(io, deliver_loop(), [](std::exception_ptr e) { log_exception(e, "delivery"); });
  }

  void queue_reply(state::Transaction& tx, long long chat_id, long long reply_to,
                   const std::string& text) {
    bool first = true;
    const auto limit = adapter.stream_settings(false).max_units;
    for (const auto& part : split_message(text, limit)) {
      context.store.queue_delivery(tx, {0, chat_id, first ? reply_to : 0, part, 0});
      first = false;
    }
  }

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

  ApprovalQuestion question_of(const PendingApproval& pending, const std::string& chat_key) const {
    return {pending.chat_id, pending.asked_by, is_group(chat_key), pending.decision.has_value()};
  }

  void stop_turn(const std::string& chat_key, bool by_command) {
    const auto running = running_turns.find(chat_key);
    if (running == running_turns.end()) return;
    spdlog::info("{}: chat {}: {}", platform(), chat_key,
                 by_command ? "/stop ends the running turn" : "a new message interrupts the turn");
    if (by_command) stopped_by_command.insert(chat_key);
    stopped_in_chat.insert(chat_key);
    if (auto pending = waiting_in(chat_key)) decide(*pending, false);  // a stop is no approval
    running->second->abort(providers::AbortSignal::Reason::stop);
  }

  // Users refused before (a restart does not refuse them a second time). Each path that
  // starts chat workers loads them first.
  asio::awaitable<void> load_refused_users() {
    auto users = co_await context.store.refused_users();
    refused_users.insert(users.begin(), users.end());
  }

  // Who made a job in this chat, and where "origin" delivers: telegram:<chat id>.
  std::string origin_of(const Inbound& m) const {
    return std::string(platform()) + ":" + std::to_string(m.chat_id);
  }

  // The chat a chat budget and /usage count: its session key (telegram:dm:42, …).
  TurnOptions turn_options(const std::string& session, const std::string& chat_key) const {
    TurnOptions options;
    options.platform = platform();
    options.session_id = session;
    options.chat = chat_key;
    return options;
  }

  asio::io_context& io;
  ChatAdapter& adapter;
  Context context;
  ChatSettings settings;
  JobHooks jobs;
  bool open = false;
  bool delivery_stopped = false;  // another gateway owns the outbox now
  bool delivering = false;
  bool more_deliveries = false;  // kicked while the delivery loop ran
  bool resuming = false;
  std::set<std::string> rekicked_chats;
  std::set<std::string> running_chats;
  std::set<long long> refused_users;
  // A command handled beside the chat's running turn; its worker skips it meanwhile.
  std::set<long long> handled_at_once;
  std::map<std::string, std::shared_ptr<PendingApproval>> approvals;
  // What /approve and /deny did (at once, from the poll), for their replies in order.
  std::map<std::string, std::vector<std::string>> approval_notes;
  std::chrono::milliseconds approval_timeout = approval_timeout_setting();
  long abandoned = 0;  // reply parts given up on since the platform last answered
  double last_delivery_at = 0;
  // The first wait before a failed send is tried again (shorter only under test hooks).
  std::chrono::milliseconds delivery_backoff = delivery_backoff_setting();
  // The abort signal of each chat's running turn, and the chats whose turn a /stop ended
  // (its /stop, handled next in order, then says so).
  std::map<std::string, std::shared_ptr<providers::AbortSignal>> running_turns;
  std::set<std::string> stopped_by_command;
  // Chats whose turn was stopped from the chat (/stop, an interrupting message); a turn stopped
  // otherwise (the dashboard's Stop) is answered by the turn's own reply.
  std::set<std::string> stopped_in_chat;
};

// --- receiving ---------------------------------------------------------------------------

// /new, /status, /usage and /help mid-turn are answered at once, not after the turn.
void ChatMachinery::Impl::answer_at_once(const std::vector<Inbound>& messages) {
  for (const auto& in : messages) {
    const auto command = parse_command(in.text);
    const bool quick = command == Command::new_session || command == Command::status ||
                       command == Command::usage || command == Command::help ||
                       command == Command::cron;
    if (!quick || !running_turns.contains(in.chat_key)) continue;
    handled_at_once.insert(in.update_id);
    asio::co_spawn(io, handle_at_once(in),
                   [](std::exception_ptr e) { log_exception(e, "chat command"); });
  }
}

// /approve and /deny answer the waiting question at once; their replies come in order.
void ChatMachinery::Impl::take_approval_answers(const std::vector<Inbound>& messages) {
  for (const auto& in : messages) {
    const auto command = parse_command(in.text);
    if (command != Command::approve && command != Command::deny) continue;
    if (!allowed(in.user_id, in.username)) continue;
    auto pending = waiting_in(in.chat_key);
    if (!pending) {
      approval_notes[in.chat_key].push_back("Nothing is waiting for your approval.");
      continue;
    }
    const bool approve = command == Command::approve;
    const auto verdict =
        judge_approval(question_of(*pending, in.chat_key), {in.chat_id, in.user_id, true});
    if (verdict == ApprovalVerdict::counts) decide(*pending, approve);
    approval_notes[in.chat_key].push_back(verdict == ApprovalVerdict::counts
                                              ? std::string(approve ? "Approved." : "Denied.")
                                              : approval_verdict_text(verdict, approve));
  }
}

asio::awaitable<bool> ChatMachinery::receive(std::vector<Inbound> messages,
                                             std::vector<ButtonPress> presses, long long offset,
                                             bool offset_moved) {
  auto impl = impl_;
  std::set<std::string> touched;
  for (const auto& in : messages) touched.insert(in.chat_key);
  std::vector<std::pair<std::string, bool>> stops;  // chat, by /stop (else a new message)
  for (const auto& in : messages) {
    const auto command = parse_command(in.text);
    const bool stop = command == Command::stop;
    const bool interrupts =
        impl->settings.busy_interrupt && in.media.empty() && command == Command::none;
    if (stop || interrupts) stops.emplace_back(in.chat_key, stop);
  }
  for (auto& press : presses) {
    asio::co_spawn(impl->io, impl->answer_press(std::move(press)),
                   [](std::exception_ptr e) { log_exception(e, "chat button"); });
  }
  impl->answer_at_once(messages);
  impl->take_approval_answers(messages);
  if (offset_moved) {
    // Recorded with the new offset in one transaction: only then may the platform forget them.
    try {
      co_await impl->context.store.record_poll(std::move(messages), offset);
    } catch (const std::exception& e) {
      spdlog::error("{}: could not record {} update(s) ({})", impl->platform(), touched.size(),
                    e.what());
      co_return false;
    }
    // Not queued behind the running turn: it ends now, within the poll's latency.
    for (const auto& [chat, by_command] : stops) impl->stop_turn(chat, by_command);
  }
  for (const auto& chat : touched) impl->kick_chat(chat);
  co_return true;
}

// --- answering ---------------------------------------------------------------------------

asio::awaitable<void> ChatMachinery::Impl::chat_worker(std::string chat_key) {
  auto self = shared_from_this();
  bool store_away = false;
  while (open) {
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
      spdlog::warn("{}: chat {}: {}; trying again in 1s", platform(), chat_key, e.what());
      store_away = true;
    } catch (const std::exception& e) {
      // The message stays unanswered in the inbox; the next start takes it up again.
      spdlog::error("{}: chat {}: state store failed ({}); its messages wait for the next start",
                    platform(), chat_key, e.what());
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

asio::awaitable<void> ChatMachinery::Impl::handle_at_once(Inbound message) {
  auto self = shared_from_this();
  const auto update_id = message.update_id;
  try {
    co_await handle(std::move(message));
  } catch (const std::exception& e) {
    spdlog::error("{}: a command could not be answered ({})", platform(), e.what());
  }
  handled_at_once.erase(update_id);
  kick_delivery();
}

asio::awaitable<void> ChatMachinery::Impl::typing_loop(long long chat_id,
                                                       std::shared_ptr<bool> done) {
  auto self = shared_from_this();
  while (!*done) {
    const bool shown = co_await adapter.show_typing(chat_id);
    if (!shown) break;
    for (int i = 0; i < 40 && !*done; ++i) co_await sleep(100ms);  // shown for ~5 s
  }
}

asio::awaitable<void> ChatMachinery::Impl::finish(state::Transaction tx) {
  try {
    co_await context.sessions.commit(std::move(tx));
  } catch (const std::exception& e) {
    // Left unanswered in the inbox: the next start answers it again.
    spdlog::error("{}: could not store the answer ({}); it is retried at the next start",
                  platform(), e.what());
    co_return;
  }
  kick_delivery();
}

asio::awaitable<void> ChatMachinery::Impl::handle(Inbound m) {
  state::Transaction tx;
  if (!allowed(m.user_id, m.username)) {
    spdlog::info("{}: message from user {} refused (not in allowed_users)", platform(), m.user_id);
    // Told once, also across restarts (the refusal is stored with the message's done mark).
    if (refused_users.insert(m.user_id).second) {
      queue_reply(tx, m.chat_id, m.message_id, refusal_reply());
      context.store.add_refused_user(tx, m.user_id);
    }
    context.store.mark_done(tx, m.update_id);
    co_await finish(std::move(tx));
    co_return;
  }
  if (!m.media.empty()) {
    // Recorded like any message, answered once, never sent to the model.
    queue_reply(tx, m.chat_id, m.message_id, media_reply(m.media));
    context.store.mark_done(tx, m.update_id);
    co_await finish(std::move(tx));
    co_return;
  }
  const auto command = parse_command(m.text);
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

// A message for the model: one turn through the conversation core, the reply (or the note
// of how it ended) queued in the outbox with the turn's rows.
asio::awaitable<void> ChatMachinery::Impl::take_turn(Inbound m) {
  const auto session = co_await context.sessions.chat_session(platform(), m.chat_key);
  auto done = std::make_shared<bool>(false);
  asio::co_spawn(io, typing_loop(m.chat_id, done),
                 [](std::exception_ptr e) { log_exception(e, "typing indicator"); });
  // Named, never a temporary inside the co_await: GCC 12 mishandles one holding a
  // std::function (the turn never resumed).
  TurnOptions options = turn_options(session, m.chat_key);
  if (jobs.tool) {
    auto run = [tool = jobs.tool, origin = origin_of(m)](std::string arguments) {
      return tool(origin, std::move(arguments));
    };
    options.own_tools.push_back({jobs.tool_name, jobs.tool_schema, std::move(run)});
  }
  auto streamed = co_await start_stream(m, options, done);
  options.approver = [this, chat_id = m.chat_id, chat_key = m.chat_key, user = m.user_id](
                         std::string tool, std::string arguments) {
    return ask_approval(chat_id, chat_key, user, std::move(tool), std::move(arguments));
  };
  auto stop_signal = std::make_shared<providers::AbortSignal>();
  options.abort = stop_signal;
  running_turns[m.chat_key] = stop_signal;
  stopped_in_chat.erase(m.chat_key);  // a stop of an earlier turn that ended first
  struct EndRunning {
    std::map<std::string, std::shared_ptr<providers::AbortSignal>>& turns;
    const std::string& chat;
    ~EndRunning() { turns.erase(chat); }
  } end_running{running_turns, m.chat_key};

  ConversationTurn turn;
  turn.session_id = session;
  turn.platform = platform();
  turn.chat_key = m.chat_key;
  turn.user = builtin::user_key(platform(), std::to_string(m.user_id));
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
    spdlog::error("{}: could not store the answer ({}); it is retried at the next start",
                  platform(), taken.store_error);
  }
}

// The turn's reply as rows of its transaction: the answer (into the streamed messages when
// there are some), or the sentence saying how it ended; the message is marked done unless the
// next process is to finish it.
asio::awaitable<void> ChatMachinery::Impl::queue_turn_reply(state::Transaction& tx,
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
      queue_reply(tx, m.chat_id, m.message_id, interrupted_turn_reply());
      break;
    case TurnTell::failure:
      queue_reply(tx, m.chat_id, m.message_id, failed_turn_reply(*result.failure));
      break;
    case TurnTell::nothing: {  // stopped: the /stop (or the interrupting message) answers
      if (stopped_in_chat.erase(m.chat_key) > 0 || !result.stopped) break;
      std::string text = stopped_elsewhere_reply();
      if (!result.content.empty()) text = result.content + "\n\n" + text;
      co_await settle_stream(streamed);
      if (streamed && !streamed->ids.empty()) {
        queue_streamed_final(tx, *streamed, text);
      } else {
        queue_reply(tx, m.chat_id, m.message_id, text);
      }
      break;
    }
  }
  context.store.mark_done(tx, m.update_id);
}

// --- the command table ---------------------------------------------------------------------

ChatMachinery::Impl::CommandHandler ChatMachinery::Impl::command_handler(Command command) {
  static const std::map<Command, CommandHandler> handlers = {
      {Command::new_session, &Impl::command_new},  {Command::status, &Impl::command_status},
      {Command::approve, &Impl::command_approval}, {Command::deny, &Impl::command_approval},
      {Command::stop, &Impl::command_stop},        {Command::compress, &Impl::command_compress},
      {Command::usage, &Impl::command_usage},      {Command::help, &Impl::command_help},
      {Command::cron, &Impl::command_cron},
  };
  const auto found = handlers.find(command);
  return found == handlers.end() ? &Impl::command_help : found->second;
}

asio::awaitable<std::string> ChatMachinery::Impl::command_new(const Inbound& m,
                                                              state::Transaction& tx) {
  context.sessions.add_session(tx, context.sessions.new_session_id(), platform(), m.chat_key);
  co_return new_session_reply();
}

asio::awaitable<std::string> ChatMachinery::Impl::command_status(const Inbound& m,
                                                                 state::Transaction&) {
  const auto session = co_await context.sessions.chat_session(platform(), m.chat_key);
  std::size_t messages = 0;
  const long tokens = co_await context.conversation.history_tokens(session, &messages);
  std::string reply =
      status_reply(settings.model, settings.provider, messages, context.gateway_state()) + "\n" +
      context_line(tokens, context.conversation.context_window());
  co_return reply;
}

// What /approve and /deny did (at once, from the poll), in order.
asio::awaitable<std::string> ChatMachinery::Impl::command_approval(const Inbound& m,
                                                                   state::Transaction&) {
  auto& notes = approval_notes[m.chat_key];
  if (notes.empty()) co_return "Nothing is waiting for your approval.";
  std::string reply = notes.front();
  notes.erase(notes.begin());
  co_return reply;
}

asio::awaitable<std::string> ChatMachinery::Impl::command_stop(const Inbound& m,
                                                               state::Transaction&) {
  const bool stopped = stopped_by_command.erase(m.chat_key) > 0;
  std::string reply = stopped ? stopped_reply() : nothing_to_stop_reply();
  co_return reply;
}

asio::awaitable<std::string> ChatMachinery::Impl::command_compress(const Inbound& m,
                                                                   state::Transaction&) {
  const auto session = co_await context.sessions.chat_session(platform(), m.chat_key);
  TurnOptions whose = turn_options(session, m.chat_key);
  const auto fitted = co_await context.conversation.compress(session, std::move(whose));
  std::string reply = compress_reply(fitted.replaced, fitted.dropped, fitted.tokens_after,
                                     context.conversation.context_window());
  co_return reply;
}

asio::awaitable<std::string> ChatMachinery::Impl::command_usage(const Inbound& m,
                                                                state::Transaction&) {
  const auto today = usage::start_of_today(usage::report_time_now());
  auto chat = co_await context.ledger.totals(today, usage::UsageGrouping::none, m.chat_key);
  auto all = co_await context.ledger.totals(today, usage::UsageGrouping::none);
  const auto chat_total = chat.empty() ? usage::UsageTotal{} : chat[0];
  const auto all_total = all.empty() ? usage::UsageTotal{} : all[0];
  std::string reply = usage_reply(usage::usage_line(chat_total), usage::usage_line(all_total));
  co_return reply;
}

asio::awaitable<std::string> ChatMachinery::Impl::command_cron(const Inbound& m,
                                                               state::Transaction&) {
  if (!jobs.command) co_return std::string("Scheduled jobs are not available here.");
  const auto space = m.text.find_first_of(" \n");
  std::string args = space == std::string::npos ? std::string() : m.text.substr(space + 1);
  co_return co_await jobs.command(origin_of(m), std::move(args));
}

asio::awaitable<std::string> ChatMachinery::Impl::command_help(const Inbound&,
                                                               state::Transaction&) {
  co_return help_reply();
}

// --- streamed replies ----------------------------------------------------------------------

// Streamed: the answer appears as it is written, in messages edited in place (those of a
// previous process's attempt at this message are edited, never sent again).
asio::awaitable<std::shared_ptr<StreamedReply>> ChatMachinery::Impl::start_stream(
    const Inbound& m, TurnOptions& options, std::shared_ptr<bool> done) {
  if (!settings.streaming) co_return nullptr;
  auto streamed = std::make_shared<StreamedReply>();  // shared with its ticker
  streamed->chat_id = m.chat_id;
  streamed->reply_to = m.message_id;
  streamed->update_id = m.update_id;
  streamed->settings = adapter.stream_settings(is_group(m.chat_key));
  streamed->ids = co_await context.store.stream_messages(m.update_id);
  StreamedReply* raw = streamed.get();  // owned by the turn, for the whole turn
  providers::DeltaSink sink = [this, raw](std::string delta) {
    return stream_delta(*raw, std::move(delta));
  };
  options.sink = std::move(sink);
  if (settings.tool_progress != ToolProgress::off) {
    options.on_tool_call = [this, raw](const providers::ToolCall& call) {
      const auto name = tools::display_tool_name(call.name);
      if (settings.tool_progress == ToolProgress::changed && name == raw->last_tool) return;
      raw->last_tool = name;
      raw->text +=
          (raw->text.empty() ? "" : "\n") + tool_progress_line(name, call.arguments) + "\n";
    };
  }
  asio::co_spawn(io, stream_ticker(streamed, std::move(done)),
                 [](std::exception_ptr e) { log_exception(e, "chat stream"); });
  co_return streamed;
}

// The time rules (the first message after 1 s, an edit a second after the last) hold when
// no delta comes too: a tool runs, the model thinks.
asio::awaitable<void> ChatMachinery::Impl::stream_ticker(std::shared_ptr<StreamedReply> reply,
                                                         std::shared_ptr<bool> done) {
  auto self = shared_from_this();
  while (!*done) {
    co_await sleep(250ms);
    if (*done) break;
    co_await pump(*reply);
  }
}

asio::awaitable<bool> ChatMachinery::Impl::stream_delta(StreamedReply& reply, std::string delta) {
  reply.text += delta;
  co_await pump(reply);
  co_return true;  // the chat never stops the model: a failed edit is made up at the end
}

// Carries out what the stream plan says until it says wait. Sends and edits go straight to
// the platform; only the final text goes through the outbox (durable, retried).
asio::awaitable<bool> ChatMachinery::Impl::pump(StreamedReply& r) {
  if (r.pumping) co_return true;
  r.pumping = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{r.pumping};
  for (int guard = 0; guard < 64; ++guard) {
    const auto now = Clock::now();
    StreamView view;
    view.live = r.text.substr(r.frozen);
    view.sent = r.live < r.ids.size();
    view.shown = r.shown_known ? r.shown : std::string("\x01");  // unknown: always edit
    view.since_start = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.started);
    view.since_last_edit = std::chrono::duration_cast<std::chrono::milliseconds>(now - r.last_edit);
    view.blocked = now < r.blocked_until;
    const auto step = next_stream_step(view, r.settings);
    if (step.action == StreamAction::wait) co_return true;
    const bool new_message = !view.sent;
    SendResult answer;
    if (new_message) {
      OutgoingMessage message;
      message.chat_id = r.chat_id;
      message.reply_to = r.ids.empty() ? r.reply_to : 0;
      message.text = step.text;
      answer = co_await adapter.send(std::move(message));
    } else {
      std::string text = step.text;  // named: GCC 12
      answer = co_await adapter.edit(r.chat_id, r.ids[r.live], std::move(text));
    }
    r.last_edit = Clock::now();
    if (!answer.ok && !answer.not_modified) {
      spdlog::debug("{}: streaming to chat {}: {} failed ({})", platform(), r.chat_id,
                    new_message ? "a send" : "an edit", answer.description);
      const auto wait = std::chrono::seconds(answer.retry_after.value_or(1));
      r.blocked_until = Clock::now() + wait;
      co_return false;
    }
    if (new_message) {
      if (answer.message_id == 0) co_return false;
      r.ids.push_back(answer.message_id);
      try {
        co_await context.store.add_stream_message(r.update_id, static_cast<long long>(r.live),
                                                  answer.message_id);
      } catch (const std::exception& e) {
        spdlog::error("{}: could not store a streamed message's id ({})", platform(), e.what());
      }
    }
    r.shown = step.text;
    r.shown_known = true;
    if (step.action == StreamAction::freeze) {
      r.frozen += step.text.size();
      ++r.live;
      r.shown.clear();
      r.shown_known = false;
    }
  }
  co_return true;
}

// An edit still on its way must not land after the final one, and a 429 that asked this chat
// to wait holds the final edit too (at most a minute here; the outbox obeys any later one).
asio::awaitable<void> ChatMachinery::Impl::settle_stream(StreamedReply* streamed) {
  if (!streamed) co_return;
  for (int i = 0; streamed->pumping && i < 200; ++i) co_await sleep(50ms);
  if (Clock::now() < streamed->blocked_until) {
    co_await sleep(std::min(std::chrono::duration_cast<std::chrono::milliseconds>(
                                streamed->blocked_until - Clock::now()),
                            std::chrono::milliseconds(60000)));
  }
}

// The whole answer in the messages it was streamed into (edits: "not modified" is done), and
// new ones for what does not fit; through the outbox, so nothing is lost.
void ChatMachinery::Impl::queue_streamed_final(state::Transaction& tx, const StreamedReply& reply,
                                               const std::string& text) {
  const auto parts = split_message(text, reply.settings.max_units);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    Delivery d{0, reply.chat_id, 0, parts[i], 0};
    if (i < reply.ids.size()) d.edit_message_id = reply.ids[i];
    context.store.queue_delivery(tx, std::move(d));
  }
}

// --- approvals -----------------------------------------------------------------------------

// Shows the call with Approve / Deny buttons and waits for the user (a press, /approve or
// /deny) or the timeout, which denies.
asio::awaitable<bool> ChatMachinery::Impl::ask_approval(long long chat_id, std::string chat_key,
                                                        long long asked_by, std::string tool,
                                                        std::string arguments) {
  auto self = shared_from_this();
  const std::string id = new_approval_id();  // not guessable from another question's
  auto pending = std::make_shared<PendingApproval>();
  pending->chat_key = chat_key;
  pending->chat_id = chat_id;
  pending->asked_by = asked_by;
  pending->wake = std::make_shared<asio::steady_timer>(io, approval_timeout);
  approvals[id] = pending;
  const std::string question = approval_prompt(tool, arguments);
  OutgoingMessage message;
  message.chat_id = chat_id;
  message.text = question;
  message.buttons = {{"Approve", "approve:" + id}, {"Deny", "deny:" + id}};
  const auto sent = co_await adapter.send(std::move(message));
  if (!sent.ok) {
    spdlog::warn("{}: could not ask for approval ({}); {} is not run", platform(), sent.description,
                 tool);
    approvals.erase(id);
    co_return false;
  }
  if (!pending->decision) {
    // The turn stopped from elsewhere (the dashboard) is no approval either.
    providers::AbortSignal::Subscription stopped;
    if (const auto running = running_turns.find(chat_key); running != running_turns.end()) {
      stopped = running->second->subscribe([this, pending] { decide(*pending, false); });
    }
    auto wake = pending->wake;
    co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
  }
  approvals.erase(id);
  const bool approved = pending->decision.value_or(false);
  spdlog::info("{}: chat {}: {} {}", platform(), chat_key, tool,
               approved            ? "approved"
               : pending->decision ? "denied"
                                   : "not answered in time: denied");
  if (sent.message_id != 0) {  // the question says what became of it; best effort
    std::string edited = question + "\n" +
                         (approved            ? "✅ Approved."
                          : pending->decision ? "❌ Denied."
                                              : "⌛ No answer in time: denied.");
    co_await adapter.edit(chat_id, sent.message_id, std::move(edited));
  }
  co_return approved;
}

asio::awaitable<void> ChatMachinery::Impl::answer_press(ButtonPress press) {
  auto self = shared_from_this();
  const auto colon = press.data.find(':');
  const auto verb = press.data.substr(0, colon);
  const auto id = colon == std::string::npos ? std::string() : press.data.substr(colon + 1);
  const auto found = approvals.find(id);
  const bool known = found != approvals.end() && (verb == "approve" || verb == "deny");
  ApprovalQuestion question;
  question.answered = true;  // unknown: nothing to answer
  if (known) question = question_of(*found->second, found->second->chat_key);
  const auto verdict = judge_approval(
      question, {press.chat_id, press.user_id, allowed(press.user_id, press.username)});
  if (verdict == ApprovalVerdict::counts) {
    decide(*found->second, verb == "approve");
  } else if (verdict == ApprovalVerdict::other_chat || verdict == ApprovalVerdict::other_person) {
    spdlog::warn("{}: user {} pressed chat {}'s approval from chat {}: ignored", platform(),
                 press.user_id, question.chat_id, press.chat_id);
  }
  std::string text = approval_verdict_text(verdict, verb == "approve");
  co_await adapter.answer_press(std::move(press.id), std::move(text));
}

// --- the outbox ----------------------------------------------------------------------------

asio::awaitable<void> ChatMachinery::Impl::deliver_loop() {
  auto self = shared_from_this();
  try {
    while (more_deliveries) {
      more_deliveries = false;
      co_await deliver_pending();
    }
  } catch (const std::exception& e) {
    spdlog::error(
        "{}: state store failed while delivering ({}); undelivered replies are sent at the "
        "next start",
        platform(), e.what());
  }
  delivering = false;
}

asio::awaitable<void> ChatMachinery::Impl::deliver_pending() {
  Backoff backoff(delivery_backoff, 30000ms);
  while (true) {
    // Not in the while condition: GCC 12 evaluates a co_await there only once.
    if (delivery_stopped) break;
    auto delivery = co_await context.store.next_delivery();
    if (!delivery) break;
    const bool delivered = co_await deliver(*delivery, backoff);
    if (delivered) backoff.reset();
  }
}

// One reply part: sent (or edited) and done, or failed and tried again after a wait, or kept
// as abandoned after its last attempt, never deleted.
asio::awaitable<bool> ChatMachinery::Impl::deliver(const Delivery& delivery, Backoff& backoff) {
  SendResult reply;
  const bool edit = delivery.edit_message_id != 0;
  if (edit) {
    std::string text = delivery.text;  // named: GCC 12
    reply = co_await adapter.edit(delivery.chat_id, delivery.edit_message_id, std::move(text));
  } else {
    OutgoingMessage message;
    message.chat_id = delivery.chat_id;
    message.reply_to = delivery.reply_to;
    message.thread_id = delivery.thread_id;
    message.text = delivery.text;
    reply = co_await adapter.send(std::move(message));
  }
  // An edit to the text the message already shows is done, not failed.
  if (reply.ok || (edit && reply.not_modified)) {
    co_await context.store.delivery_done(delivery, reply.message_id);
    last_delivery_at = unix_time_now();
    co_return true;
  }
  co_await context.store.delivery_failed(delivery, reply.description);
  if (delivery.attempts + 1 >= kMaxDeliveryAttempts) {
    // Kept, never deleted: sent again when the platform answers again (or at the next start).
    spdlog::error(
        "{}: a reply to chat {} failed {} times ({}); kept as abandoned until {} answers again",
        platform(), delivery.chat_id, kMaxDeliveryAttempts, reply.description, platform());
    co_await context.store.delivery_abandoned(delivery.id);
    ++abandoned;
    if (context.count_abandoned) context.count_abandoned(abandoned);
    co_return false;
  }
  const auto wait = backoff.next();
  spdlog::warn("{}: sendMessage failed ({}); retrying in {} ms", platform(), reply.description,
               wait.count());
  // Named, not a conditional inside the co_await: GCC 12 read it from an unset slot.
  const auto pause =
      reply.retry_after ? std::chrono::milliseconds(*reply.retry_after * 1000) : wait;
  co_await sleep(pause);
  co_return false;
}

asio::awaitable<void> ChatMachinery::Impl::revive_abandoned() {
  long long revived = 0;
  try {
    revived = co_await context.store.revive_abandoned();
  } catch (const std::exception& e) {
    spdlog::error("{}: could not retry the abandoned replies ({})", platform(), e.what());
    co_return;
  }
  abandoned = 0;
  if (context.count_abandoned) context.count_abandoned(0);
  if (revived > 0) {
    spdlog::info("{}: sending {} reply part(s) that could not be delivered before", platform(),
                 revived);
    kick_delivery();
  }
}

// Recorded but unanswered messages and undelivered replies from before a restart.
asio::awaitable<void> ChatMachinery::Impl::resume_pending() {
  auto self = shared_from_this();
  std::vector<std::string> chats;
  try {
    co_await load_refused_users();
    chats = co_await context.store.chats_with_inbound();
  } catch (const std::exception& e) {
    spdlog::error("{}: could not read the unanswered messages ({}); they wait for the next start",
                  platform(), e.what());
  }
  resuming = false;
  for (const auto& chat : chats) kick_chat(chat);
  co_await revive_abandoned();  // a new process tries those again too
  kick_delivery();
}

// --- the public face -----------------------------------------------------------------------

ChatMachinery::ChatMachinery(asio::io_context& io, ChatAdapter& adapter, Context context,
                             ChatSettings settings)
    : impl_(std::make_shared<Impl>(io, adapter, std::move(context), std::move(settings))) {}

ChatMachinery::~ChatMachinery() = default;

void ChatMachinery::open() {
  impl_->open = true;
  impl_->delivery_stopped = false;
}

void ChatMachinery::close() {
  impl_->open = false;
}

void ChatMachinery::set_jobs(JobHooks jobs) {
  impl_->jobs = std::move(jobs);
}

void ChatMachinery::send_queued() {
  if (impl_->open && !impl_->delivery_stopped) impl_->kick_delivery();
}

void ChatMachinery::stop_delivering() {
  impl_->delivery_stopped = true;
}

bool ChatMachinery::idle() const {
  return impl_->running_chats.empty() && !impl_->resuming && !impl_->delivering;
}

asio::awaitable<void> ChatMachinery::resume_pending() {
  auto impl = impl_;
  impl->resuming = true;
  co_await impl->resume_pending();
}

asio::awaitable<void> ChatMachinery::revive_abandoned() {
  auto impl = impl_;
  co_await impl->revive_abandoned();
}

bool ChatMachinery::allows(long long user_id, const std::string& username) const {
  return impl_->allowed(user_id, username);
}

PlatformStatus ChatMachinery::platform_status(std::string state, std::string detail,
                                              double last_event_at, double silence_limit_seconds,
                                              std::string_view shown_name) const {
  const long gave_up = abandoned();
  if (gave_up > 0) {
    detail += (detail.empty() ? "" : "; ") + std::to_string(gave_up) +
              " reply part(s) abandoned until " + std::string(shown_name) + " answers again";
  }
  PlatformStatus status;
  status.name = impl_->platform();
  status.state = std::move(state);
  status.detail = std::move(detail);
  status.last_event_at = last_event_at;
  status.last_delivery_at = last_delivery_at();
  status.abandoned = gave_up;
  status.silence_limit_seconds = silence_limit_seconds;
  return status;
}

long ChatMachinery::busy() const {
  return static_cast<long>(impl_->running_chats.size()) + (impl_->delivering ? 1 : 0) +
         (impl_->resuming ? 1 : 0);
}

long ChatMachinery::abandoned() const {
  return impl_->abandoned;
}

double ChatMachinery::last_delivery_at() const {
  return impl_->last_delivery_at;
}

void ChatMachinery::reconfigure(ChatSettings settings) {
  impl_->settings = std::move(settings);
}

}  // namespace hermes::daemon::chat
