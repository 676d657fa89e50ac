// Usage reports: --since and ?since=, groupings, and the JSON and text shapes.
#include "daemon/usage/usage_report.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hermes::daemon::usage {
namespace {

constexpr std::int64_t kNow = 1796207400;  // 2026-12-02 10:30:00 UTC

TEST(UsageSince, TakesDurationsDatesTimesAndUnixSeconds) {
  EXPECT_EQ(parse_since("24h", kNow), kNow - 86400);
  EXPECT_EQ(parse_since("7d", kNow), kNow - 7 * 86400);
  EXPECT_EQ(parse_since("30m", kNow), kNow - 1800);
  EXPECT_EQ(parse_since("2026-12-01", kNow), 1796083200);
  EXPECT_EQ(parse_since("2026-12-01T10:00:00Z", kNow), 1796083200 + 36000);
  EXPECT_EQ(parse_since("1796083200", kNow), 1796083200);
  for (const char* bad : {"", "yesterday", "-3d", "7x", "2026-13-45", "12h30"}) {
    EXPECT_FALSE(parse_since(bad, kNow)) << bad;
  }
}

TEST(UsageGroupings, ByName) {
  EXPECT_EQ(parse_grouping("model"), UsageGrouping::model);
  EXPECT_EQ(parse_grouping("day"), UsageGrouping::day);
  EXPECT_FALSE(parse_grouping("key"));
}

TEST(UsageReport, JsonHasTheTotalAndEachSectionAndTextAlignsColumns) {
  const UsageTotal total{"", 3, 300, 30, 330, 0.0125, 1};
  const UsageSection by_model{
      UsageGrouping::model,
      {{"gpt-x", 2, 200, 20, 220, 0.0125, 0}, {"local", 1, 100, 10, 110, 0, 1}}};
  const auto json = nlohmann::json::parse(usage_json(1796083200, total, {by_model}));
  EXPECT_EQ(json["object"], "usage");
  EXPECT_EQ(json["total"]["total_tokens"], 330);
  EXPECT_EQ(json["total"]["unpriced_calls"], 1);
  EXPECT_EQ(json["by_model"][0]["model"], "gpt-x");
  EXPECT_DOUBLE_EQ(json["by_model"][0]["cost_usd"].get<double>(), 0.0125);
  const auto text = usage_text(1796083200, total, by_model);
  EXPECT_NE(text.find("Usage since 2026-12-01 00:00 UTC: 330 tokens (300 in, 30 out) in 3 calls"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unpriced"), std::string::npos);
  EXPECT_NE(text.find("gpt-x"), std::string::npos);
}

}  // namespace
}  // namespace hermes::daemon::usage
