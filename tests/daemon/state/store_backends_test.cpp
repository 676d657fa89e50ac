// The state store's tables on both backends: the same tests, once on a SQLite file and once on
// a fresh database of the PostgreSQL server the ctest fixture started. Then what only the
// shared backend has: reconnecting, and the advisory locks several gateways share.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <memory>
#include <random>
#include <tuple>

#include "daemon/agent/context_window.hpp"
#include "daemon/agent/session_tables.hpp"
#include "daemon/cron/job_tables.hpp"
#include "daemon/dashboard/session_browser.hpp"
#include "daemon/platforms/chat/chat_store.hpp"
#include "daemon/platforms/responses/response_tables.hpp"
#include "daemon/state/migrations.hpp"
#include "daemon/state/pg_connection.hpp"
#include "daemon/state/shared_locks.hpp"
#include "daemon/state/sqlite_connection.hpp"
#include "daemon/state/store_worker.hpp"
#include "daemon/usage/usage_tables.hpp"
#include "support/run_coroutine.hpp"
#include "support/test_postgres.hpp"

namespace hermes::daemon {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using hermes::testing::run_coroutine;
using providers::ChatMessage;
using namespace std::chrono_literals;

class StoreBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::random_device device;
      dir_ = fs::temp_directory_path() / ("hermes-backend-test-" + std::to_string(device()));
      fs::create_directories(dir_);
      db_ = std::make_unique<state::SqliteConnection>(dir_ / "state.db", Durability::normal);
    } else {
      pg_ = std::make_unique<hermes::testing::TestDatabase>();
      db_ = std::make_unique<state::PgConnection>(pg_->url());
    }
    state::migrate(*db_, state::schema_for(*db_));
  }
  void TearDown() override {
    db_.reset();
    pg_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  template <typename Work>
  void in_transaction(Work work) {
    db_->begin();
    work();
    db_->commit();
  }

  fs::path dir_;
  std::unique_ptr<hermes::testing::TestDatabase> pg_;
  std::unique_ptr<state::SqlConnection> db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreBackend, ::testing::Values("sqlite", "postgres"),
                         [](const auto& backend) { return backend.param; });

TEST_P(StoreBackend, MigratingAgainTakesNoStepAndANewerSchemaIsRefused) {
  const int newest = state::schema_for(*db_).back().version;
  EXPECT_EQ(state::migrate(*db_, state::schema_for(*db_)), newest);
  db_->begin();
  db_->set_schema_version(99);
  db_->commit();
  try {
    state::migrate(*db_, state::schema_for(*db_));
    FAIL() << "a newer schema was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 99, newer than"), std::string::npos)
        << e.what();
  }
}

TEST_P(StoreBackend, SessionsKeepTheirMessagesInOrderWithToolCallsAndStatus) {
  SqlSessionTables tables(*db_);
  in_transaction([&] {
    tables.insert_session("hs_1", "api_server", "", 100);
    tables.insert_message("hs_1", {"system", "be brief"}, 100, "");
    tables.insert_message("hs_1", {"user", "weather?"}, 100, "");
    tables.insert_message("hs_1", {"assistant", "", R"([{"id":"c1"}])"}, 101, "");
    tables.insert_message("hs_1", {"tool", "sunny", "", "c1"}, 101, "");
    tables.insert_message("hs_1", {"assistant", ""}, 102, "interrupted");  // said nothing
    tables.insert_message("hs_1", {"assistant", "it is sun"}, 102, "interrupted");
    tables.insert_message("hs_1", {"user", "far too long"}, 103, "left_out");  // never sent
    tables.touch_session("hs_1", 103);
  });
  EXPECT_EQ(tables.count_sessions(), 1);
  EXPECT_TRUE(tables.session_exists("hs_1"));
  EXPECT_FALSE(tables.session_exists("hs_2"));
  const auto messages = tables.load_messages("hs_1");
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[0], ChatMessage("system", "be brief"));
  EXPECT_EQ(messages[2], ChatMessage("assistant", "", R"([{"id":"c1"}])"));
  EXPECT_EQ(messages[3], ChatMessage("tool", "sunny", "", "c1"));
  EXPECT_EQ(messages[4].content, "it is sun");
  EXPECT_EQ(tables.history_shape("hs_1").rows, 5) << "the shape counts what the history shows";
  EXPECT_TRUE(tables.load_messages("hs_2").empty());
}

