// The route table: every route reached by its methods, refused with 401/404/405 otherwise,
// and labelled for the metrics by its pattern.
#include "daemon/platforms/route_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <set>

namespace hermes::daemon {
namespace {

namespace asio = boost::asio;

std::string concrete(std::string_view pattern) {
  std::string path(pattern);
  if (const auto at = path.find("{id}"); at != std::string::npos) path.replace(at, 4, "resp_42");
  return path;
}

std::string allow_header(const HttpResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (name == "Allow") return value;
  }
  return "";
}

TEST(RouteTable, EveryRouteIsReachedByItsMethodsWithItsIdAndLabel) {
  for (const auto& route : gateway_routes()) {
    for (const auto method : route.methods) {
      auto matched = match_route(gateway_routes(), method, concrete(route.pattern), true);
      ASSERT_TRUE(std::holds_alternative<RouteMatch>(matched)) << method << " " << route.pattern;
      const auto& match = std::get<RouteMatch>(matched);
      EXPECT_EQ(match.route, &route) << method << " " << route.pattern;
      EXPECT_EQ(match.params.id,
                route.pattern.find("{id}") == std::string_view::npos ? "" : "resp_42");
    }
  }
}

TEST(RouteTable, AWrongMethodIs405WithEveryMethodThePathTakes) {
  for (const auto& route : gateway_routes()) {
    const auto path = concrete(route.pattern);
    std::set<std::string> takes;
    for (const auto& other : gateway_routes()) {
      if (concrete(other.pattern) == path) takes.insert(other.methods.begin(), other.methods.end());
    }
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      if (takes.contains(method)) continue;
      auto matched = match_route(gateway_routes(), method, path, true);
      ASSERT_TRUE(std::holds_alternative<HttpResponse>(matched)) << method << " " << path;
      const auto& refusal = std::get<HttpResponse>(matched);
      EXPECT_EQ(refusal.status, 405) << method << " " << path;
      for (const auto& m : takes) EXPECT_NE(allow_header(refusal).find(m), std::string::npos);
      EXPECT_EQ(refusal.route_label, route.pattern);
      EXPECT_EQ(nlohmann::json::parse(refusal.body)["error"]["type"], "invalid_request_error");
    }
  }
}

TEST(RouteTable, WithoutTheKeyAKeyedRouteIs401WhateverTheMethod) {
  for (const auto& route : gateway_routes()) {
    for (const char* method : {"GET", "POST", "DELETE"}) {
      auto matched = match_route(gateway_routes(), method, concrete(route.pattern), false);
      if (!route.needs_key) {
        EXPECT_FALSE(std::holds_alternative<HttpResponse>(matched) &&
                     std::get<HttpResponse>(matched).status == 401)
            << route.pattern << " needs no key";
        continue;
      }
      ASSERT_TRUE(std::holds_alternative<HttpResponse>(matched)) << method << " " << route.pattern;
      EXPECT_EQ(std::get<HttpResponse>(matched).status, 401) << method << " " << route.pattern;
    }
  }
}

TEST(RouteTable, UnknownPathsAre404AndLabelledOther) {
  for (const char* path :
       {"/", "/v1", "/v1/models/", "/v1/chat", "/v1/responses/", "/health/x",
        "/v1/responses/resp_1/input_items/x", "/wp-admin/../../etc/passwd", "//v1/models", ""}) {
    for (const bool authorized : {true, false}) {
      auto matched = match_route(gateway_routes(), "GET", path, authorized);
      ASSERT_TRUE(std::holds_alternative<HttpResponse>(matched)) << path;
      const auto& refusal = std::get<HttpResponse>(matched);
      EXPECT_EQ(refusal.status, 404) << path;
      EXPECT_EQ(refusal.route_label, kUnroutedLabel) << path;
    }
  }
}

