#include "daemon/platforms/anthropic_protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hermes::daemon {
namespace {

using nlohmann::json;

ChatCompletionRequest parsed_ok(const std::string& body) {
  auto parsed = parse_messages_request(body);
  if (auto* error = std::get_if<HttpResponse>(&parsed)) {
    ADD_FAILURE() << error->body;
    return {};
  }
  return std::get<ChatCompletionRequest>(parsed);
}

json refusal(const std::string& body, int status = 400) {
  auto parsed = parse_messages_request(body);
  const auto* error = std::get_if<HttpResponse>(&parsed);
  if (!error) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  EXPECT_EQ(error->status, status);
  return json::parse(error->body);
}

TEST(MessagesRequest, ToolRoundsSystemAndSamplingBecomeAChatTurn) {
  const auto request = parsed_ok(R"({"model":"m","max_tokens":300,"stream":true,
    "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
    "temperature":0.5,"stop_sequences":["X"],"metadata":{"user_id":"u9"},
    "tools":[{"name":"get_weather","description":"weather","input_schema":{"type":"object"}}],
    "tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},
    "messages":[{"role":"user","content":"Weather in Paris?"},
      {"role":"assistant","content":[{"type":"text","text":"Checking."},
        {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
        "content":[{"type":"text","text":"18C"}]},{"type":"text","text":"And tomorrow?"}]}]})");
  EXPECT_TRUE(request.stream);
  EXPECT_EQ(request.model, "m");
  ASSERT_EQ(request.messages.size(), 5u);
  EXPECT_EQ(request.messages[0], providers::ChatMessage("system", "Be brief."));
  EXPECT_EQ(request.messages[2].role, "assistant");
  EXPECT_EQ(request.messages[2].content, "Checking.");
  const auto calls = json::parse(request.messages[2].tool_calls);
  EXPECT_EQ(calls[0]["id"], "toolu_1");
  EXPECT_EQ(json::parse(calls[0]["function"]["arguments"].get<std::string>())["city"], "Paris");
  EXPECT_EQ(request.messages[3], providers::ChatMessage("tool", "18C", "", "toolu_1"));
  EXPECT_EQ(request.messages[4], providers::ChatMessage("user", "And tomorrow?"));
  const auto tools = json::parse(request.tools);
  EXPECT_EQ(tools[0]["function"]["name"], "get_weather");
  EXPECT_EQ(tools[0]["function"]["parameters"]["type"], "object");
  const auto extra = json::parse("{" + request.extra_fields + "}");
  EXPECT_EQ(extra["max_tokens"], 300);
  EXPECT_EQ(extra["temperature"], 0.5);
  EXPECT_EQ(extra["stop"], json::array({"X"}));
  EXPECT_EQ(extra["user"], "u9");
  EXPECT_EQ(extra["tool_choice"]["function"]["name"], "get_weather");
  EXPECT_EQ(extra["parallel_tool_calls"], false);
}