// session_search: FTS5 on SQLite, a tsvector expression index on PostgreSQL; the same answers.
TEST_P(StoreBackend, SessionSearchFindsTheOwnersWordsInTheirOtherSessionsOnly) {
  SqlSessionTables tables(*db_);
  in_transaction([&] {
    tables.insert_session("hs_a1", "telegram", "telegram:dm:1", 100);
    tables.insert_message("hs_a1", {"user", "The lighthouse keeper sang at dawn"}, 100, "");
    tables.insert_message("hs_a1", {"tool", "lighthouse in a tool result", "", "c1"}, 100, "");
    tables.insert_message("hs_a1", {"assistant", "A lighthouse keeper's song, then."}, 101, "");
    tables.set_session_owner("hs_a1", "telegram-1");
    tables.insert_session("hs_a2", "telegram", "telegram:dm:1", 200);
    tables.insert_message("hs_a2", {"user", "what about the lighthouse keeper?"}, 200, "");
    tables.set_session_owner("hs_a2", "telegram-1");
    tables.insert_session("hs_b1", "telegram", "telegram:dm:2", 300);
    tables.insert_message("hs_b1", {"user", "my own lighthouse keeper story"}, 300, "");
    tables.set_session_owner("hs_b1", "telegram-2");
    tables.set_session_owner("hs_b1", "telegram-9");  // the first owner stays
  });
  const auto hits = tables.search_messages("telegram-1", {"lighthouse", "keeper"}, "hs_a2", 10);
  ASSERT_EQ(hits.size(), 2u) << "the user's and the assistant's words; not the tool's";
  for (const auto& hit : hits) {
    EXPECT_EQ(hit.session_id, "hs_a1");
    EXPECT_NE(hit.snippet.find("lighthouse"), std::string::npos) << hit.snippet;
  }
  EXPECT_TRUE(tables.search_messages("telegram-1", {"sang", "nowhere"}, "", 10).empty());
  EXPECT_EQ(tables.search_messages("telegram-2", {"lighthouse"}, "", 10).size(), 1u);
  EXPECT_TRUE(tables.search_messages("telegram-9", {"lighthouse"}, "", 10).empty());
  EXPECT_EQ(tables.search_messages("telegram-1", {"lighthouse"}, "", 1).size(), 1u);
}

// The dashboard's sessions: newest first, searched case-insensitively with LIKE's own
// characters taken literally, and one session's stored messages with their tool calls.
TEST_P(StoreBackend, TheDashboardListsSearchesAndShowsSessions) {
  SqlSessionTables tables(*db_);
  const double later = 4e9;  // after every other test's sessions
  const std::string calls =
      R"([{"id":"c1","type":"function","function":{"name":"read_file","arguments":"{}"}}])";
  in_transaction([&] {
    tables.insert_session("hs_d1", "telegram", "telegram:dm:5", later);
    tables.insert_message("hs_d1", {"user", "Zanzibar 100%_ sure\nsecond line"}, later, "");
    tables.insert_message("hs_d1", {"assistant", "", calls, ""}, later, "");
    tables.insert_message("hs_d1", {"tool", "file text", "", "c1"}, later, "");
    tables.insert_message("hs_d1", {"assistant", "done"}, later, "");
    tables.insert_session("hs_d2", "api_server", "", later + 1);
    tables.insert_message("hs_d2", {"user", "ZANZIBAR too"}, later + 1, "");
  });
  dashboard::SessionBrowser browser(*db_);
  const auto found = browser.matching("zanzibar", 10);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].id, "hs_d2") << "the newest first";
  EXPECT_EQ(found[1].id, "hs_d1");
  EXPECT_EQ(found[1].platform, "telegram");
  EXPECT_EQ(found[1].messages, 4);
  EXPECT_EQ(found[1].title, "Zanzibar 100%_ sure second line");
  EXPECT_EQ(found[1].updated_at, later);
  ASSERT_EQ(browser.matching("0%_ s", 10).size(), 1u);
  EXPECT_TRUE(browser.matching("1_0", 10).empty()) << "_ is not a wildcard";
  EXPECT_TRUE(browser.matching("zan%bar", 10).empty()) << "% is not a wildcard";
  const auto newest = browser.newest_ids(1);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0], "hs_d2");
  const auto by_key = browser.rows({"hs_d1", "hs_none", "hs_d2"});
  ASSERT_EQ(by_key.size(), 2u) << "a session no longer stored is left out";
  EXPECT_EQ(by_key[0].id, "hs_d1");
  EXPECT_EQ(by_key[0].messages, 4);
  EXPECT_EQ(by_key[1].id, "hs_d2");

  const auto transcript = browser.transcript("hs_d1");
  ASSERT_TRUE(transcript.has_value());
  ASSERT_EQ(transcript->messages.size(), 4u);
  EXPECT_EQ(transcript->messages[1].tool_calls, calls);
  EXPECT_EQ(transcript->messages[2].tool_call_id, "c1");
  EXPECT_EQ(transcript->messages[3].content, "done");
  EXPECT_FALSE(browser.transcript("hs_none").has_value());
}

