#include "daemon/platforms/basic_routes.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/metrics/metrics.hpp"

namespace hermes::daemon {
namespace {

TEST(BasicRoutes, HealthReportsStatePidVersion) {
  ServerView view{"draining", 42, "0.1.0", 3.5, "", {}};
  auto response = health_response(view);
  EXPECT_EQ(response.status, 200);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["state"], "draining");
  EXPECT_EQ(body["pid"], 42);
  EXPECT_EQ(body["version"], "0.1.0");
}

TEST(BasicRoutes, ADegradedGatewayFailsItsHealthCheckAndSaysWhy) {
  ServerView view{"serving", 42, "0.1.0", 3.5, "state.db was removed", {}};
  auto response = health_response(view);
  EXPECT_EQ(response.status, 503);
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_EQ(body["detail"], "state.db was removed");
}

TEST(BasicRoutes, AToolServerDownIsDegradedButStillServes) {
  ServerView view{"serving", 42, "0.1.0", 3.5, "", {{"files", "error: command 'x' not found"}}};
  auto response = health_response(view);
  EXPECT_EQ(response.status, 200) << "chats are still answered, without that server's tools";
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_EQ(body["mcp"]["files"], "error: command 'x' not found");
}

TEST(BasicRoutes, APlatformDownIsDegradedNamingItButStillServes) {
  ServerView view{"serving", 42, "0.1.0", 3.5, "", {}, {{"telegram", "error: 409 Conflict"}}};
  auto response = health_response(view);
  EXPECT_EQ(response.status, 200) << "the API still answers";
  auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_EQ(body["platforms"]["telegram"], "error: 409 Conflict");
  EXPECT_FALSE(body.contains("mcp"));
}

TEST(BasicRoutes, MetricsAreServedAsPrometheusText) {
  auto response = metrics_response("hermes_up 1\n");
  EXPECT_EQ(response.body, "hermes_up 1\n");
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(HttpTypes, HeaderLookupIsCaseInsensitive) {
  HttpRequest r;
  r.headers = {{"X-Hermes-Session-Id", "abc"}};
  EXPECT_EQ(r.header("x-hermes-session-id"), "abc");
  EXPECT_EQ(r.header("missing"), "");
}

TEST(Metrics, RendersPrometheusText) {
  Metrics metrics;
  metrics.count_request("/health", 200);
  metrics.count_request("/health", 200);
  metrics.count_provider_error("billing");
  metrics.count_turn("ok");
  metrics.count_retry();
  metrics.set_active_runs(2);
  metrics.observe_drain(std::chrono::milliseconds(1500));
  const auto text = metrics.render("0.1.0", 12);
  EXPECT_NE(text.find("hermes_http_requests_total{route=\"/health\",status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("hermes_provider_errors_total{reason=\"billing\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("hermes_turns_total{outcome=\"ok\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("hermes_provider_retries_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("hermes_active_runs 2\n"), std::string::npos);
  EXPECT_NE(text.find("hermes_drain_duration_seconds_sum 1.5\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE hermes_http_requests_total counter\n"), std::string::npos);
}

TEST(Metrics, RendersPlatformLivenessWithWholeTimestamps) {
  Metrics metrics;
  metrics.set_platforms({{"telegram", {false, 1712345678.25}}, {"api_server", {true, 0}}});
  const auto text = metrics.render("0.1.0", 12);
  EXPECT_NE(text.find("# TYPE hermes_platform_up gauge\n"), std::string::npos);
  EXPECT_NE(text.find("hermes_platform_up{platform=\"telegram\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("hermes_platform_up{platform=\"api_server\"} 1\n"), std::string::npos);
  // Not 1.71235e+09: a scraper would read the time wrong by minutes.
  EXPECT_NE(text.find("hermes_platform_last_event_timestamp_seconds{platform=\"telegram\"} "
                      "1712345678.250\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("hermes_platform_last_event_timestamp_seconds{platform=\"api_server\"} "
                      "0.000\n"),
            std::string::npos);
}

}  // namespace
}  // namespace hermes::daemon
