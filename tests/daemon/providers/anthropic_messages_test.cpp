#include "daemon/providers/anthropic_messages.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hermes::providers {
namespace {

using nlohmann::json;

json built(const std::vector<ChatMessage>& messages, const std::string& tools = {},
           const std::string& extra = {}, AnthropicOptions options = {}) {
  const auto request = build_messages_request("claude-x", messages, false, tools, extra, options);
  EXPECT_TRUE(request.refused_field.empty()) << request.refusal;
  return json::parse(request.body);
}

TEST(AnthropicRequest, SystemToolsAndToolRoundsBecomeBlocks) {
  const std::vector<ChatMessage> messages = {
      {"system", "You are terse."},
      {"user", "sum 2 and 3, and 4 and 5"},
      {"assistant", "Let me add.",
       tool_calls_json({{"c1", "add", R"({"a":2,"b":3})"}, {"c2", "add", R"({"a":4,"b":5})"}}), ""},
      {"tool", "5", "", "c1"},
      {"tool", "9", "", "c2"},
      {"system", "Summary of earlier turns."},
  };
  const auto body = built(
      messages,
      R"([{"type":"function","function":{"name":"add","description":"adds","parameters":{"type":"object","properties":{"a":{"type":"number"}}}}}])",
      {}, {.default_max_tokens = 512, .prompt_caching = false});
  EXPECT_EQ(body["model"], "claude-x");
  EXPECT_EQ(body["max_tokens"], 512) << "required there: the provider's default";
  EXPECT_EQ(body["system"][0]["text"], "You are terse.\n\nSummary of earlier turns.");
  ASSERT_EQ(body["messages"].size(), 3u);
  const auto& assistant = body["messages"][1];
  EXPECT_EQ(assistant["role"], "assistant");
  EXPECT_EQ(assistant["content"][0], (json{{"type", "text"}, {"text", "Let me add."}}));
  EXPECT_EQ(assistant["content"][1]["type"], "tool_use");
  EXPECT_EQ(assistant["content"][1]["input"], (json{{"a", 2}, {"b", 3}}));
  EXPECT_EQ(assistant["content"][2]["id"], "c2");
  const auto& results = body["messages"][2];
  EXPECT_EQ(results["role"], "user") << "one round's results in one user message";
  ASSERT_EQ(results["content"].size(), 2u);
  EXPECT_EQ(results["content"][1],
            (json{{"type", "tool_result"}, {"tool_use_id", "c2"}, {"content", "9"}}));
  EXPECT_EQ(body["tools"][0]["name"], "add");
  EXPECT_EQ(body["tools"][0]["description"], "adds");
  EXPECT_EQ(body["tools"][0]["input_schema"]["properties"]["a"]["type"], "number");
  EXPECT_FALSE(body.contains("stream"));
  EXPECT_EQ(body.dump().find("cache_control"), std::string::npos) << "caching off";
}

TEST(AnthropicRequest, SamplingFieldsMapAndTheRestAreRefusedByName) {
  const auto body = built({{"user", "hi"}}, R"([{"type":"function","function":{"name":"f"}}])",
                          R"("temperature":0.2,"top_p":0.9,"max_tokens":64,"stop":"END",)"
                          R"("user":"u1","tool_choice":"required","parallel_tool_calls":false)");
  EXPECT_EQ(body["temperature"], 0.2);
  EXPECT_EQ(body["top_p"], 0.9);
  EXPECT_EQ(body["max_tokens"], 64) << "the request's own max_tokens wins";
  EXPECT_EQ(body["stop_sequences"], json::array({"END"}));
  EXPECT_EQ(body["metadata"]["user_id"], "u1");
  EXPECT_EQ(body["tool_choice"], (json{{"type", "any"}, {"disable_parallel_tool_use", true}}));
  EXPECT_EQ(body["tools"][0]["input_schema"]["type"], "object") << "a schema is required there";

  struct Row {
    std::string extra;
    std::string field;
  };
  for (const auto& row :
       std::vector<Row>{{R"("seed":7)", "seed"},
                        {R"("presence_penalty":0.5)", "presence_penalty"},
                        {R"("frequency_penalty":0.5)", "frequency_penalty"},
                        {R"("response_format":{"type":"json_object"})", "response_format"},
                        {R"("tool_choice":"sometimes")", "tool_choice"}}) {
    const auto request = build_messages_request("m", std::vector<ChatMessage>{{"user", "hi"}},
                                                false, "", row.extra, {});
    EXPECT_EQ(request.refused_field, row.field) << row.extra;
    EXPECT_NE(request.refusal.find("'" + row.field + "'"), std::string::npos) << request.refusal;
    EXPECT_TRUE(request.body.empty());
    ASSERT_TRUE(unmappable_field(row.extra)) << row.extra;
  }
  EXPECT_FALSE(unmappable_field(R"("temperature":1,"response_format":{"type":"text"})"));
}

TEST(AnthropicRequest, CacheBreakpointsSitOnThePrefixAndTheLastTwoTurns) {
  const std::vector<ChatMessage> messages = {{"system", "sys"},  {"user", "one"},
                                             {"assistant", "1"}, {"user", "two"},
                                             {"assistant", "2"}, {"user", "three"}};
  const auto body = built(messages, R"([{"type":"function","function":{"name":"a"}},)"
                                    R"({"type":"function","function":{"name":"b"}}])");
  const json ephemeral = {{"type", "ephemeral"}};
  EXPECT_EQ(body["system"][0]["cache_control"], ephemeral);
  EXPECT_FALSE(body["tools"][0].contains("cache_control"));
  EXPECT_EQ(body["tools"][1]["cache_control"], ephemeral) << "the last tool closes the list";
  const auto& m = body["messages"];
  EXPECT_EQ(m[4]["content"][0]["cache_control"], ephemeral) << "the latest turn";
  EXPECT_EQ(m[2]["content"][0]["cache_control"], ephemeral) << "where the previous call ended";
  EXPECT_FALSE(m[0]["content"][0].contains("cache_control"));
  EXPECT_EQ(body.dump().find("cache_control") != std::string::npos, true);
  std::size_t breakpoints = 0;
  for (auto at = body.dump().find("cache_control"); at != std::string::npos;
       at = body.dump().find("cache_control", at + 1)) {
    ++breakpoints;
  }
  EXPECT_EQ(breakpoints, 4u) << "Anthropic allows four";
}

TEST(AnthropicResponse, TextToolUseStopReasonAndCacheUsageAreRead) {
  const auto parsed = parse_messages_response(R"({"id":"msg_1","type":"message",
      "content":[{"type":"text","text":"Adding."},{"type":"tool_use","id":"tu_1","name":"add",
      "input":{"a":2}}],"stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":7,
      "cache_creation_input_tokens":100,"cache_read_input_tokens":1000}})");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->content, "Adding.");
  ASSERT_EQ(parsed->tool_calls.size(), 1u);
  EXPECT_EQ(parsed->tool_calls[0].id, "tu_1");
  EXPECT_EQ(parsed->tool_calls[0].arguments, R"({"a":2})");
  EXPECT_EQ(parsed->finish_reason, "tool_calls");
  EXPECT_EQ(parsed->usage.prompt_tokens, 1110) << "all input, the cached part included";
  EXPECT_EQ(parsed->usage.cache_write_tokens, 100);
  EXPECT_EQ(parsed->usage.cache_read_tokens, 1000);
  EXPECT_EQ(parsed->usage.total_tokens, 1117);
  EXPECT_FALSE(parse_messages_response(R"({"type":"error","error":{"type":"api_error"}})"));
  EXPECT_FALSE(parse_messages_response("not json"));
}

