#include "daemon/platforms/basic_routes.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/metrics/metrics.hpp"

namespace hermes::daemon {
namespace {

HttpRequest get(std::string target, std::string method = "GET") {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

TEST(BasicRoutes, HealthReportsStatePidVersion) {
  ServerView view{"draining", 42, "0.1.0", 3.5, "", "", {}};
  auto response = handle_basic_route(get("/health?probe=1"), view);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["state"], "draining");
  EXPECT_EQ(body["pid"], 42);
  EXPECT_EQ(body["version"], "0.1.0");
}

TEST(BasicRoutes, ADegradedGatewayFailsItsHealthCheckAndSaysWhy) {
  ServerView view{"serving", 42, "0.1.0", 3.5, "", "state.db was removed", {}};
  auto response = handle_basic_route(get("/health"), view);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_EQ(body["detail"], "state.db was removed");
}

TEST(BasicRoutes, AToolServerDownIsDegradedButStillServes) {
  ServerView view{"serving", 42, "0.1.0", 3.5, "", "", {{"files", "error: command 'x' not found"}}};
  auto response = handle_basic_route(get("/health"), view);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << "chats are still answered, without that server's tools";
  auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["status"], "degraded");
  EXPECT_EQ(body["mcp"]["files"], "error: command 'x' not found");
}

TEST(BasicRoutes, WrongMethodIs405WithAllow) {
  auto response = handle_basic_route(get("/metrics", "POST"), {});
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  ASSERT_EQ(response->headers.size(), 1u);
  EXPECT_EQ(response->headers[0].second, "GET");
  EXPECT_EQ(nlohmann::json::parse(response->body)["error"]["type"], "invalid_request_error");
}

TEST(BasicRoutes, OtherPathsAreLeftToPlatforms) {
  EXPECT_FALSE(handle_basic_route(get("/v1/models"), {}));
  EXPECT_EQ(route_label(get("/v1/models?x")), "/v1/models");
  EXPECT_EQ(route_label(get("/wp-admin/../../etc/passwd")), "other");
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

}  // namespace
}  // namespace hermes::daemon
