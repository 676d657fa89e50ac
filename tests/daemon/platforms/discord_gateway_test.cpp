#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "daemon/platforms/discord/gateway_protocol.hpp"
#include "daemon/platforms/discord/rate_limits.hpp"

namespace hermes::daemon::discord {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

TEST(DiscordGateway, FramesAreReadWhateverComes) {
  const auto dispatch = parse_frame(R"({"op":0,"s":42,"t":"MESSAGE_CREATE","d":{"id":"1"}})");
  ASSERT_TRUE(dispatch);
  EXPECT_EQ(dispatch->op, 0);
  EXPECT_EQ(dispatch->s, 42);
  EXPECT_EQ(dispatch->t, "MESSAGE_CREATE");
  EXPECT_EQ(dispatch->d["id"], "1");
  const auto ack = parse_frame(R"({"op":11,"s":null,"t":null,"d":null})");
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->s, std::nullopt);
  EXPECT_EQ(ack->t, "");
  EXPECT_FALSE(parse_frame("not json"));
  EXPECT_FALSE(parse_frame(R"({"op":"0"})"));
  EXPECT_FALSE(parse_frame("[1,2]"));
}

TEST(DiscordGateway, PayloadsSayWhatDiscordExpects) {
  const auto identify = json::parse(identify_payload("tok"));
  EXPECT_EQ(identify["op"], 2);
  EXPECT_EQ(identify["d"]["token"], "tok");
  // GUILDS, GUILD_MESSAGES, DIRECT_MESSAGES, MESSAGE_CONTENT
  EXPECT_EQ(identify["d"]["intents"], 1 + 512 + 4096 + 32768);
  EXPECT_TRUE(identify["d"]["properties"].contains("os"));
  const auto resume = json::parse(resume_payload("tok", "sess", 17));
  EXPECT_EQ(resume, json::parse(R"({"op":6,"d":{"token":"tok","session_id":"sess","seq":17}})"));
  EXPECT_EQ(json::parse(heartbeat_payload(std::nullopt)), json::parse(R"({"op":1,"d":null})"));
  EXPECT_EQ(json::parse(heartbeat_payload(5)), json::parse(R"({"op":1,"d":5})"));
  EXPECT_EQ(connect_url("wss://gateway.discord.gg"),
            "wss://gateway.discord.gg/?v=10&encoding=json");
  EXPECT_EQ(connect_url("ws://127.0.0.1:9/"), "ws://127.0.0.1:9/?v=10&encoding=json");
}

TEST(DiscordGateway, CloseCodesThatCannotHealStopTheReconnecting) {
  struct Row {
    int code;
    AfterClose next;
    const char* says;
  };
  const Row rows[] = {
      {0, AfterClose::resume, ""},
      {1006, AfterClose::resume, ""},
      {4000, AfterClose::resume, ""},
      {4008, AfterClose::resume, ""},
      {4900, AfterClose::resume, ""},
      {1000, AfterClose::identify, ""},
      {1001, AfterClose::identify, ""},
      {4007, AfterClose::identify, ""},
      {4009, AfterClose::identify, ""},
      {4004, AfterClose::fatal, "Reset Token"},
      {4011, AfterClose::fatal, "sharding"},
      {4012, AfterClose::fatal, "version"},
      {4013, AfterClose::fatal, "intents"},
      {4014, AfterClose::fatal, "enable \"Message Content Intent\""},
  };
  for (const auto& row : rows) {
    const auto verdict = after_close(row.code);
    EXPECT_EQ(verdict.next, row.next) << row.code;
    EXPECT_THAT(verdict.sentence, HasSubstr(row.says)) << row.code;
  }
}

TEST(DiscordGateway, SessionStartsAndHeartbeatsAreTimed) {
  EXPECT_EQ(
      identify_wait(json::parse(R"({"session_start_limit":{"remaining":3,"reset_after":5000}})")),
      milliseconds(0));
  EXPECT_EQ(
      identify_wait(json::parse(R"({"session_start_limit":{"remaining":0,"reset_after":5000}})")),
      milliseconds(5000));
  EXPECT_EQ(identify_wait(json::parse(R"({"url":"wss://x"})")), milliseconds(0));
  EXPECT_EQ(identify_wait(json::parse(R"({"session_start_limit":{"remaining":"0"}})")),
            milliseconds(0));
  EXPECT_EQ(first_heartbeat(milliseconds(41250), 0.5), milliseconds(20625));
  EXPECT_EQ(first_heartbeat(milliseconds(1000), 7.0), milliseconds(1000));  // clamped
  EXPECT_EQ(first_heartbeat(milliseconds(1000), -1.0), milliseconds(0));
}

TEST(DiscordRateLimits, BucketsGoByRouteAndChannel) {
  EXPECT_EQ(route_of("PATCH", "/channels/5/messages/99"), "PATCH /channels/5/messages/:id");
  EXPECT_EQ(route_of("PATCH", "/channels/5/messages/100"), "PATCH /channels/5/messages/:id");
  EXPECT_EQ(route_of("POST", "/channels/5/messages"), "POST /channels/5/messages");
  EXPECT_NE(route_of("POST", "/channels/5/messages"), route_of("POST", "/channels/6/messages"));
  EXPECT_EQ(route_of("POST", "/interactions/1/tok/callback"), "POST /interactions");
}

TEST(DiscordRateLimits, WaitsComeFromHeadersAnd429s) {
  using Clock = RateLimits::Clock;
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  RateLimits limits;
  const std::string edit = "PATCH /channels/5/messages/:id";
  const std::string post = "POST /channels/5/messages";
  EXPECT_EQ(limits.wait_before(edit, t0), milliseconds(0));
  // The bucket is used up: wait its reset.
  EXPECT_FALSE(limits.on_reply(
      edit, 200, {{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset-After", "1.5"}}, "{}", t0));
  EXPECT_EQ(limits.wait_before(edit, t0), milliseconds(1500));
  EXPECT_EQ(limits.wait_before(edit, t0 + milliseconds(1000)), milliseconds(500));
  EXPECT_EQ(limits.wait_before(post, t0), milliseconds(0));  // another bucket
  // A 429 on one route: its retry_after (seconds, a float).
  const auto wait = limits.on_reply(
      post, 429, {},
      R"({"message":"You are being rate limited.","retry_after":0.337,"global":false})", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, milliseconds(337));
  EXPECT_EQ(limits.wait_before(post, t0), milliseconds(337));
  // The global limit holds every route.
  const std::string other = "POST /channels/6/messages";
  EXPECT_TRUE(
      limits.on_reply(other, 429, {{"X-RateLimit-Global", "true"}}, R"({"retry_after":2})", t0));
  EXPECT_EQ(limits.wait_before("GET /gateway/bot", t0), milliseconds(2000));
  // A 429 without a body: the Retry-After header, else a second.
  RateLimits fresh;
  EXPECT_EQ(*fresh.on_reply(post, 429, {{"Retry-After", "3"}}, "<html>", t0), milliseconds(3000));
  EXPECT_EQ(*fresh.on_reply(edit, 429, {}, R"({"retry_after":"soon"})", t0), milliseconds(1000));
  // Remaining again: the bucket is free.
  fresh.on_reply(post, 200, {{"x-ratelimit-remaining", "4"}}, "{}", t0);
  EXPECT_EQ(fresh.wait_before(post, t0), milliseconds(0));
}

}  // namespace
}  // namespace hermes::daemon::discord
