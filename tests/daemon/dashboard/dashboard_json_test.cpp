#include "daemon/dashboard/dashboard_json.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "daemon/lifecycle/restart_count.hpp"

namespace hermes::daemon::dashboard {
namespace {

using nlohmann::json;

Overview one_of_each() {
  Overview o;
  o.gateway = {"serving", "0.1.0", 42, 12.5, 1000.0, 3, 17, "", 990.0, false, "bad yaml"};
  o.platforms.push_back({"telegram", "running", "", 1001.0, 1002.0, 2, 40});
  o.tools.push_back({"filesystem", "mcp", "ready", 11, ""});
  o.tools.push_back({"builtin", "builtin", "error", 9, "no sandbox"});
  o.runs.push_back({"7", "api_server", "s1", 1003.0, "tool: read_file"});
  o.cooldowns.push_back({"openai", 1, "billing", 55.5});
  o.budgets.push_back({"monthly", 5.0, 20.0, 2000});
  o.failures.push_back({1004.0, "slack", "s2", "openai", "gpt-x", "billing", "Check it."});
  cron::Job job;
  job.id = "j1";
  job.name = "digest";
  job.schedule = "every 1d";
  job.deliver = "telegram:1";
  job.next_run = 5000.0;
  job.last_status = "ok";
  o.jobs.push_back(job);
  return o;
}

TEST(DashboardJson, TheOverviewHasEveryPartInItsContractedShape) {
  const auto o = json::parse(overview_json(one_of_each()));
  const json expected = {
      {"gateway",
       {{"state", "serving"},
        {"version", "0.1.0"},
        {"pid", 42},
        {"uptime_seconds", 12.5},
        {"started_at", 1000.0},
        {"restarts", 3},
        {"sessions", 17},
        {"store_problem", ""},
        {"reload", {{"at", 990.0}, {"ok", false}, {"error", "bad yaml"}}}}},
      {"platforms",
       {{{"name", "telegram"},
         {"state", "running"},
         {"detail", ""},
         {"last_event_at", 1001.0},
         {"last_delivery_at", 1002.0},
         {"abandoned", 2}}}},
      {"tools",
       {{{"name", "filesystem"},
         {"kind", "mcp"},
         {"state", "ready"},
         {"tools", 11},
         {"last_error", ""}},
        {{"name", "builtin"},
         {"kind", "builtin"},
         {"state", "error"},
         {"tools", 9},
         {"last_error", "no sandbox"}}}},
      {"runs",
       {{{"id", "7"},
         {"platform", "api_server"},
         {"session_id", "s1"},
         {"started_at", 1003.0},
         {"step", "tool: read_file"}}}},
      {"cooldowns",
       {{{"provider", "openai"}, {"key_index", 1}, {"reason", "billing"}, {"seconds_left", 55.5}}}},
      {"budgets",
       {{{"name", "monthly"},
         {"limit_usd", 20.0},
         {"spent_usd", 5.0},
         {"percent", 25.0},
         {"resets_at", 2000}}}},
      {"failures",
       {{{"at", 1004.0},
         {"platform", "slack"},
         {"session_id", "s2"},
         {"provider", "openai"},
         {"model", "gpt-x"},
         {"reason", "billing"},
         {"hint", "Check it."}}}},
      {"jobs",
       {{{"id", "j1"},
         {"name", "digest"},
         {"schedule", "every 1d"},
         {"enabled", true},
         {"next_run", 5000.0},
         {"last_run", nullptr},
         {"last_status", "ok"},
         {"deliver", "telegram:1"}}}}};
  EXPECT_EQ(o, expected) << o.dump(2);
  const auto empty = json::parse(overview_json(Overview{}));
  for (const char* list : {"platforms", "tools", "runs", "cooldowns", "budgets", "failures"}) {
    EXPECT_TRUE(empty[list].is_array() && empty[list].empty()) << list;
  }
}

TEST(DashboardJson, SpendSessionsAndATranscriptWithItsToolCalls) {
  usage::UsageTotal day;
  day.group = "2026-12-07";
  day.calls = 3;
  day.total_tokens = 4500;
  day.cost_usd = 0.021;
  usage::UsageTotal model = day;
  model.group = "demo-model";
  const auto spend = json::parse(spend_json(SpendTotals{{day}, {model}, {}}));
  EXPECT_EQ(spend,
            (json{{"days",
                   {{{"day", "2026-12-07"}, {"cost_usd", 0.021}, {"tokens", 4500}, {"calls", 3}}}},
                  {"by_model",
                   {{{"name", "demo-model"}, {"cost_usd", 0.021}, {"tokens", 4500}, {"calls", 3}}}},
                  {"by_provider", json::array()}}));

  const auto sessions = json::parse(sessions_json({{"s1", "telegram", 1.0, 2.0, 4, "hi"}}));
  EXPECT_EQ(sessions["sessions"][0], (json{{"id", "s1"},
                                           {"platform", "telegram"},
                                           {"created_at", 1.0},
                                           {"updated_at", 2.0},
                                           {"messages", 4},
                                           {"title", "hi"}}));

  SessionTranscript t{{"s1", "api_server", 1.0, 2.0, 3, "q"}, {}};
  t.messages.push_back({"user", "q", "", ""});
  t.messages.push_back(
      {"assistant", "",
       R"([{"id":"c1","type":"function","function":{"name":"read_file","arguments":"{\"p\":1}"}}])",
       ""});
  t.messages.push_back({"tool", "text", "", "c1"});
  t.messages.push_back({"assistant", "bad calls kept out", "not json", ""});
  const auto transcript = json::parse(transcript_json(t));
  EXPECT_EQ(transcript["id"], "s1");
  ASSERT_EQ(transcript["messages"].size(), 4u);
  EXPECT_EQ(transcript["messages"][1]["tool_calls"],
            (json{{{"id", "c1"}, {"name", "read_file"}, {"arguments", "{\"p\":1}"}}}));
  EXPECT_EQ(transcript["messages"][2]["tool_call_id"], "c1");
  EXPECT_EQ(transcript["messages"][3]["tool_calls"], json::array());
}

