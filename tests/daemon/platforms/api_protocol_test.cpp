#include "daemon/platforms/api_protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/providers/openai_chat.hpp"

namespace hermes::daemon {
namespace {

using nlohmann::json;
using providers::FailoverReason;

TEST(ApiProtocol, ParsesMessagesWithStringOrTextParts) {
  auto parsed = parse_chat_completion_request(
      R"({"model":"m","stream":true,"messages":[{"role":"developer","content":"be brief"},)"
      R"({"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]})");
  ASSERT_TRUE(std::holds_alternative<ChatCompletionRequest>(parsed));
  const auto& request = std::get<ChatCompletionRequest>(parsed);
  EXPECT_TRUE(request.stream);
  ASSERT_EQ(request.messages.size(), 2u);
  EXPECT_EQ(request.messages[0].role, "system");
  EXPECT_EQ(request.messages[1].content, "a\nb");
}

TEST(ApiProtocol, ClientToolsSamplingParametersAndToolRoundsAreCarried) {
  auto parsed = parse_chat_completion_request(R"({"model":"m","temperature":0.2,"seed":7,
      "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
      "tool_choice":"auto","stream_options":{"include_usage":true},"n":1,"user":null,
      "messages":[{"role":"user","content":"weather?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
          "function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
        {"role":"tool","tool_call_id":"c1","content":"rain"}]})");
  ASSERT_TRUE(std::holds_alternative<ChatCompletionRequest>(parsed))
      << std::get<HttpResponse>(parsed).body;
  const auto& request = std::get<ChatCompletionRequest>(parsed);
  EXPECT_EQ(json::parse(request.tools)[0]["function"]["name"], "get_weather");
  const auto extra = json::parse("{" + request.extra_fields + "}");
  EXPECT_EQ(extra, json::parse(R"({"temperature":0.2,"seed":7,"tool_choice":"auto"})"));
  EXPECT_TRUE(request.include_usage);
  ASSERT_EQ(request.messages.size(), 3u);
  EXPECT_EQ(json::parse(request.messages[1].tool_calls)[0]["function"]["arguments"],
            R"({"city":"Oslo"})");
  EXPECT_EQ(request.messages[2].tool_call_id, "c1");
}

TEST(ApiProtocol, BadRequestsNameTheField) {
  for (const auto& [body, param] : std::vector<std::pair<std::string, std::string>>{
           {"[]", ""},
           {R"({"messages":[]})", "messages"},
           {R"({"messages":[1]})", "messages[0]"},
           {R"({"messages":[{"role":"user","content":{}}]})", "messages[0].content"},
           {R"({"messages":[{"role":"user","content":"x"}],"stream":1})", "stream"},
           // An image is refused by name, not dropped.
           {R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})",
            "messages[0].content[0]"},
           // A field the gateway cannot honour is named, never ignored.
           {R"({"messages":[{"role":"user","content":"x"}],"n":2})", "n"},
           {R"({"messages":[{"role":"user","content":"x"}],"logit_bias":{}})", "logit_bias"},
           {R"({"messages":[{"role":"user","content":"x"}],"tool_choice":"auto"})", "tool_choice"},
           {R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"x"}]})", "tools[0]"},
           // A tool result must answer a call made before it.
           {R"({"messages":[{"role":"tool","tool_call_id":"c1","content":"5"}]})",
            "messages[0].tool_call_id"},
           {R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c1"}]}]})",
            "messages[0].tool_calls[0]"},
           {R"({"messages":[{"role":"user","content":"x","tool_calls":[]}]})",
            "messages[0].tool_calls"}}) {
    auto parsed = parse_chat_completion_request(body);
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(parsed)) << body;
    const auto& response = std::get<HttpResponse>(parsed);
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(json::parse(response.body)["error"]["param"], param) << body;
  }
}

TEST(ApiProtocol, ARequestMayCarryAtMostTheMessageLimit) {
  const auto body_with = [](std::size_t n) {
    json messages = json::array();
    for (std::size_t i = 0; i < n; ++i) messages.push_back({{"role", "user"}, {"content", "x"}});
    return json{{"messages", messages}}.dump();
  };
  EXPECT_TRUE(std::holds_alternative<ChatCompletionRequest>(
      parse_chat_completion_request(body_with(kMaxMessagesPerRequest))));
  auto parsed = parse_chat_completion_request(body_with(kMaxMessagesPerRequest + 1));
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(parsed));
  const auto& response = std::get<HttpResponse>(parsed);
  EXPECT_EQ(response.status, 400);
  EXPECT_THAT(json::parse(response.body)["error"]["message"].get<std::string>(),
              ::testing::HasSubstr("Too many messages (1001); the limit is 1000"));
}

TEST(ApiProtocol, FailureStatusMappingMatchesTheContract) {
  EXPECT_EQ(failure_status(FailoverReason::billing), 402);
  EXPECT_EQ(failure_status(FailoverReason::rate_limit), 429);
  EXPECT_EQ(failure_status(FailoverReason::overloaded), 503);
  EXPECT_EQ(failure_status(FailoverReason::timeout), 504);
  EXPECT_EQ(failure_status(FailoverReason::format_error), 400);
  EXPECT_EQ(failure_status(FailoverReason::context_overflow), 400);
  EXPECT_EQ(failure_status(FailoverReason::auth), 502);
  EXPECT_EQ(failure_status(FailoverReason::unknown), 502);
}

