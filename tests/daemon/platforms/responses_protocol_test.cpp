// The Responses API's pure parts: requests into chat messages, response objects, the stream's
// event sequence, stored conversations and input item pages.
#include "daemon/platforms/responses/responses_protocol.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace hermes::daemon::responses {
namespace {

using nlohmann::json;
using providers::ChatMessage;

ResponsesRequest parsed(const std::string& body) {
  auto result = parse_responses_request(body, "item_x");
  if (auto* error = std::get_if<HttpResponse>(&result)) {
    ADD_FAILURE() << body << " → " << error->body;
    return {};
  }
  return std::get<ResponsesRequest>(result);
}

TEST(ResponsesRequest, AStringInputIsOneUserMessageListedAsAnInputTextItem) {
  const auto request = parsed(R"({"model":"m","input":"hello","instructions":"be brief"})");
  ASSERT_EQ(request.input.size(), 1u);
  EXPECT_EQ(request.input[0], ChatMessage("user", "hello"));
  EXPECT_EQ(request.instructions, "be brief");
  EXPECT_TRUE(request.store) << "stored unless store: false";
  const auto items = json::parse(request.input_items);
  EXPECT_EQ(items[0]["id"], "item_x_0");
  EXPECT_EQ(items[0]["type"], "message");
  EXPECT_EQ(items[0]["content"][0]["type"], "input_text");
  EXPECT_EQ(json::parse(request.echo)["instructions"], "be brief");
}

TEST(ResponsesRequest, ItemsBecomeChatMessagesWithFunctionCallsGroupedPerTurn) {
  const auto request = parsed(R"({"input":[
    {"role":"developer","content":"rules"},
    {"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]},
    {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
    {"type":"function_call","call_id":"c2","name":"g","arguments":"{\"x\":1}"},
    {"type":"function_call_output","call_id":"c1","output":"one"},
    {"type":"function_call_output","call_id":"c2","output":"two"}]})");
  ASSERT_EQ(request.input.size(), 5u);
  EXPECT_EQ(request.input[0], ChatMessage("system", "rules"));
  EXPECT_EQ(request.input[1], ChatMessage("user", "a\nb"));
  EXPECT_EQ(request.input[2].role, "assistant");
  const auto calls = json::parse(request.input[2].tool_calls);
  ASSERT_EQ(calls.size(), 2u) << "parallel calls are one assistant message";
  EXPECT_EQ(calls[1]["function"]["arguments"], "{\"x\":1}");
  EXPECT_EQ(request.input[3], ChatMessage("tool", "one", "", "c1"));
  EXPECT_EQ(request.input[4], ChatMessage("tool", "two", "", "c2"));
  EXPECT_EQ(json::parse(request.input_items).size(), 6u);
}

TEST(ResponsesRequest, FunctionToolsAndSamplingReachTheProviderInChatForm) {
  const auto request = parsed(R"({"input":"x","temperature":0.2,"max_output_tokens":50,
    "tools":[{"type":"function","name":"lookup","parameters":{"type":"object"}}],
    "tool_choice":{"type":"function","name":"lookup"},
    "text":{"format":{"type":"json_schema","name":"out","schema":{"type":"object"}}}})");
  const auto tools = json::parse(request.tools);
  EXPECT_EQ(tools[0]["function"]["name"], "lookup");
  EXPECT_EQ(tools[0]["function"]["parameters"]["type"], "object");
  const auto extra = json::parse("{" + request.extra_fields + "}");
  EXPECT_EQ(extra["temperature"], 0.2);
  EXPECT_EQ(extra["max_tokens"], 50);
  EXPECT_EQ(extra["tool_choice"]["function"]["name"], "lookup");
  EXPECT_EQ(extra["response_format"]["json_schema"]["name"], "out");
  EXPECT_EQ(json::parse(request.echo)["tools"][0]["name"], "lookup") << "echoed as sent";
}