TEST(DashboardJson, SpendIsSummedPerDayModelAndProviderFromTheFirstDayOn) {
  usage::UsageLedger::UsageDays use;
  use[{20000, "openai", "gpt-a"}] = {2, 300, 0.5};
  use[{20001, "openai", "gpt-a"}] = {1, 100, 0.25};
  use[{20001, "openai", "gpt-b"}] = {1, 50, 1.0};
  use[{20001, "local", "llama"}] = {4, 400, 0.0};
  use[{19999, "openai", "gpt-a"}] = {9, 900, 9.0};  // before the window
  const auto totals = spend_totals(use, 20000);
  ASSERT_EQ(totals.days.size(), 2u);
  EXPECT_EQ(totals.days[0].group, "2024-10-04");
  EXPECT_EQ(totals.days[0].calls, 2);
  EXPECT_DOUBLE_EQ(totals.days[0].cost_usd, 0.5);
  EXPECT_EQ(totals.days[1].group, "2024-10-05");
  EXPECT_EQ(totals.days[1].calls, 6);
  EXPECT_EQ(totals.days[1].total_tokens, 550);
  EXPECT_DOUBLE_EQ(totals.days[1].cost_usd, 1.25);
  ASSERT_EQ(totals.by_model.size(), 3u);
  EXPECT_EQ(totals.by_model[0].group, "gpt-b");  // the biggest cost first
  EXPECT_EQ(totals.by_model[1].group, "gpt-a");
  EXPECT_EQ(totals.by_model[1].calls, 3);
  EXPECT_EQ(totals.by_model[2].group, "llama");
  ASSERT_EQ(totals.by_provider.size(), 2u);
  EXPECT_EQ(totals.by_provider[0].group, "openai");
  EXPECT_DOUBLE_EQ(totals.by_provider[0].cost_usd, 1.75);
  EXPECT_TRUE(spend_totals(use, 30000).days.empty());
}

TEST(DashboardJson, EveryAnswerCarriesThePageHeaders) {
  const auto response = dashboard_error(404, "No such thing.");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(json::parse(response.body)["error"]["message"], "No such thing.");
  std::map<std::string, std::string> headers(response.headers.begin(), response.headers.end());
  EXPECT_NE(headers["Content-Security-Policy"].find("connect-src 'self'"), std::string::npos);
  EXPECT_NE(headers["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(headers["Content-Security-Policy"].find("unsafe"), std::string::npos);
  EXPECT_EQ(headers["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(headers["Referrer-Policy"], "no-referrer");
}

TEST(DashboardJson, RequestsFromOtherSitesAndRebindingNamesAreRefused) {
  struct Case {
    const char* host;
    const char* origin;
    bool key_required;
    bool refused;
  };
  const Case cases[] = {
      {"127.0.0.1:8642", "", false, false},
      {"127.0.0.1:8642", "http://127.0.0.1:8642", false, false},
      {"localhost:8642", "http://localhost:8642", false, false},
      {"[::1]:8642", "", false, false},
      {"localhost", "", false, false},
      {"127.0.0.1:8642", "http://evil.example", false, true},
      {"127.0.0.1:8642", "http://evil.example", true, true},
      {"127.0.0.1:8642", "null", true, true},
      {"evil.example:8642", "", false, true},
      {"evil.example:8642", "http://evil.example:8642", false, true},
      {"gw.example.com", "https://gw.example.com", true, false},
      {"gw.example.com", "", true, false},
      {"127.0.0.1.evil.example", "", false, true},
      {"", "", false, true},
  };
  for (const auto& c : cases) {
    const auto refusal = cross_site_refusal(c.host, c.origin, c.key_required);
    EXPECT_EQ(!refusal.empty(), c.refused) << c.host << " " << c.origin << ": " << refusal;
  }
}

TEST(DashboardJson, QueryValuesArePercentDecoded) {
  const std::pair<const char*, const char*> cases[] = {
      {"q=a%20b", "a b"}, {"q=a+b", "a b"},     {"x=1&q=%41%62c", "Abc"},
      {"q=100%", "100%"}, {"q=%zz%4", "%zz%4"}, {"q=%C3%A9t%C3%A9", "été"},
      {"x=1", "-"},       {"q=", ""},
  };
  for (const auto& [query, expected] : cases) {
    EXPECT_EQ(query_value(query, "q", "-"), expected) << query;
  }
}

TEST(RestartCount, EachStartOfTheServiceAddsOneToTheCounterItKeeps) {
  const int fd = ::memfd_create("test-restarts", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(bump_counter(fd), 0) << "the first start: none before it";
  EXPECT_EQ(bump_counter(fd), 1);
  EXPECT_EQ(bump_counter(fd), 2);
  ::close(fd);
}

}  // namespace
}  // namespace hermes::daemon::dashboard