TEST_P(StoreBackend, ASummaryStandsForTheMessagesItCoversAndTheNewestWins) {
  SqlSessionTables tables(*db_);
  in_transaction([&] {
    tables.insert_session("hs_s", "api_server", "", 1);
    tables.insert_message("hs_s", {"system", "rules"}, 1, "");
    for (int i = 0; i < 4; ++i) tables.insert_message("hs_s", {"user", std::to_string(i)}, 1, "");
    tables.insert_summary("hs_s", 3, "first two", 2);
    tables.insert_summary("hs_s", 3, "the first two, again", 3);  // same covers: replaced
  });
  EXPECT_EQ(tables.summary_covers("hs_s"), 3);
  EXPECT_EQ(tables.summary_covers("hs_none"), 0);
  const auto messages = tables.load_messages("hs_s");
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].content, "rules");
  EXPECT_EQ(messages[1], context::summary_message("the first two, again"));
  EXPECT_EQ(messages[2].content, "2");
  EXPECT_EQ(messages[3].content, "3");
}

TEST_P(StoreBackend, TheNewestSessionOfAChatAndResumableTurns) {
  SqlSessionTables tables(*db_);
  in_transaction([&] {
    tables.insert_session("hs_a", "telegram", "42", 10);
    tables.insert_session("hs_b", "telegram", "42", 20);
    tables.insert_session("hs_c", "telegram", "43", 30);
    tables.mark_resumable("hs_a", "api_server", 5);
    tables.mark_resumable("hs_a", "api_server", 6);  // again: one row
    tables.mark_resumable("hs_c", "api_server", 7);
  });
  EXPECT_EQ(tables.newest_chat_session("telegram", "42"), "hs_b");
  EXPECT_EQ(tables.newest_chat_session("telegram", "44"), std::nullopt);
  EXPECT_EQ(tables.resumable_sessions("api_server"), (std::vector<std::string>{"hs_a", "hs_c"}));
  in_transaction([&] { tables.clear_resumable("hs_a"); });
  EXPECT_EQ(tables.resumable_sessions("api_server"), (std::vector<std::string>{"hs_c"}));
}