TEST(AnthropicStream, EveryEventKindIsRead) {
  auto e = parse_messages_stream_event(
      R"({"type":"message_start","message":{"usage":{"input_tokens":5,"cache_read_input_tokens":50,"output_tokens":1}}})");
  ASSERT_TRUE(e.usage);
  EXPECT_EQ(e.usage->prompt_tokens, 55);
  e = parse_messages_stream_event(
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})");
  EXPECT_EQ(e.delta, "Hel");
  e = parse_messages_stream_event(
      R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"tu","name":"f","input":{}}})");
  ASSERT_EQ(e.tool_calls.size(), 1u);
  EXPECT_EQ(e.tool_calls[0].index, 1u);
  EXPECT_EQ(e.tool_calls[0].name, "f");
  e = parse_messages_stream_event(
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}})");
  ASSERT_EQ(e.tool_calls.size(), 1u);
  EXPECT_EQ(e.tool_calls[0].arguments, R"({"a":)");
  e = parse_messages_stream_event(
      R"({"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9}})");
  EXPECT_EQ(e.finish_reason, "length");
  ASSERT_TRUE(e.usage);
  EXPECT_EQ(e.usage->completion_tokens, 9);
  EXPECT_EQ(e.usage->prompt_tokens, 0) << "not in this event: the merge keeps message_start's";
  EXPECT_TRUE(parse_messages_stream_event(R"({"type":"message_stop"})").done);
  const auto ping = parse_messages_stream_event(R"({"type":"ping"})");
  EXPECT_FALSE(ping.done || ping.is_error || ping.malformed || !ping.delta.empty());
  EXPECT_TRUE(parse_messages_stream_event(
                  R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})")
                  .is_error);
  EXPECT_TRUE(parse_messages_stream_event("{oops").malformed);
}

TEST(AnthropicStopReasons, MapBothWays) {
  struct Row {
    const char* anthropic;
    const char* openai;
  };
  for (const auto& row : {Row{"end_turn", "stop"}, Row{"tool_use", "tool_calls"},
                          Row{"max_tokens", "length"}, Row{"refusal", "content_filter"}}) {
    EXPECT_EQ(finish_reason_of(row.anthropic), row.openai);
    EXPECT_EQ(stop_reason_of(row.openai), row.anthropic);
  }
  EXPECT_EQ(finish_reason_of("stop_sequence"), "stop");
  EXPECT_EQ(stop_reason_of(""), "end_turn");
}

}  // namespace
}  // namespace hermes::providers