TEST(MessagesRequest, BadRequestsAre400sInAnthropicsShapeNamingTheField) {
  struct Row {
    const char* body;
    const char* mentions;
  };
  const Row rows[] = {
      {R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", "max_tokens"},
      {R"({"max_tokens":5,"messages":[{"role":"user","content":"hi"}]})", "model"},
      {R"({"model":"m","max_tokens":5,"messages":[]})", "messages"},
      {R"({"model":"m","max_tokens":5,"top_k":3,"messages":[{"role":"user","content":"hi"}]})",
       "top_k"},
      {R"({"model":"m","max_tokens":5,"thinking":{"type":"enabled"},"messages":[{"role":"user","content":"hi"}]})",
       "thinking"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]})",
       "image"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"nope","content":"x"}]}]})",
       "nope"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})", "role"},
      {R"({"model":"m","max_tokens":5,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":[{"role":"user","content":"hi"}]})",
       "tools[0]"},
      {R"({"model":"m","max_tokens":5,"tool_choice":{"type":"any"},"messages":[{"role":"user","content":"hi"}]})",
       "tool_choice"},
      // Members of the wrong type are refused, never thrown on (found by fuzz_messages_request).
      {R"({"model":"m","max_tokens":5,"system":[{"type":[{"id":"t1"}],"text":"x"}],"messages":[{"role":"user","content":"hi"}]})",
       "system"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":7}]}]})",
       "messages[0].content[0]"},
      {R"({"model":"m","max_tokens":5,"messages":[{"role":["user"],"content":"hi"}]})", "role"},
      {R"({"model":"m","max_tokens":5,"tools":[{"name":"f"}],"tool_choice":{"type":{"a":1}},"messages":[{"role":"user","content":"hi"}]})",
       "tool_choice"},
      {R"([1,2])", "JSON object"},
      {"{not json", "not valid JSON"},
  };
  for (const auto& row : rows) {
    const auto body = refusal(row.body);
    EXPECT_EQ(body["type"], "error") << row.body;
    EXPECT_EQ(body["error"]["type"], "invalid_request_error") << row.body;
    EXPECT_NE(body["error"]["message"].get<std::string>().find(row.mentions), std::string::npos)
        << body.dump();
  }
  EXPECT_FALSE(std::holds_alternative<HttpResponse>(
      parse_messages_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", true)))
      << "count_tokens needs no max_tokens";
}

TEST(MessagesErrors, StatusesMapToAnthropicsTypesAndKeepTheirHeaders) {
  struct Row {
    int status;
    const char* type;
  };
  for (const auto& row :
       {Row{400, "invalid_request_error"}, Row{401, "authentication_error"},
        Row{402, "billing_error"}, Row{403, "permission_error"}, Row{404, "not_found_error"},
        Row{413, "request_too_large"}, Row{429, "rate_limit_error"}, Row{500, "api_error"},
        Row{502, "api_error"}, Row{503, "overloaded_error"}, Row{504, "api_error"}}) {
    HttpResponse openai = json_error(row.status, "the hint sentence", "billing");
    openai.headers.emplace_back("Retry-After", "7");
    const auto converted = anthropic_error(openai);
    const auto body = json::parse(converted.body);
    EXPECT_EQ(converted.status, row.status);
    // A 401 on these routes is about the key, and says how Anthropic clients send it.
    const std::string message =
        row.status == 401
            ? "Missing or invalid API key: send x-api-key: <key> (or Authorization: Bearer <key>)."
            : "the hint sentence";
    EXPECT_EQ(body,
              (json{{"type", "error"}, {"error", {{"type", row.type}, {"message", message}}}}));
    ASSERT_EQ(converted.headers.size(), openai.headers.size());
  }
}

TEST(MessagesAnswer, PlainAnswerCarriesBlocksStopReasonAndUsage) {
  providers::ChatUsage usage{120, 8, 128, 20, 90};
  auto body = json::parse(
      message_json("msg_1", "m", "Hello", {{"t1", "f", R"({"q":1})"}}, "tool_use", usage));
  EXPECT_EQ(body["type"], "message");
  EXPECT_EQ(body["role"], "assistant");
  EXPECT_EQ(body["content"][0], (json{{"type", "text"}, {"text", "Hello"}}));
  EXPECT_EQ(body["content"][1]["input"]["q"], 1);
  EXPECT_EQ(body["stop_reason"], "tool_use");
  EXPECT_EQ(body["usage"]["input_tokens"], 10) << "uncached input only, as Anthropic counts it";
  EXPECT_EQ(body["usage"]["cache_creation_input_tokens"], 20);
  EXPECT_EQ(body["usage"]["cache_read_input_tokens"], 90);
  EXPECT_EQ(body["usage"]["output_tokens"], 8);
  body = json::parse(message_json("msg_2", "m", "", {}, "end_turn", {}));
  EXPECT_EQ(body["content"].size(), 1u) << "an empty answer is one empty text block";
}

// The events of a stream, split back into (event name, data) pairs.
std::vector<std::pair<std::string, json>> events_of(const std::string& text) {
  std::vector<std::pair<std::string, json>> out;
  std::size_t at = 0;
  while ((at = text.find("event: ", at)) != std::string::npos) {
    const auto name_end = text.find('\n', at);
    const auto data_end = text.find("\n\n", name_end);
    out.emplace_back(text.substr(at + 7, name_end - at - 7),
                     json::parse(text.substr(name_end + 7, data_end - name_end - 7)));
    at = data_end;
  }
  return out;
}

TEST(MessagesStream, EventsComeInAnthropicsOrder) {
  MessagesStreamWriter writer("msg_1", "m");
  EXPECT_FALSE(writer.started());
  std::string text = writer.text("Hel");
  text += writer.text("lo");
  text += writer.finish({{"t1", "f", R"({"a":1})"}}, "tool_use", {5, 2, 7, 0, 0});
  const auto events = events_of(text);
  std::vector<std::string> names;
  for (const auto& [name, data] : events) {
    names.push_back(name);
    EXPECT_EQ(data["type"], name) << "the data's type repeats the event's name";
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop",
                                      "content_block_start", "content_block_delta",
                                      "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(events[2].second["delta"]["text"], "Hel");
  EXPECT_EQ(events[5].second["index"], 1);
  EXPECT_EQ(events[5].second["content_block"]["name"], "f");
  EXPECT_EQ(events[6].second["delta"]["partial_json"], R"({"a":1})");
  EXPECT_EQ(events[8].second["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(events[8].second["usage"]["output_tokens"], 2);

  MessagesStreamWriter empty("msg_2", "m");
  const auto only_end = events_of(empty.finish({}, "end_turn", {}));
  ASSERT_EQ(only_end.size(), 5u) << "an empty answer still has its text block";
  EXPECT_EQ(only_end[1].first, "content_block_start");
  const auto error = events_of(MessagesStreamWriter::error(
      anthropic_error(json_error(503, "Overloaded; try later.", "overloaded"))));
  ASSERT_EQ(error.size(), 1u);
  EXPECT_EQ(error[0].first, "error");
  EXPECT_EQ(error[0].second["error"]["type"], "overloaded_error");
}

}  // namespace
}  // namespace hermes::daemon