TEST_P(StoreBackend, TheTelegramInboxTakesEachUpdateOnceInOrderWithBigIds) {
  chat::SqlChatTables tables(*db_);
  const long long big = 5'000'000'000LL;  // past 2^31: Telegram's ids are
  const chat::Inbound first{big + 1, -1001234567890LL, "g:7", big, "ann", 11, "hi", ""};
  const chat::Inbound second{big + 2, -1001234567890LL, "g:7", big, "ann", 12, "", "photo"};
  in_transaction([&] {
    tables.record_inbound("telegram", second);
    tables.record_inbound("telegram", first);
    tables.record_inbound("telegram", first);  // polled twice: one row
    tables.set_platform_offset("telegram", big + 3);
  });
  EXPECT_EQ(tables.platform_offset("telegram"), big + 3);
  EXPECT_EQ(tables.platform_offset("other"), std::nullopt);
  EXPECT_EQ(tables.chats_with_inbound("telegram"), (std::vector<std::string>{"g:7"}));
  auto next = tables.next_inbound("telegram", "g:7");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->update_id, big + 1);
  EXPECT_EQ(next->chat_id, -1001234567890LL);
  EXPECT_EQ(next->user_id, big);
  EXPECT_EQ(next->username, "ann");
  EXPECT_EQ(next->text, "hi");
  in_transaction([&] { tables.mark_inbound_done("telegram", big + 1); });
  next = tables.next_inbound("telegram", "g:7");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->media, "photo");
  in_transaction([&] {
    tables.mark_inbound_done("telegram", big + 2);
    tables.set_platform_offset("telegram", big + 9);
  });
  EXPECT_FALSE(tables.next_inbound("telegram", "g:7"));
  EXPECT_TRUE(tables.chats_with_inbound("telegram").empty());
  EXPECT_EQ(tables.platform_offset("telegram"), big + 9);
}

TEST_P(StoreBackend, AChatIdLeadsBackToItsNewestSessionKey) {
  // Slack's conversations are numbers for the machinery: after a restart the reply's place is
  // read back from the session key of the newest message recorded from that number.
  chat::SqlChatTables tables(*db_);
  const long long thread = 3'000'000'000'000'000'001LL;  // 62-bit hashes
  const chat::Inbound older{
      1700000000000100000LL, thread, "slack:thread:C1:1700000000.000100:U1", 7, "U1", 1, "hi", ""};
  const chat::Inbound newer{1700000000000200000LL,
                            thread,
                            "slack:thread:C1:1700000000.000100:U2",
                            8,
                            "U2",
                            2,
                            "hello",
                            ""};
  in_transaction([&] {
    tables.record_inbound("slack", newer);
    tables.record_inbound("slack", older);
  });
  EXPECT_EQ(tables.chat_key_of("slack", thread), newer.chat_key);
  EXPECT_EQ(tables.chat_key_of("slack", thread + 1), std::nullopt);
  EXPECT_EQ(tables.chat_key_of("discord", thread), std::nullopt) << "another platform's";
}

TEST_P(StoreBackend, AFiringIsClaimedOnceAndItsRunSaysDeliveredOnlyOnceEveryPartWasSent) {
  cron::JobTables jobs(*db_);
  chat::SqlChatTables outbox(*db_);
  cron::Job job;
  job.id = "job00001";
  job.name = "news";
  job.prompt = "news please";
  job.schedule = "every 1m";
  job.deliver = "telegram:42";
  job.created_at = 1000;
  job.next_run = 1060;
  in_transaction([&] { jobs.add(job); });
  cron::FiringPlan plan;
  plan.runs = {1060};
  plan.next = 1120;
  cron::JobTables::Claim first, second;
  in_transaction([&] { first = jobs.claim(job, 1060, plan, 1061); });
  in_transaction([&] { second = jobs.claim(job, 1060, plan, 1061); });
  EXPECT_TRUE(first.claimed);
  ASSERT_EQ(first.run_ids.size(), 1u);
  EXPECT_FALSE(second.claimed) << "its next_run moved: another gateway got there first";
  EXPECT_EQ(jobs.job(job.id)->next_run, 1120);
  // A run row per job and scheduled time, even written twice.
  job.next_run = 1120;
  plan.runs = {1060};
  in_transaction([&] { second = jobs.claim(job, 1120, plan, 1121); });
  EXPECT_TRUE(second.claimed);
  EXPECT_TRUE(second.run_ids.empty()) << "the firing at 1060 has its row already";

  const long long run_id = first.run_ids.front();
  bool started = false, again = true;
  in_transaction([&] {
    started = jobs.start(run_id, 1061);
    again = jobs.start(run_id, 1061);
  });
  EXPECT_TRUE(started);
  EXPECT_FALSE(again);
  auto run = *jobs.run(run_id);
  run.status = "ok";
  run.delivery = "pending";
  run.result = "the news";
  in_transaction([&] {
    jobs.finish(run, 1062);
    outbox.queue_delivery("telegram", {0, 42, 0, "part one", 0, 0, run_id});
    outbox.queue_delivery("telegram", {0, 42, 0, "part two", 0, 0, run_id, 7});
  });
  auto part = outbox.next_delivery("telegram");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->cron_run_id, run_id);
  in_transaction([&] { outbox.delivery_failed(part->id, "Bad Request: chat not found", run_id); });
  EXPECT_EQ(jobs.run(run_id)->delivery, "pending");
  EXPECT_NE(jobs.run(run_id)->error.find("chat not found"), std::string::npos);
  in_transaction([&] { outbox.delivery_done(part->id, 501, run_id); });
  EXPECT_EQ(jobs.run(run_id)->delivery, "pending") << "one part is still to go";
  part = outbox.next_delivery("telegram");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->thread_id, 7) << "a forum topic is kept with its part";
  in_transaction([&] { outbox.delivery_done(part->id, 502, run_id); });
  EXPECT_EQ(jobs.run(run_id)->delivery, "delivered");
  EXPECT_EQ(jobs.run(run_id)->message_id, "501") << "the first part's id";
  EXPECT_EQ(jobs.job(job.id)->last_status, "ok");

  cron::Run hook;
  hook.source = "webhook";
  hook.scheduled_for = 2000;
  hook.deliver = "local";
  hook.prompt = "p";
  std::optional<long long> once, twice, other_route;
  in_transaction([&] {
    once = jobs.queue_run(hook, "gh", "delivery-1");
    twice = jobs.queue_run(hook, "gh", "delivery-1");
    other_route = jobs.queue_run(hook, "ci", "delivery-1");
  });
  EXPECT_TRUE(once);
  EXPECT_FALSE(twice) << "a redelivery runs nothing";
  EXPECT_TRUE(other_route);
}

