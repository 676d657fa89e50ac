// The conversation core in one process: a real SQLite store, the real turn runner and
// compactor, and a provider answered in process (no daemon, no HTTP). One test per row of
// the core's decisions that a surface relies on.
#include "daemon/agent/conversation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <filesystem>
#include <random>

#include "daemon/agent/session_queue.hpp"
#include "daemon/agent/session_store.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/metrics/metrics.hpp"
#include "daemon/state/migrations.hpp"
#include "daemon/state/sqlite_connection.hpp"
#include "daemon/state/store_worker.hpp"
#include "support/run_coroutine.hpp"

namespace hermes::daemon {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using providers::ChatCall;
using providers::ChatCallResult;
using providers::ChatMessage;
using ::testing::ElementsAre;
using testing::run_coroutine;

// What the in-process provider does with one call.
struct Reply {
  std::string text;
  int status = 0;  // set: fail with this HTTP status and `text` as the body
  // Stream `text`, then wait until the turn is aborted (a client or a /stop ends it).
  bool hang_after_streaming = false;
};

ChatCallResult overflow() {
  ChatCallResult r;
  r.error.status = 400;
  r.error.body =
      R"({"error":{"message":"maximum context length exceeded","code":"context_length_exceeded"}})";
  return r;
}

class ConversationCore : public ::testing::Test {
 protected:
  ConversationCore()
      : dir_(fs::temp_directory_path() /
             ("hermes-conversation-" + std::to_string(std::random_device{}()))),
        db_((fs::create_directories(dir_), dir_ / "state.db"), Durability::normal) {
    state::migrate(db_, state::state_schema());
    config_.model.provider = "primary";
    config_.model.default_model = "demo-model";
    config_.providers["primary"].base_url = "http://in-process";
    config_.providers["primary"].api_keys = {"k1"};
    config_.agent.system_prompt = "You are a test.";
    config_.agent.api_max_retries = 1;
  }
  ~ConversationCore() override {
    worker_.stop();
    fs::remove_all(dir_);
  }

  // Built after the test has set config_.
  void start() {
    TurnRunner::ProviderCall call = [this](ChatCall c) { return answer(std::move(c)); };
    turns_ = std::make_unique<TurnRunner>(io_, config_, metrics_, std::move(call));
    compactor_ = std::make_unique<Compactor>(config_, *turns_, store_);
    core_ = std::make_unique<Conversation>(config_, store_, queue_, *turns_, *compactor_);
  }

  asio::awaitable<ChatCallResult> answer(ChatCall call) {
    sent_.emplace_back(call.messages.begin(), call.messages.end());
    if (replies_.empty()) {
      ADD_FAILURE() << "an unexpected provider call";
      co_return ChatCallResult{};
    }
    Reply reply = replies_.front();
    replies_.pop_front();
    ChatCallResult result;
    if (reply.status == 400) co_return overflow();
    if (reply.status != 0) {
      result.error.status = reply.status;
      result.error.body = reply.text;
      co_return result;
    }
    if (!reply.hang_after_streaming) {
      result.ok = true;
      result.content = reply.text;
      co_return result;
    }
    if (call.sink) co_await call.sink(reply.text);
    if (!call.abort->aborted()) {
      auto stopped = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(10));
      auto subscription = call.abort->subscribe([stopped] { stopped->cancel(); });
      co_await stopped->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    result.partial_stream = true;
    result.content = reply.text;
    result.error.status = 499;
    co_return result;
  }

  ConversationResult take(ConversationTurn turn, TurnOptions options = {}, PlatformRows rows = {}) {
    ConversationResult out;
    run_coroutine(io_, [&]() -> asio::awaitable<void> {
      out = co_await core_->take_turn(std::move(turn), std::move(options), std::move(rows));
    });
    return out;
  }

  ConversationTurn user_turn(const std::string& session, const std::string& text,
                             bool new_session = false) {
    ConversationTurn turn;
    turn.session_id = session;
    turn.platform = "test";
    turn.new_session = new_session;
    turn.fresh = {{"user", text}};
    return turn;
  }

  std::vector<ChatMessage> stored(const std::string& session) {
    std::vector<ChatMessage> history;
    run_coroutine(io_,
                  [&]() -> asio::awaitable<void> { history = co_await store_.history(session); });
    return history;
  }

  long long count(const std::string& sql) {
    long long n = 0;
    run_coroutine(io_, [&]() -> asio::awaitable<void> {
      std::function<void()> job = [&] {
        auto q = db_.prepare(sql);
        if (q.step()) n = q.integer(0);
      };
      co_await worker_.run(std::move(job));
    });
    return n;
  }