TEST(RouteTable, TheHealthCheckNeedsNoKeyAndAnswersHead) {
  auto matched = match_route(gateway_routes(), "HEAD", "/health", false);
  ASSERT_TRUE(std::holds_alternative<RouteMatch>(matched));
  EXPECT_EQ(std::get<RouteMatch>(matched).route->pattern, "/health");
}

// Records which handler ran, with what.
class RecordingEndpoints final : public Endpoints {
 public:
  asio::awaitable<HttpResponse> answer(std::string name, RouteParams params) {
    called = name + ":" + params.id;
    co_return HttpResponse{};
  }
  asio::awaitable<HttpResponse> health(HttpRequest, RouteParams p) override {
    return answer("health", p);
  }
  asio::awaitable<HttpResponse> metrics(HttpRequest, RouteParams p) override {
    return answer("metrics", p);
  }
  asio::awaitable<HttpResponse> models(HttpRequest, RouteParams p) override {
    return answer("models", p);
  }
  asio::awaitable<HttpResponse> chat_completions(HttpRequest, RouteParams p) override {
    return answer("chat_completions", p);
  }
  asio::awaitable<HttpResponse> create_response(HttpRequest, RouteParams p) override {
    return answer("create_response", p);
  }
  asio::awaitable<HttpResponse> get_response(HttpRequest, RouteParams p) override {
    return answer("get_response", p);
  }
  asio::awaitable<HttpResponse> delete_response(HttpRequest, RouteParams p) override {
    return answer("delete_response", p);
  }
  asio::awaitable<HttpResponse> response_input_items(HttpRequest, RouteParams p) override {
    return answer("response_input_items", p);
  }
  asio::awaitable<HttpResponse> usage(HttpRequest, RouteParams p) override {
    return answer("usage", p);
  }
  asio::awaitable<HttpResponse> messages(HttpRequest, RouteParams p) override {
    return answer("messages", p);
  }
  asio::awaitable<HttpResponse> count_tokens(HttpRequest, RouteParams p) override {
    return answer("count_tokens", p);
  }
  asio::awaitable<HttpResponse> webhook(HttpRequest, RouteParams p) override {
    return answer("webhook", p);
  }
  asio::awaitable<HttpResponse> ui_page(HttpRequest, RouteParams p) override {
    return answer("ui_page", p);
  }
  asio::awaitable<HttpResponse> ui_api(HttpRequest, RouteParams p) override {
    return answer("ui_api", p);
  }
  std::string called;
};

HttpResponse dispatched(RecordingEndpoints& endpoints, std::string method, std::string target,
                        bool authorized = true) {
  asio::io_context io;
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  HttpResponse response;
  asio::co_spawn(io, dispatch(gateway_routes(), endpoints, std::move(request), authorized),
                 [&response](std::exception_ptr e, HttpResponse r) {
                   if (e) std::rethrow_exception(e);
                   response = std::move(r);
                 });
  io.run();
  return response;
}