TEST_P(StoreBackend, TheOutboxRetriesAbandonsAndRevivesReplies) {
  chat::SqlChatTables tables(*db_);
  in_transaction([&] {
    tables.queue_delivery("telegram", {0, 42, 7, "part one", 0, 0});
    tables.queue_delivery("telegram", {0, 42, 0, "part two", 0, 0});
    tables.queue_delivery("telegram", {0, 42, 0, "edited", 0, 99});
  });
  auto next = tables.next_delivery("telegram");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->text, "part one");
  EXPECT_EQ(next->reply_to, 7);
  EXPECT_EQ(next->edit_message_id, 0);
  const long long first = next->id;
  in_transaction([&] {
    tables.delivery_failed(first, "refused", 0);
    tables.delivery_failed(first, "refused", 0);
  });
  next = tables.next_delivery("telegram");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, first);
  EXPECT_EQ(next->attempts, 2);
  in_transaction([&] { tables.delivery_abandoned(first); });
  next = tables.next_delivery("telegram");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->text, "part two");
  in_transaction([&] { tables.delivery_done(next->id, 1, 0); });
  next = tables.next_delivery("telegram");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->edit_message_id, 99);
  in_transaction([&] { tables.delivery_done(next->id, 1, 0); });
  EXPECT_FALSE(tables.next_delivery("telegram"));
  long long revived = 0;
  in_transaction([&] { revived = tables.revive_abandoned("telegram"); });
  EXPECT_EQ(revived, 1);
  next = tables.next_delivery("telegram");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->id, first);
  EXPECT_EQ(next->attempts, 0);
}

