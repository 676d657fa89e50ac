#include "daemon/lifecycle/lifecycle.hpp"

#include <gtest/gtest.h>

#include "daemon/lifecycle/status_line.hpp"

namespace hermes::daemon {
namespace {

using namespace std::chrono_literals;

TEST(Lifecycle, StartsThenServesThenDrainsThenStops) {
  Lifecycle lifecycle;
  EXPECT_EQ(lifecycle.state(), LifecycleState::starting);
  EXPECT_FALSE(lifecycle.accepting_work());
  lifecycle.mark_serving();
  EXPECT_TRUE(lifecycle.accepting_work());
  const auto t0 = Lifecycle::Clock::time_point{} + 1000s;
  EXPECT_TRUE(lifecycle.begin_drain(DrainKind::restart, t0, 60s));
  EXPECT_EQ(lifecycle.state(), LifecycleState::draining);
  EXPECT_FALSE(lifecycle.accepting_work());
  EXPECT_EQ(lifecycle.drain_left(t0 + 19s), 41s);
  EXPECT_EQ(lifecycle.exit_code(), 75);
  lifecycle.mark_stopped();
  EXPECT_EQ(to_string(lifecycle.state()), "stopped");
}

TEST(Lifecycle, SecondRestartSignalNeitherRestartsNorExtendsTheDrain) {
  Lifecycle lifecycle;
  lifecycle.mark_serving();
  const auto t0 = Lifecycle::Clock::time_point{} + 1000s;
  ASSERT_TRUE(lifecycle.begin_drain(DrainKind::restart, t0, 60s));
  EXPECT_FALSE(lifecycle.begin_drain(DrainKind::restart, t0 + 30s, 60s));
  EXPECT_EQ(lifecycle.drain_deadline(), t0 + 60s);
  EXPECT_EQ(lifecycle.drain_started(), t0);
}

TEST(Lifecycle, StopDuringRestartDrainShortensItAndExitsZero) {
  Lifecycle lifecycle;
  lifecycle.mark_serving();
  const auto t0 = Lifecycle::Clock::time_point{} + 1000s;
  ASSERT_TRUE(lifecycle.begin_drain(DrainKind::restart, t0, 60s));
  EXPECT_FALSE(lifecycle.begin_drain(DrainKind::stop, t0 + 5s, 10s));
  EXPECT_EQ(lifecycle.drain_deadline(), t0 + 15s);
  EXPECT_EQ(lifecycle.exit_code(), 0);
  // A later, longer stop budget never extends it again.
  EXPECT_FALSE(lifecycle.begin_drain(DrainKind::stop, t0 + 6s, 60s));
  EXPECT_EQ(lifecycle.drain_deadline(), t0 + 15s);
}

TEST(Lifecycle, DrainLeftNeverNegative) {
  Lifecycle lifecycle;
  lifecycle.mark_serving();
  const auto t0 = Lifecycle::Clock::time_point{} + 1000s;
  lifecycle.begin_drain(DrainKind::stop, t0, 10s);
  EXPECT_EQ(lifecycle.drain_left(t0 + 11s), 0ms);
}

TEST(StatusLine, MatchesTheContractExamples) {
  EXPECT_EQ(serving_status(3, 1), "Serving: 3 sessions, 1 active run");
  EXPECT_EQ(serving_status(1, 0), "Serving: 1 session, 0 active runs");
  EXPECT_EQ(draining_status(2, 41s), "Draining: 2 active runs, 41s left");
  EXPECT_EQ(draining_status(1, 400ms), "Draining: 1 active run, 1s left");
  EXPECT_EQ(reload_failed_status("config.yaml:3: agent.x: bad"),
            "Config reload failed: config.yaml:3: agent.x: bad (kept previous)");
  EXPECT_EQ(reload_failed_status("a\nb"), "Config reload failed: a b (kept previous)");
}

TEST(StatusLine, NamesAPlatformOnlyWhenItIsNotUp) {
  constexpr double kNow = 1'700'000'000;
  const auto telegram = [](const char* state, const char* detail, double last_event_at) {
    PlatformStatus p{"telegram", state, detail};
    p.last_event_at = last_event_at;
    p.silence_limit_seconds = 60;
    return p;
  };
  struct Case {
    PlatformStatus platform;
    std::string note;
  };
  const Case cases[] = {
      {telegram("running", "", kNow - 5), ""},
      {telegram("standby", "", 0), ""},
      {telegram("connecting", "", 0), ""},
      {telegram("error", "409 Conflict: another process polls this bot token", kNow - 5),
       "telegram: 409 Conflict: another process polls this bot token"},
      {telegram("error", "", 0), "telegram: error"},
      {telegram("error", "line one\nline two", 0), "telegram: line one line two"},
      // The limit, not the growing count: the text stays the same while it lasts.
      {telegram("running", "", kNow - 95), "telegram: silent for over 60s"},
      {telegram("running", "", kNow - 300), "telegram: silent for over 60s"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(platform_status_note(c.platform, kNow), c.note) << c.platform.state;
  }
  const auto long_detail = telegram("error", std::string(300, 'x').c_str(), 0);
  EXPECT_EQ(platform_status_note(long_detail, kNow), "telegram: " + std::string(120, 'x') + "…");
}

}  // namespace
}  // namespace hermes::daemon