  static std::vector<std::string> contents(const std::vector<ChatMessage>& messages) {
    std::vector<std::string> out;
    for (const auto& m : messages) out.push_back(m.content);
    return out;
  }

  fs::path dir_;
  asio::io_context io_;
  state::SqliteConnection db_;
  state::StoreWorker worker_{io_, db_};
  SqlSessionTables tables_{db_};
  SessionStore store_{worker_, tables_, 0};
  SessionQueue queue_{io_};
  Metrics metrics_;
  Config config_;
  std::unique_ptr<TurnRunner> turns_;
  std::unique_ptr<Compactor> compactor_;
  std::unique_ptr<Conversation> core_;
  std::deque<Reply> replies_;
  std::vector<std::vector<ChatMessage>> sent_;
};

TEST_F(ConversationCore, ANewSessionIsCreatedWithItsMessagesAndTheAnswerInOneTransaction) {
  start();
  replies_.push_back({"hello there"});
  const auto id = store_.new_session_id();
  const auto taken = take(user_turn(id, "hi", true));
  EXPECT_TRUE(taken.result.ok);
  EXPECT_EQ(taken.stored, StoreOutcome::stored);
  EXPECT_EQ(to_string(taken.end.mark), "done");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_THAT(contents(sent_[0]), ElementsAre("You are a test.", "hi"));
  EXPECT_THAT(contents(stored(id)), ElementsAre("hi", "hello there"));
}

TEST_F(ConversationCore, AContinuedSessionSendsItsHistoryAndStoresTheNewTurn) {
  start();
  replies_ = {{"one"}, {"two"}};
  const auto id = store_.new_session_id();
  take(user_turn(id, "first", true));
  const auto taken = take(user_turn(id, "second"));
  EXPECT_TRUE(taken.result.ok);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_THAT(contents(sent_[1]), ElementsAre("You are a test.", "first", "one", "second"));
  EXPECT_THAT(contents(stored(id)), ElementsAre("first", "one", "second", "two"));
}

TEST_F(ConversationCore, ANewSessionTooBigForTheWindowIsRefusedBeforeAnyCallAndNotStored) {
  config_.model.context_length = 50;
  start();
  const auto id = store_.new_session_id();
  const auto taken = take(user_turn(id, std::string(1000, 'x'), true));
  EXPECT_TRUE(taken.too_big);
  EXPECT_GT(taken.tokens, taken.context_window);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM sessions"), 0);
}

TEST_F(ConversationCore, AContextOverflowIsMetWithOneCompactionAndOneRetry) {
  config_.compression.protect_last_n = 2;
  start();
  replies_ = {{"a1"}, {"a2"}, {"", 400}, {"short summary"}, {"answer after compaction"}};
  const auto id = store_.new_session_id();
  take(user_turn(id, "my name is Ada, and here is a long story " + std::string(400, 's'), true));
  take(user_turn(id, "I live in Oslo"));
  const auto taken = take(user_turn(id, "what is my name?"));
  EXPECT_TRUE(taken.result.ok);
  EXPECT_TRUE(taken.fitted.compacted);
  EXPECT_EQ(taken.result.content, "answer after compaction");
  ASSERT_EQ(sent_.size(), 5u) << "the failed call, one summary call, one retry; never a loop";
  EXPECT_EQ(sent_[4][1].content.rfind("[Summary of the earlier conversation]", 0), 0u)
      << sent_[4][1].content;
  EXPECT_EQ(sent_[4].back().content, "what is my name?");
  EXPECT_EQ(count("SELECT COUNT(*) FROM session_summaries"), 1);
  // The messages themselves stay stored; the new turn is stored once.
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE content = 'what is my name?'"), 1);
}

TEST_F(ConversationCore, AFailureStoresTheUserMessageAndTellsTheHint) {
  start();
  replies_ = {{R"({"error":{"message":"Insufficient balance"}})", 402}};
  const auto id = store_.new_session_id();
  const auto taken = take(user_turn(id, "are you there?", true));
  EXPECT_FALSE(taken.result.ok);
  EXPECT_EQ(static_cast<int>(taken.end.tell), static_cast<int>(TurnTell::failure));
  ASSERT_TRUE(taken.result.failure);
  EXPECT_EQ(taken.result.failure->reason, providers::FailoverReason::billing);
  EXPECT_THAT(contents(stored(id)), ElementsAre("are you there?"));
}

TEST_F(ConversationCore, AStopKeepsWhatWasSaidMarkedStoppedAndAHangUpMarkedInterrupted) {
  start();
  for (const bool by_user : {true, false}) {
    replies_.push_back({"half an ans", 0, true});
    const auto id = store_.new_session_id();
    auto signal = std::make_shared<providers::AbortSignal>();
    TurnOptions options;
    options.abort = signal;
    options.sink = [signal, by_user](std::string) -> asio::awaitable<bool> {
      signal->abort(by_user ? providers::AbortSignal::Reason::stop
                            : providers::AbortSignal::Reason::hang_up);
      co_return true;
    };
    const auto taken = take(user_turn(id, "tell me everything", true), std::move(options));
    EXPECT_TRUE(taken.result.client_gone);
    EXPECT_EQ(to_string(taken.end.mark), by_user ? "stopped" : "interrupted");
    const std::string status = by_user ? "stopped" : "interrupted";
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE session_id = '" + id +
                    "' AND content = 'half an ans' AND status = '" + status + "'"),
              1);
  }
}