TEST_P(StoreBackend, RefusedUsersAndStreamMessagesAreKept) {
  chat::SqlChatTables tables(*db_);
  in_transaction([&] {
    tables.add_refused_user("telegram", 6'000'000'000LL, 1);
    tables.add_refused_user("telegram", 6'000'000'000LL, 2);  // once
    tables.add_stream_message("telegram", 5, 1, 501);
    tables.add_stream_message("telegram", 5, 0, 500);
    tables.add_stream_message("telegram", 5, 1, 502);  // the same position: replaced
  });
  EXPECT_EQ(tables.refused_users("telegram"), (std::vector<long long>{6'000'000'000LL}));
  EXPECT_EQ(tables.stream_messages("telegram", 5), (std::vector<long long>{500, 502}));
  EXPECT_TRUE(tables.stream_messages("telegram", 6).empty());
}

TEST_P(StoreBackend, AResponseChainIsReadOldestFirstAndBreaksAtADeletedLink) {
  responses::SqlResponseTables tables(*db_);
  in_transaction([&] {
    tables.insert({"resp_1", "", 1, R"({"id":"resp_1"})", "[1]", "c1"});
    tables.insert({"resp_2", "resp_1", 2, R"({"id":"resp_2"})", "[2]", "c2"});
    tables.insert({"resp_3", "resp_2", 3, R"({"id":"resp_3"})", "[3]", "c3"});
  });
  EXPECT_EQ(tables.object_json("resp_2"), R"({"id":"resp_2"})");
  EXPECT_EQ(tables.input_items_json("resp_3"), "[3]");
  EXPECT_EQ(tables.object_json("resp_9"), std::nullopt);
  auto chain = tables.chain("resp_3", 10);
  EXPECT_EQ(chain.state, responses::StoredChain::State::found);
  EXPECT_EQ(chain.conversations, (std::vector<std::string>{"c1", "c2", "c3"}));
  EXPECT_EQ(tables.chain("resp_3", 2).state, responses::StoredChain::State::too_long);
  EXPECT_EQ(tables.chain("resp_9", 10).state, responses::StoredChain::State::unknown);
  bool removed = false;
  bool again = true;
  in_transaction([&] {
    removed = tables.remove("resp_2");
    again = tables.remove("resp_2");
  });
  EXPECT_TRUE(removed);
  EXPECT_FALSE(again);
  chain = tables.chain("resp_3", 10);
  EXPECT_EQ(chain.state, responses::StoredChain::State::broken);
  EXPECT_EQ(chain.missing_id, "resp_2");
}

TEST_P(StoreBackend, UsageTotalsByGroupAndTheDailySpendOfBudgets) {
  usage::SqlUsageTables tables(*db_);
  const double day = 20000.0 * 86400;  // 2024-10-04 UTC
  in_transaction([&] {
    tables.insert({day + 10, "openai", "gpt-a", 0, 10, 5, 15, 0.25, "hs_1", "api_server",
                   "api_server:hs_1", "turn"});
    tables.insert({day + 86399.9, "openai", "gpt-b", 1, 20, 10, 30, 0.5, "", "telegram",
                   "telegram:42", "summary"});
    tables.insert({day + 86400 + 1, "local", "llama", 0, 1, 1, 2, std::nullopt, "hs_1",
                   "api_server", "api_server:hs_1", "turn"});
  });
  const auto all = tables.totals(0, usage::UsageGrouping::none, "");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].calls, 3);
  EXPECT_EQ(all[0].prompt_tokens, 31);
  EXPECT_EQ(all[0].total_tokens, 47);
  EXPECT_DOUBLE_EQ(all[0].cost_usd, 0.75);
  EXPECT_EQ(all[0].unpriced, 1);
  const auto by_day = tables.totals(0, usage::UsageGrouping::day, "");
  ASSERT_EQ(by_day.size(), 2u);
  EXPECT_EQ(by_day[0].group, "2024-10-04");
  EXPECT_EQ(by_day[0].calls, 2);
  EXPECT_EQ(by_day[1].group, "2024-10-05");
  const auto by_provider = tables.totals(0, usage::UsageGrouping::provider, "");
  ASSERT_EQ(by_provider.size(), 2u);
  EXPECT_EQ(by_provider[0].group, "openai");  // the bigger cost first
  const auto by_session = tables.totals(0, usage::UsageGrouping::session, "api_server:hs_1");
  ASSERT_EQ(by_session.size(), 1u);
  EXPECT_EQ(by_session[0].group, "hs_1");
  EXPECT_EQ(by_session[0].calls, 2);
  const auto spends = tables.daily_spend(day);
  ASSERT_EQ(spends.size(), 2u);                                    // the unpriced call is no spend
  for (const auto& s : spends) EXPECT_EQ(s.day, 20000) << s.chat;  // 86399.9 s is that day

  // The dashboard's use per day, provider and model (unpriced calls count, at no cost).
  auto days = tables.usage_by_day(day);
  std::sort(days.begin(), days.end(), [](const auto& a, const auto& b) {
    return std::tie(a.day, a.provider, a.model) < std::tie(b.day, b.provider, b.model);
  });
  ASSERT_EQ(days.size(), 3u);
  EXPECT_EQ(days[0].day, 20000);
  EXPECT_EQ(days[0].model, "gpt-a");
  EXPECT_EQ(days[0].calls, 1);
  EXPECT_EQ(days[0].tokens, 15);
  EXPECT_DOUBLE_EQ(days[0].cost_usd, 0.25);
  EXPECT_EQ(days[1].model, "gpt-b");
  EXPECT_EQ(days[2].day, 20001);
  EXPECT_EQ(days[2].provider, "local");
  EXPECT_EQ(days[2].tokens, 2);
  EXPECT_DOUBLE_EQ(days[2].cost_usd, 0.0);
  EXPECT_EQ(tables.usage_by_day(day + 86400).size(), 1u);
}

TEST_P(StoreBackend, AFailingJobOfAGroupCommitFailsAloneAndItsNeighboursAreStored) {
  asio::io_context io;
  SqlSessionTables tables(*db_);
  in_transaction([&] { tables.insert_session("hs_dup", "api_server", "", 1); });
  state::StoreWorker worker(io, *db_);
  int failed = 0;
  int stored = 0;
  run_coroutine(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(io, worker.run([&tables, i] {
        // The second one breaks a primary key: on PostgreSQL that aborts the transaction
        // it shares with the others, which are then run again alone.
        tables.insert_session(i == 1 ? "hs_dup" : "hs_new" + std::to_string(i), "api_server", "",
                              2);
      }),
                     [&](std::exception_ptr e) { (e ? failed : stored) += 1; });
    }
    co_return;
  });
  worker.stop();
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(stored, 2);
  EXPECT_EQ(tables.count_sessions(), 3);
}

TEST(StoreSchemas, BothBackendsTakeTheSameStepsUnderTheSameVersions) {
  const auto sqlite = state::state_schema();
  const auto postgres = state::postgres_schema();
  ASSERT_EQ(sqlite.size(), postgres.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, postgres[i].version);
    EXPECT_STREQ(sqlite[i].what, postgres[i].what);
  }
}