TEST(ResponsesRequest, WhatCannotBeHonouredIsA400NamingIt) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({})", "input"},
      {R"({"input":[]})", "input"},
      {R"({"input":42})", "input"},
      {R"({"input":"x","frobnicate":1})", "frobnicate"},
      {R"({"input":"x","tools":[{"type":"web_search_preview"}]})", "tools[0].type"},
      {R"({"input":"x","tools":[{"type":"function"}]})", "tools[0].name"},
      {R"({"input":[{"role":"user","content":[{"type":"input_image","image_url":"u"}]}]})",
       "input[0].content[0]"},
      {R"({"input":[{"type":"item_reference","id":"i"}]})", "input[0].type"},
      {R"({"input":[{"role":"robot","content":"x"}]})", "input[0].role"},
      {R"({"input":[{"type":"function_call","name":"f"}]})", "input[0]"},
      {R"({"input":"x","background":true})", "background"},
      {R"({"input":"x","store":"yes"})", "store"},
      {R"({"input":"x","max_output_tokens":0})", "max_output_tokens"},
      {R"({"input":"x","text":{"format":{"type":"xml"}}})", "text.format"},
      {R"({"input":"x","previous_response_id":7})", "previous_response_id"},
      // A type of the wrong kind is the client's error, never an exception in the gateway.
      {R"({"input":[{"type":1}]})", "input[0].type"},
      {R"({"input":[{"type":null,"role":"user","content":"x"}]})", "input[0].type"},
      {R"({"input":"x","text":{"format":{"type":[]}}})", "text.format.type"},
      {R"([1,2])", ""},
      {R"(not json)", ""},
  };
  for (const auto& [body, param] : cases) {
    auto result = parse_responses_request(body, "item_x");
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(result)) << body;
    const auto& error = std::get<HttpResponse>(result);
    EXPECT_EQ(error.status, 400) << body;
    EXPECT_EQ(json::parse(error.body)["error"]["param"], param) << body << " → " << error.body;
  }
}

ResponseState completed_state() {
  ResponseState state;
  state.id = "resp_abc";
  state.created_at = 1700000000;
  state.status = "completed";
  state.model = "demo-model";
  state.echo = R"({"store":true,"tools":[]})";
  state.text = "hi there";
  state.has_message = true;
  state.usage = providers::ChatUsage{3, 2, 5};
  return state;
}

TEST(ResponseObject, HasTheMessageUsageAndEchoedSettings) {
  const auto object = json::parse(response_json(completed_state()));
  EXPECT_EQ(object["id"], "resp_abc");
  EXPECT_EQ(object["object"], "response");
  EXPECT_EQ(object["status"], "completed");
  EXPECT_EQ(object["output"][0]["type"], "message");
  EXPECT_EQ(object["output"][0]["id"], "msg_abc");
  EXPECT_EQ(object["output"][0]["content"][0]["text"], "hi there");
  EXPECT_EQ(object["usage"]["input_tokens"], 3);
  EXPECT_EQ(object["usage"]["output_tokens"], 2);
  EXPECT_EQ(object["usage"]["total_tokens"], 5);
  EXPECT_EQ(object["store"], true);
  EXPECT_TRUE(object["error"].is_null());
  EXPECT_TRUE(object["previous_response_id"].is_null());
}

std::vector<json> events_of(const std::string& sse) {
  std::vector<json> events;
  std::size_t at = 0;
  while ((at = sse.find("event: ", at)) != std::string::npos) {
    const auto name_end = sse.find('\n', at);
    const auto data = sse.find("data: ", name_end);
    const auto end = sse.find("\n\n", data);
    auto event = json::parse(sse.substr(data + 6, end - data - 6));
    EXPECT_EQ(event["type"], sse.substr(at + 7, name_end - at - 7)) << "event name = type";
    events.push_back(std::move(event));
    at = end;
  }
  return events;
}

std::vector<std::string> types_of(const std::vector<json>& events) {
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e["type"]);
  return types;
}

TEST(ResponseEvents, AStreamedAnswerIsTheFullSequenceNumberedInOrder) {
  ResponseEvents events;
  auto state = completed_state();
  state.status = "in_progress";
  std::string sse = events.started(state);
  sse += events.text_delta(state, "hi ");
  sse += events.text_delta(state, "there");
  state.status = "completed";
  sse += events.completed(state);
  const auto parsed = events_of(sse);
  EXPECT_EQ(types_of(parsed),
            (std::vector<std::string>{"response.created", "response.in_progress",
                                      "response.output_item.added", "response.content_part.added",
                                      "response.output_text.delta", "response.output_text.delta",
                                      "response.output_text.done", "response.content_part.done",
                                      "response.output_item.done", "response.completed"}));
  for (std::size_t i = 0; i < parsed.size(); ++i) EXPECT_EQ(parsed[i]["sequence_number"], i);
  EXPECT_EQ(parsed[0]["response"]["status"], "in_progress");
  EXPECT_EQ(parsed[4]["item_id"], "msg_abc");
  EXPECT_EQ(parsed[6]["text"], "hi there");
  EXPECT_EQ(parsed.back()["response"]["output"][0]["content"][0]["text"], "hi there");
}