TEST(RouteTable, DispatchRunsTheRoutesHandlerAndLabelsTheAnswer) {
  const std::pair<const char*, const char*> cases[][2] = {
      {{"GET", "/health"}, {"health:", "/health"}},
      {{"GET", "/metrics"}, {"metrics:", "/metrics"}},
      {{"GET", "/v1/models?x=1"}, {"models:", "/v1/models"}},
      {{"POST", "/v1/chat/completions"}, {"chat_completions:", "/v1/chat/completions"}},
      {{"POST", "/v1/responses"}, {"create_response:", "/v1/responses"}},
      {{"GET", "/v1/responses/resp_9"}, {"get_response:resp_9", "/v1/responses/{id}"}},
      {{"DELETE", "/v1/responses/resp_9"}, {"delete_response:resp_9", "/v1/responses/{id}"}},
      {{"GET", "/v1/responses/resp_9/input_items?limit=2"},
       {"response_input_items:resp_9", "/v1/responses/{id}/input_items"}},
      {{"GET", "/v1/usage?since=24h"}, {"usage:", "/v1/usage"}},
      {{"POST", "/webhooks/github"}, {"webhook:github", "/webhooks/{id}"}},
      {{"GET", "/ui"}, {"ui_page:", "/ui"}},
      {{"GET", "/ui/auth"}, {"ui_page:", "/ui/auth"}},
      {{"GET", "/ui/assets/app.js"}, {"ui_page:app.js", "/ui/assets/{id}"}},
      {{"GET", "/ui/api/overview"}, {"ui_api:", "/ui/api/overview"}},
      {{"GET", "/ui/api/spend?days=7"}, {"ui_api:", "/ui/api/spend"}},
      {{"GET", "/ui/api/sessions?q=a%20b"}, {"ui_api:", "/ui/api/sessions"}},
      {{"GET", "/ui/api/sessions/s1"}, {"ui_api:s1", "/ui/api/sessions/{id}"}},
      {{"POST", "/ui/api/runs/7/stop"}, {"ui_api:7", "/ui/api/runs/{id}/stop"}},
      {{"POST", "/ui/api/cooldowns/clear"}, {"ui_api:", "/ui/api/cooldowns/clear"}},
      {{"POST", "/ui/api/cron/j1/run"}, {"ui_api:j1", "/ui/api/cron/{id}/run"}},
      {{"POST", "/ui/api/cron/j1/pause"}, {"ui_api:j1", "/ui/api/cron/{id}/pause"}},
      {{"POST", "/ui/api/cron/j1/resume"}, {"ui_api:j1", "/ui/api/cron/{id}/resume"}},
  };
  for (const auto& [request, expected] : cases) {
    RecordingEndpoints endpoints;
    const auto response = dispatched(endpoints, request.first, request.second);
    EXPECT_EQ(endpoints.called, expected.first) << request.second;
    EXPECT_EQ(response.route_label, expected.second) << request.second;
  }
  RecordingEndpoints endpoints;
  EXPECT_EQ(dispatched(endpoints, "POST", "/v1/responses", false).status, 401);
  EXPECT_EQ(endpoints.called, "") << "a refused request reaches no handler";
  EXPECT_EQ(dispatched(endpoints, "POST", "/webhooks/github", false).status, 200)
      << "a webhook's signature authenticates it, not the bearer key";
  EXPECT_EQ(endpoints.called, "webhook:github");
}

// The page asks for the key itself; everything under /ui/api is refused without it.
TEST(RouteTable, TheDashboardPageNeedsNoKeyAndItsApiAlwaysDoes) {
  for (const char* target : {"/ui", "/ui/auth", "/ui/assets/app.js"}) {
    RecordingEndpoints endpoints;
    EXPECT_EQ(dispatched(endpoints, "GET", target, false).status, 200) << target;
    EXPECT_EQ(endpoints.called.substr(0, 7), "ui_page") << target;
  }
  const std::pair<const char*, const char*> api[] = {
      {"GET", "/ui/api/overview"},        {"GET", "/ui/api/spend?days=30"},
      {"GET", "/ui/api/sessions?q=x"},    {"GET", "/ui/api/sessions/s1"},
      {"POST", "/ui/api/runs/1/stop"},    {"POST", "/ui/api/cooldowns/clear"},
      {"POST", "/ui/api/cron/j1/run"},    {"POST", "/ui/api/cron/j1/pause"},
      {"POST", "/ui/api/cron/j1/resume"}, {"DELETE", "/ui/api/overview"},
  };
  for (const auto& [method, target] : api) {
    RecordingEndpoints endpoints;
    const auto response = dispatched(endpoints, method, target, false);
    EXPECT_EQ(response.status, 401) << method << " " << target;
    EXPECT_THAT(response.body, ::testing::HasSubstr("\"message\"")) << target;
    EXPECT_EQ(endpoints.called, "") << target;
  }
}

}  // namespace
}  // namespace hermes::daemon