// What only PostgreSQL has: a connection that drops and locks shared by several gateways.
class SharedPostgres : public ::testing::Test {
 protected:
  hermes::testing::TestDatabase database_;
};

void terminate_other_connections(hermes::testing::TestDatabase& database) {
  database.scalar(
      "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
      "current_database() AND pid <> pg_backend_pid()");
}

TEST_F(SharedPostgres, AConnectionTheServerDroppedIsOpenedAgainAtTheNextTransaction) {
  state::PgConnection db(database_.url());
  state::migrate(db, state::postgres_schema());
  SqlSessionTables tables(db);
  const auto generation = db.generation();
  terminate_other_connections(database_);
  db.begin();
  tables.insert_session("hs_after", "api_server", "", 1);
  db.commit();
  EXPECT_GT(db.generation(), generation);
  EXPECT_TRUE(tables.session_exists("hs_after"));
  EXPECT_EQ(database_.scalar("SELECT COUNT(*) FROM sessions"), "1");
}

TEST_F(SharedPostgres, AnUnreachableServerIsNamedWithoutThePassword) {
  const std::string url = "postgresql://hermes:s3cret-pw@127.0.0.1:1/nowhere";
  try {
    state::PgConnection db(url, state::PgConnection::Options{std::chrono::milliseconds(0)});
    FAIL() << "connected to nothing";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:1/nowhere"), std::string::npos) << what;
    EXPECT_NE(what.find("unreachable"), std::string::npos) << what;
    EXPECT_EQ(what.find("s3cret-pw"), std::string::npos) << what;
  }
  EXPECT_EQ(state::postgres_url_password(url), "s3cret-pw");
}