TEST_F(ConversationCore, AMessageHandedOverAgainIsStoredOnce) {
  start();
  replies_ = {{"one"}, {"two"}};
  const auto id = store_.new_session_id();
  // A first attempt stored the message and failed before answering (an older release, or a
  // crash between two commits): handing it over again runs the turn without a second copy.
  run_coroutine(io_, [&]() -> asio::awaitable<void> {
    state::Transaction tx;
    store_.add_session(tx, id, "test", "test:dm:1");
    store_.add_message(tx, id, "user", "only once");
    co_await store_.commit(std::move(tx));
  });
  auto again = user_turn(id, "only once");
  again.redelivered = true;
  const auto taken = take(std::move(again));
  EXPECT_TRUE(taken.result.ok);
  EXPECT_THAT(contents(sent_[0]), ElementsAre("You are a test.", "only once"));
  EXPECT_THAT(contents(stored(id)), ElementsAre("only once", "one"));
}

TEST_F(ConversationCore, ThePlatformsRowsAreStoredWithTheTurnOrNotAtAll) {
  start();
  replies_ = {{"kept"}, {"lost"}};
  const auto id = store_.new_session_id();
  PlatformRows good = [this](state::Transaction& tx,
                             const ConversationResult&) -> asio::awaitable<void> {
    tx.add([this] { db_.exec("CREATE TABLE IF NOT EXISTS outbox(text TEXT)"); });
    tx.add([this] { db_.exec("INSERT INTO outbox VALUES('reply')"); });
    co_return;
  };
  EXPECT_EQ(take(user_turn(id, "hi", true), {}, std::move(good)).stored, StoreOutcome::stored);
  EXPECT_EQ(count("SELECT COUNT(*) FROM outbox"), 1);
  PlatformRows broken = [this](state::Transaction& tx,
                               const ConversationResult&) -> asio::awaitable<void> {
    tx.add([this] { db_.exec("INSERT INTO no_such_table VALUES(1)"); });
    co_return;
  };
  const auto taken = take(user_turn(id, "again"), {}, std::move(broken));
  EXPECT_EQ(taken.stored, StoreOutcome::failed);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE content IN ('again', 'lost')"), 0)
      << "the turn's rows went with the platform's";
}

TEST_F(ConversationCore, AHistoryThePlatformKeepsIsCompactedAndTheSummaryComesBack) {
  config_.model.context_length = 400;
  config_.compression.protect_last_n = 2;
  start();
  replies_ = {{"short summary"}, {"answer"}};
  ConversationTurn turn;
  turn.platform = "test";
  turn.system_prompt = "Chain instructions.";
  turn.own_history = std::vector<ChatMessage>{};
  for (int i = 0; i < 6; ++i) {
    turn.own_history->push_back({"user", "question " + std::string(100, 'q')});
    turn.own_history->push_back({"assistant", "answer " + std::string(100, 'a')});
  }
  turn.fresh = {{"user", "and now?"}};
  const auto taken = take(std::move(turn));
  EXPECT_TRUE(taken.result.ok);
  EXPECT_TRUE(taken.fitted.compacted);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1][0].content, "Chain instructions.");
  EXPECT_EQ(sent_[1][1].content.rfind("[Summary of the earlier conversation]", 0), 0u);
  EXPECT_EQ(sent_[1].back().content, "and now?");
  EXPECT_EQ(count("SELECT COUNT(*) FROM session_summaries"), 0) << "the platform keeps it";
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 0);
}

}  // namespace
}  // namespace hermes::daemon
