#include "common/platform_health.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hermes {
namespace {

constexpr double kNow = 1'700'000'000;

PlatformStatus platform(std::string state, std::string detail, double last_event_at,
                        double silence_limit) {
  PlatformStatus p{"telegram", std::move(state), std::move(detail)};
  p.last_event_at = last_event_at;
  p.silence_limit_seconds = silence_limit;
  return p;
}

TEST(PlatformHealth, DecidesFromStateAndSilence) {
  struct Case {
    const char* what;
    PlatformStatus status;
    PlatformCondition condition;
    std::string problem;
  };
  const Case cases[] = {
      {"running, heard from recently", platform("running", "", kNow - 10, 60),
       PlatformCondition::up, ""},
      {"running, exactly at its limit", platform("running", "", kNow - 60, 60),
       PlatformCondition::up, ""},
      {"running, silent past its limit", platform("running", "", kNow - 95.7, 60),
       PlatformCondition::silent, "no event for 95 s (limit 60 s)"},
      {"running, no limit", platform("running", "", kNow - 9999, 0), PlatformCondition::up, ""},
      {"running, no event yet", platform("running", "", 0, 60), PlatformCondition::up, ""},
      {"event in the future (clock stepped back)", platform("running", "", kNow + 30, 60),
       PlatformCondition::up, ""},
      {"error with a detail", platform("error", "409 Conflict: another poller", kNow - 1, 60),
       PlatformCondition::error, "error: 409 Conflict: another poller"},
      {"error without a detail", platform("error", "", 0, 0), PlatformCondition::error, "error"},
      {"first connect, nothing heard yet", platform("connecting", "", 0, 60), PlatformCondition::up,
       ""},
      {"reconnecting within the limit", platform("connecting", "", kNow - 30, 60),
       PlatformCondition::up, ""},
      {"reconnecting past the limit", platform("connecting", "", kNow - 120, 60),
       PlatformCondition::silent, "no event for 120 s (limit 60 s)"},
      {"starting reads as connecting", platform("starting", "", kNow - 120, 60),
       PlatformCondition::silent, "no event for 120 s (limit 60 s)"},
      {"standby: another gateway polls", platform("standby", "", kNow - 9999, 60),
       PlatformCondition::up, ""},
      {"stopped while draining", platform("stopped", "", kNow - 9999, 60), PlatformCondition::up,
       ""},
      {"disabled", platform("disabled", "", 0, 0), PlatformCondition::up, ""},
  };
  for (const auto& c : cases) {
    const auto health = platform_health(c.status, kNow);
    EXPECT_EQ(health.condition, c.condition) << c.what;
    EXPECT_EQ(health.up(), c.condition == PlatformCondition::up) << c.what;
    EXPECT_EQ(health.problem, c.problem) << c.what;
  }
}

TEST(PlatformHealth, ProblemsNameOnlyThePlatformsThatAreNotUp) {
  const std::vector<PlatformStatus> platforms = {
      {"api_server", "running", "127.0.0.1:8642"},
      platform("running", "", kNow - 5, 60),
  };
  EXPECT_TRUE(platform_problems(platforms, kNow).empty());
  auto failing = platforms;
  failing[1] = platform("error", "bad token", 0, 0);
  EXPECT_EQ(platform_problems(failing, kNow),
            (std::map<std::string, std::string>{{"telegram", "error: bad token"}}));
}

TEST(RuntimeStatusJson, PlatformLivenessRoundTripsAndOldDaemonsStillRead) {
  PlatformStatus p = platform("running", "", kNow - 3, 60);
  p.last_delivery_at = kNow - 10;
  p.abandoned = 2;
  const nlohmann::json j = p;
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["detail"], "");
  EXPECT_EQ(j["last_event_at"], kNow - 3);
  EXPECT_EQ(j["last_delivery_at"], kNow - 10);
  EXPECT_EQ(j["abandoned"], 2);
  EXPECT_EQ(j["silence_limit_seconds"], 60);
  const auto back = j.get<PlatformStatus>();
  EXPECT_EQ(back.last_event_at, p.last_event_at);
  EXPECT_EQ(back.last_delivery_at, p.last_delivery_at);
  EXPECT_EQ(back.abandoned, 2);
  EXPECT_EQ(back.silence_limit_seconds, 60);

  // A daemon from before liveness: the new fields read as "none yet".
  const auto old = nlohmann::json::parse(R"({"name":"telegram","state":"running","detail":""})")
                       .get<PlatformStatus>();
  EXPECT_EQ(old.last_event_at, 0);
  EXPECT_EQ(old.abandoned, 0);
  EXPECT_TRUE(platform_health(old, kNow).up());
}

}  // namespace
}  // namespace hermes