// Asks every 10 ms until the lock is taken or `limit` passed.
asio::awaitable<bool> taken_within(state::SharedLocks& locks, std::string name,
                                   std::chrono::milliseconds limit) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    const bool taken = co_await locks.try_hold(name);
    if (taken) co_return true;
    pause.expires_after(std::chrono::milliseconds(10));
    co_await pause.async_wait(asio::use_awaitable);
  }
  co_return false;
}

TEST_F(SharedPostgres, ALockIsOneGatewaysAtATimeAndGoesWithItsConnection) {
  {
    state::PgConnection db(database_.url());
    state::migrate(db, state::postgres_schema());  // lock_fences
  }
  asio::io_context io;
  auto first = std::make_unique<state::SharedLocks>(io, database_.url());
  state::SharedLocks second(io, database_.url());
  run_coroutine(io, [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await first->try_hold("telegram:token"));
    EXPECT_TRUE(co_await first->try_hold("telegram:token"));  // held once, not stacked
    EXPECT_FALSE(co_await second.try_hold("telegram:token"));
    EXPECT_TRUE(co_await second.try_hold("session:other"));
    EXPECT_TRUE(co_await first->holds("telegram:token"));
    first->release("telegram:token");
    // One release frees it (queued on the first one's connection, so soon, not at once).
    EXPECT_TRUE(co_await taken_within(second, "telegram:token", 5s));
    second.release("telegram:token");
    EXPECT_TRUE(co_await taken_within(*first, "telegram:token", 5s));
  });
  first.reset();  // the gateway ends: its connection closes, the server lets go
  run_coroutine(io, [&]() -> asio::awaitable<void> {
    // The server ends the closed session's backend a moment after the close, not at once.
    EXPECT_TRUE(co_await taken_within(second, "telegram:token", 5s));
  });
  terminate_other_connections(database_);  // the database restarted under us
  run_coroutine(io, [&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await second.holds("telegram:token"));
    // Taken again on a new connection once the old backend is gone.
    EXPECT_TRUE(co_await taken_within(second, "telegram:token", 5s));
    EXPECT_TRUE(co_await second.holds("telegram:token"));
  });
}

// Each taking of a lock counts a generation; a commit checking an older one (its holder lost
// the lock meanwhile) is refused, the newest passes.
TEST_F(SharedPostgres, AFenceIsTheNewestTakingOfALockAndAnOlderOneCannotCommit) {
  state::PgConnection db(database_.url());
  state::migrate(db, state::postgres_schema());
  asio::io_context io;
  state::SharedLocks first(io, database_.url());
  state::SharedLocks second(io, database_.url());
  long long old_fence = 0;
  long long new_fence = 0;
  run_coroutine(io, [&]() -> asio::awaitable<void> {
    old_fence = co_await first.hold("session:s");
    EXPECT_EQ(co_await first.hold("session:s"), old_fence) << "held, not taken again";
    first.release("session:s");
    new_fence = co_await second.hold("session:s");
  });
  EXPECT_EQ(new_fence, old_fence + 1);
  const long long key = state::advisory_key("session:s");
  db.begin();
  EXPECT_NO_THROW(state::check_fence(db, key, new_fence));
  db.commit();
  db.begin();
  EXPECT_THROW(state::check_fence(db, key, old_fence), state::StoreUnavailable);
  db.rollback();
  db.begin();
  EXPECT_THROW(state::check_fence(db, state::advisory_key("session:never"), 1),
               state::StoreUnavailable);
  db.rollback();
}

TEST_F(SharedPostgres, TwoGatewaysMigratingAtOnceBothEndAtTheNewestSchema) {
  std::exception_ptr errors[2];
  std::thread gateways[2];
  for (int i = 0; i < 2; ++i) {
    gateways[i] = std::thread([this, i, &errors] {
      try {
        state::PgConnection db(database_.url());
        state::migrate(db, state::postgres_schema());
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  for (auto& t : gateways) t.join();
  for (auto& e : errors) EXPECT_FALSE(e) << "a migration failed";
  EXPECT_EQ(database_.scalar("SELECT version FROM hermes_schema"),
            std::to_string(state::postgres_schema().back().version));
}

}  // namespace
}  // namespace hermes::daemon
