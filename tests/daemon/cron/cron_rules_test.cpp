#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/cron/chat_jobs.hpp"
#include "daemon/cron/delivery_target.hpp"
#include "daemon/cron/run_outcome.hpp"

namespace hermes::daemon::cron {
namespace {

using ::testing::HasSubstr;

TEST(RunOutcome, Table) {
  struct Row {
    RunFacts facts;
    std::optional<std::string> status, delivery, send;
    const char* why;
  };
  const auto facts = [](bool ok, std::string answer, bool local, bool interrupted = false) {
    RunFacts f;
    f.ok = ok;
    f.answer = std::move(answer);
    f.failure_reply = "Sorry, I can't answer now. The daily budget is used up.";
    f.local = local;
    f.interrupted = interrupted;
    return f;
  };
  const Row rows[] = {
      {facts(true, "the news", false), "ok", "pending", "the news", "an answer goes out"},
      {facts(true, "the news", true), "ok", "local", std::nullopt, "local: history only"},
      {facts(true, "[SILENT]", false), "ok", "silent", std::nullopt, "[SILENT] is kept"},
      {facts(true, " [SILENT]", false), "ok", "pending", " [SILENT]", "only exactly [SILENT]"},
      {facts(false, "", false), "failed", "pending",
       "Sorry, I can't answer now. The daily budget is used up.", "a failure's hint goes out"},
      {facts(false, "", true), "failed", "local", std::nullopt, "a local failure is kept"},
      {facts(false, "", false, true), std::nullopt, std::nullopt, std::nullopt,
       "cut by a drain: not over"},
  };
  for (const auto& row : rows) {
    const auto outcome = decide_run_outcome(row.facts);
    ASSERT_EQ(outcome.has_value(), row.status.has_value()) << row.why;
    if (!outcome) continue;
    EXPECT_EQ(outcome->status, *row.status) << row.why;
    EXPECT_EQ(outcome->delivery, *row.delivery) << row.why;
    EXPECT_EQ(outcome->send, row.send) << row.why;
  }
  RunFacts too_big;
  too_big.too_big = true;
  EXPECT_THAT(decide_run_outcome(too_big)->error, HasSubstr("context window"));
}

TEST(DeliveryTarget, Table) {
  const std::pair<const char*, const char*> good[] = {
      {"local", "local"},
      {"telegram:123", "telegram:123"},
      {"telegram:-100123:7", "telegram:-100123:7"},
      {"discord:1180000000000000000", "discord:1180000000000000000"},
  };
  for (const auto& [text, stored] : good) {
    const auto parsed = parse_target(text);
    ASSERT_TRUE(std::holds_alternative<DeliveryTarget>(parsed)) << text;
    EXPECT_EQ(target_text(std::get<DeliveryTarget>(parsed)), stored);
  }
  EXPECT_EQ(target_text(std::get<DeliveryTarget>(parse_target("origin", "telegram:55"))),
            "telegram:55");
  for (const char* bad : {"origin", "telegram", "telegram:abc", "slack:C123", "email:me", "",
                          "telegram:0", "telegram:1:x"}) {
    const auto parsed = parse_target(bad);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << bad;
    EXPECT_THAT(std::get<std::string>(parsed), HasSubstr("local")) << "names the forms: " << bad;
  }
}

TEST(CronCommand, SplitsTheScheduleFromThePrompt) {
  struct Row {
    const char* args;
    const char* verb;
    const char* schedule;
    const char* prompt;
  };
  const Row rows[] = {
      {"", "list", "", ""},
      {"list", "list", "", ""},
      {"add every 1h Check the news", "add", "every 1h", "Check the news"},
      {"add 0 8 * * 1-5 Morning summary", "add", "0 8 * * 1-5", "Morning summary"},
      {"add 30m tea is ready", "add", "30m", "tea is ready"},
      {"add @daily water the plants", "add", "@daily", "water the plants"},
      {"add \"0 8 * * *\" quoted", "add", "0 8 * * *", "quoted"},
      {"add 2026-12-24T08:00 Merry", "add", "2026-12-24T08:00", "Merry"},
  };
  for (const auto& row : rows) {
    const auto parsed = parse_cron_request(row.args);
    ASSERT_TRUE(std::holds_alternative<CronRequest>(parsed)) << row.args;
    const auto& request = std::get<CronRequest>(parsed);
    EXPECT_EQ(request.verb, row.verb) << row.args;
    EXPECT_EQ(request.job.schedule, row.schedule) << row.args;
    EXPECT_EQ(request.job.prompt, row.prompt) << row.args;
  }
  EXPECT_EQ(std::get<CronRequest>(parse_cron_request("pause ab12cd34")).id, "ab12cd34");
  for (const char* bad : {"add", "add every 1h", "pause", "explode now", "add \"0 8 * * * x"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_cron_request(bad))) << bad;
  }
}

}  // namespace
}  // namespace hermes::daemon::cron
