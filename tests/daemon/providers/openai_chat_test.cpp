#include "daemon/providers/openai_chat.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/providers/json_text.hpp"

namespace hermes::providers {
namespace {

using nlohmann::json;

TEST(OpenAiChat, ToolCallsAndToolResultsAreWrittenAsTheApiWantsThem) {
  const std::vector<ChatMessage> messages = {
      {"user", "sum 2 and 3"},
      {"assistant", "", tool_calls_json({{"call_1", "mcp_x_get_sum", R"({"a":2,"b":3})"}}), ""},
      {"tool", "5", "", "call_1"},
  };
  const auto body =
      json::parse(build_chat_request("m", messages, false, R"([{"type":"function"}])"));
  EXPECT_EQ(body["tools"][0]["type"], "function");
  EXPECT_TRUE(body["messages"][1]["content"].is_null()) << "a tools-only answer has no content";
  EXPECT_EQ(body["messages"][1]["tool_calls"][0]["function"]["arguments"], R"({"a":2,"b":3})");
  EXPECT_EQ(body["messages"][1]["tool_calls"][0]["type"], "function");
  EXPECT_EQ(body["messages"][2]["tool_call_id"], "call_1");
  EXPECT_FALSE(body["messages"][0].contains("tool_calls"));
  EXPECT_FALSE(json::parse(build_chat_request("m", messages, false)).contains("tools"));
}

TEST(OpenAiChat, AnswersWithToolCallsAndOddUsageAreRead) {
  const auto parsed = parse_chat_completion(R"({"choices":[{"message":{"content":null,
      "tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},
                    {"id":"b","function":{"name":"g","arguments":{"x":1}}},
                    {"id":"c","function":{}}, 7]}}],
      "usage":{"prompt_tokens":null,"completion_tokens":"7","total_tokens":12}})");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->tool_calls.size(), 2u) << "calls without a name are left out";
  EXPECT_EQ(parsed->tool_calls[1].arguments, R"({"x":1})") << "object arguments become text";
  EXPECT_EQ(parsed->usage.prompt_tokens, 0) << "a count of the wrong type is 0, not a throw";
  EXPECT_EQ(parsed->usage.total_tokens, 12);
}

// Counts out of a long's range (found by fuzz_stream_event: 2E101 was an undefined
// conversion) read as 0 or capped, in both answer parsers.
TEST(OpenAiChat, CountsOutOfRangeAreZeroOrCappedNotUndefined) {
  const auto event = parse_stream_event(
      R"({"usage":{"prompt_tokens":2E101,"completion_tokens":18446744073709551615,"total_tokens":-1e300}})");
  ASSERT_TRUE(event.usage);
  EXPECT_EQ(event.usage->prompt_tokens, 0);
  EXPECT_EQ(event.usage->completion_tokens, 1L << 62);
  EXPECT_EQ(event.usage->total_tokens, 0);
  EXPECT_EQ(count_from_double(12.0), 12);
  EXPECT_EQ(count_from_double(-3.0), -3) << "in range, as an integer -3 reads";
}

TEST(OpenAiChat, StreamedToolCallPiecesCarryTheirIndex) {
  const auto first = parse_stream_event(
      R"({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"x","function":{"name":"f","arguments":"{\"a\""}}]}}]})");
  ASSERT_EQ(first.tool_calls.size(), 1u);
  EXPECT_EQ(first.tool_calls[0].index, 1u);
  EXPECT_EQ(first.tool_calls[0].name, "f");
  EXPECT_EQ(first.tool_calls[0].arguments, "{\"a\"");
  const auto huge =
      parse_stream_event(R"({"choices":[{"delta":{"tool_calls":[{"index":99999}]}}]})");
  ASSERT_EQ(huge.tool_calls.size(), 1u);
  EXPECT_LT(huge.tool_calls[0].index, 128u) << "an index cannot make the gateway allocate";
}

}  // namespace
}  // namespace hermes::providers