TEST(ApiProtocol, RateLimitCarriesRetryAfterAndTheHint) {
  providers::Classification c;
  c.reason = FailoverReason::rate_limit;
  c.status = 429;
  c.retry_after = std::chrono::milliseconds(1500);
  const auto response = failure_response(c);
  EXPECT_EQ(response.status, 429);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  const auto error = json::parse(response.body)["error"];
  EXPECT_EQ(error["type"], "rate_limit");
  EXPECT_EQ(error["code"], 429);
  EXPECT_NE(error["message"].get<std::string>().find("about 2 seconds"), std::string::npos);
}

TEST(ApiProtocol, BearerComparison) {
  EXPECT_TRUE(bearer_matches("Bearer s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cret2", "s3cret"));
  EXPECT_FALSE(bearer_matches("s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("", "s3cret"));
  // The scheme is case-insensitive (RFC 7235); the key is not.
  EXPECT_TRUE(bearer_matches("bearer s3cret", "s3cret"));
  EXPECT_TRUE(bearer_matches("BEARER s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("bearer S3CRET", "s3cret"));
  EXPECT_FALSE(bearer_matches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearers3cret", "s3cret"));
}

TEST(ApiProtocol, ChunksAndCompletionsHaveTheOpenAiShape) {
  const auto event = chunk_event("id1", "m", 7, std::string("hi"), true, false);
  ASSERT_EQ(event.substr(0, 6), "data: ");
  const auto chunk = json::parse(event.substr(6));
  EXPECT_EQ(chunk["object"], "chat.completion.chunk");
  EXPECT_EQ(chunk["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(chunk["choices"][0]["delta"]["content"], "hi");
  EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
  const auto last = json::parse(chunk_event("id1", "m", 7, std::nullopt, false, true).substr(6));
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(last["choices"][0]["delta"].contains("content"));
  const auto completion = json::parse(completion_json("id1", "m", "x", {1, 2, 3}, 7));
  EXPECT_EQ(completion["usage"]["total_tokens"], 3);
}

TEST(OpenAiChat, ParsesRepliesAndStreamEvents) {
  auto parsed = providers::parse_chat_completion(
      R"({"choices":[{"message":{"role":"assistant","content":"yo"}}],"usage":{"total_tokens":9}})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->content, "yo");
  EXPECT_EQ(parsed->usage.total_tokens, 9);
  EXPECT_FALSE(providers::parse_chat_completion(R"({"choices":[]})"));
  EXPECT_FALSE(providers::parse_chat_completion("<html>"));
  EXPECT_TRUE(providers::parse_stream_event("[DONE]").done);
  EXPECT_EQ(providers::parse_stream_event(R"({"choices":[{"delta":{"content":"a"}}]})").delta, "a");
  EXPECT_TRUE(providers::parse_stream_event(R"({"error":{"message":"x"}})").is_error);
  EXPECT_TRUE(providers::parse_stream_event("{broken").malformed);
  const std::vector<providers::ChatMessage> messages{{"user", "hi"}};
  const auto body = json::parse(providers::build_chat_request("m", messages, true));
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["messages"][0]["content"], "hi");
}

}  // namespace
}  // namespace hermes::daemon

namespace hermes::daemon {
namespace {

TEST(ApiProtocol, AnAnswerCutShortSaysSoInItsFinishReason) {
  using nlohmann::json;
  for (const auto& [given, reported] :
       std::vector<std::pair<std::string, std::string>>{{"length", "length"},
                                                        {"content_filter", "content_filter"},
                                                        {"stop", "stop"},
                                                        {"", "stop"},
                                                        {"tool_calls", "stop"},
                                                        {"weird", "stop"}}) {
    const auto completion = json::parse(completion_json("id1", "m", "x", {}, 7, {}, given));
    EXPECT_EQ(completion["choices"][0]["finish_reason"], reported) << given;
    const auto last =
        json::parse(chunk_event("id1", "m", 7, std::nullopt, false, true, given).substr(6));
    EXPECT_EQ(last["choices"][0]["finish_reason"], reported) << given;
  }
  const auto calls =
      json::parse(completion_json("id1", "m", "", {}, 7, {{"c1", "f", "{}"}}, "length"));
  EXPECT_EQ(calls["choices"][0]["finish_reason"], "tool_calls");
}

TEST(UnmappableForPrimary, AnAnthropicPrimaryRefusesWhatItsFormatCannotCarryByName) {
  Config config;
  config.model.provider = "claude";
  ProviderConfig claude;
  claude.api = ProviderApi::anthropic;
  config.providers["claude"] = claude;
  const auto refused = unmappable_for_primary(config, R"("temperature":0.1,"seed":7)");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  const auto body = nlohmann::json::parse(refused->body);
  EXPECT_EQ(body["error"]["param"], "seed");
  EXPECT_NE(body["error"]["message"].get<std::string>().find("'seed'"), std::string::npos);
  EXPECT_FALSE(unmappable_for_primary(config, R"("temperature":0.1,"stop":["x"])"));
  config.providers["claude"].api = ProviderApi::openai;
  EXPECT_FALSE(unmappable_for_primary(config, R"("seed":7)")) << "OpenAI's format takes it";
}

}  // namespace
}  // namespace hermes::daemon