TEST(ResponseEvents, FunctionCallsFollowTheirArgumentsAndAFailureSaysWhy) {
  ResponseEvents events;
  auto state = completed_state();
  state.has_message = false;
  state.text.clear();
  state.calls = {{"call_1", "lookup", R"({"q":"x"})"}};
  auto parsed = events_of(events.started(state) + events.completed(state));
  EXPECT_EQ(types_of(parsed),
            (std::vector<std::string>{
                "response.created", "response.in_progress", "response.output_item.added",
                "response.function_call_arguments.delta", "response.function_call_arguments.done",
                "response.output_item.done", "response.completed"}));
  EXPECT_EQ(parsed[4]["arguments"], R"({"q":"x"})");
  EXPECT_EQ(parsed.back()["response"]["output"][0]["type"], "function_call");
  EXPECT_EQ(parsed.back()["response"]["output"][0]["call_id"], "call_1");

  ResponseEvents failing;
  auto failed = completed_state();
  failed.status = "failed";
  failed.error_code = "billing";
  failed.error_message = "Your API balance or quota is exhausted.";
  std::string sse = failing.started(failed) + failing.text_delta(failed, "par");
  parsed = events_of(sse + failing.failed(failed));
  EXPECT_EQ(parsed.back()["type"], "response.failed");
  EXPECT_EQ(parsed.back()["response"]["error"]["code"], "billing");
  EXPECT_EQ(parsed.rbegin()[1]["item"]["status"], "incomplete") << "the open message is closed";
}

TEST(StoredConversation, RoundTripsEveryKindOfMessage) {
  const std::vector<ChatMessage> messages = {
      {"user", "quote \" and \n newline and ünïcode"},
      {"assistant", "",
       R"([{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}])"},
      {"tool", "result", "", "c1"},
      {"assistant", "done"}};
  std::vector<ChatMessage> back;
  ASSERT_TRUE(append_conversation(conversation_json(messages), back));
  EXPECT_EQ(back, messages);
  EXPECT_FALSE(append_conversation("{\"not\":\"a list\"}", back));
}

TEST(StoredConversation, AToolResultMustAnswerAnEarlierCall) {
  const std::vector<ChatMessage> ok = {
      {"assistant", "",
       R"([{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}])"},
      {"tool", "r", "", "c1"}};
  EXPECT_FALSE(unanswered_tool_result(ok));
  const std::vector<ChatMessage> orphan = {{"user", "x"}, {"tool", "r", "", "c9"}};
  EXPECT_EQ(unanswered_tool_result(orphan), "c9");
}

TEST(InputItemsPage, PagesNewestFirstByDefaultWithCursor) {
  const std::string items = R"([{"id":"i0"},{"id":"i1"},{"id":"i2"}])";
  auto page = json::parse(std::get<std::string>(input_items_page(items, "limit=2")));
  EXPECT_EQ(page["object"], "list");
  EXPECT_EQ(page["data"].size(), 2u);
  EXPECT_EQ(page["first_id"], "i2");
  EXPECT_EQ(page["last_id"], "i1");
  EXPECT_EQ(page["has_more"], true);
  page = json::parse(std::get<std::string>(input_items_page(items, "limit=2&after=i1")));
  EXPECT_EQ(page["data"][0]["id"], "i0");
  EXPECT_EQ(page["has_more"], false);
  page = json::parse(std::get<std::string>(input_items_page(items, "order=asc")));
  EXPECT_EQ(page["first_id"], "i0");
  for (const char* bad : {"limit=0", "limit=101", "limit=x", "order=up", "after=nope"}) {
    EXPECT_TRUE(std::holds_alternative<HttpResponse>(input_items_page(items, bad))) << bad;
  }
}

}  // namespace
}  // namespace hermes::daemon::responses
