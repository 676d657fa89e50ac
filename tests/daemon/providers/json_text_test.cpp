// The direct JSON writers against nlohmann's output: byte for byte for valid text, and always
// valid JSON (with U+FFFD) for bytes that are not UTF-8.
#include "daemon/providers/json_text.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/platforms/api_protocol.hpp"
#include "daemon/providers/openai_chat.hpp"

namespace hermes {
namespace {

using nlohmann::json;

std::string written(std::string_view text) {
  std::string out;
  providers::append_json_string(out, text);
  return out;
}

std::string reference(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(JsonText, ValidTextIsWrittenExactlyAsNlohmannWritesIt) {
  const std::string cases[] = {
      "",
      "plain ascii",
      "quote \" backslash \\ slash /",
      "\b\f\n\r\t",
      std::string("nul \0 inside", 12),
      "\x01\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa7 \xf4\x8f\xbf\xbf",  // é € 🔧 U+10FFFF
      "\xed\x9f\xbf \xee\x80\x80",                                   // U+D7FF, U+E000
      std::string(5000, 'x') + "\n" + std::string(5000, 'y'),
  };
  for (const auto& text : cases) EXPECT_EQ(written(text), reference(json(text))) << text;
}

TEST(JsonText, BytesThatAreNotUtf8BecomeTheReplacementCharacter) {
  const std::string cases[] = {
      "\xff",
      "bad \x80 continuation",
      "overlong \xc0\xaf slash",
      "overlong \xe0\x80\xaf",
      "surrogate \xed\xa0\x80",
      "past U+10FFFF \xf4\x90\x80\x80",
      "truncated \xe2\x82",
      "truncated at the end \xf0\x9f",
  };
  for (const auto& text : cases) {
    const auto out = written(text);
    const auto parsed = json::parse(out, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << out;
    EXPECT_NE(parsed.get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << out;
  }
}

TEST(JsonText, AChatRequestIsTheJsonANlohmannTreeWouldGive) {
  const std::vector<providers::ChatMessage> messages{
      {"system", "Be brief."}, {"user", "line one\nline \"two\""}, {"assistant", "caf\xc3\xa9"}};
  for (bool stream : {false, true}) {
    json list = json::array();
    for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
    json body = {{"model", "gpt-4o-mini"}, {"messages", list}};
    if (stream) {
      body["stream"] = true;
      body["stream_options"] = {{"include_usage", true}};
    }
    EXPECT_EQ(json::parse(providers::build_chat_request("gpt-4o-mini", messages, stream)), body);
  }
}

TEST(JsonText, CompletionAndChunkBodiesMatchTheTreeBuiltOnes) {
  const json completion = {
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"created", 7},
      {"model", "m\"1"},
      {"choices", json::array({{{"index", 0},
                                {"message", {{"role", "assistant"}, {"content", "a\nb"}}},
                                {"finish_reason", "stop"}}})},
      {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 2}, {"total_tokens", 3}}}};
  EXPECT_EQ(daemon::completion_json("chatcmpl-1", "m\"1", "a\nb", {1, 2, 3}, 7),
            reference(completion));

  for (bool first : {false, true}) {
    for (bool last : {false, true}) {
      for (bool has_content : {false, true}) {
        json delta = json::object();
        if (first) delta["role"] = "assistant";
        if (has_content) delta["content"] = "tok\t";
        const json chunk = {
            {"id", "c1"},
            {"object", "chat.completion.chunk"},
            {"created", 9},
            {"model", "m"},
            {"choices", json::array({{{"index", 0},
                                      {"delta", delta},
                                      {"finish_reason", last ? json("stop") : json(nullptr)}}})}};
        const auto content =
            has_content ? std::optional<std::string>("tok\t") : std::optional<std::string>();
        EXPECT_EQ(daemon::chunk_event("c1", "m", 9, content, first, last),
                  "data: " + reference(chunk) + "\n\n")
            << first << last << has_content;
      }
    }
  }
}

TEST(JsonText, NestingIsCountedOutsideStringsOnly) {
  struct Case {
    std::string text;
    int limit;
    bool exceeds;
  };
  const Case cases[] = {
      {R"({"messages":[{"role":"user","content":"hi"}]})", 3, false},
      {R"({"messages":[{"role":"user","content":"hi"}]})", 2, true},
      {R"({"content":"[[[[[[[[[[{{{{{{"})", 1, false},  // brackets inside a string
      {R"({"content":"\"[[[[","x":[[1]]})", 3, false},  // an escaped quote stays inside
      {R"({"content":"\\","x":[[[1]]]})", 3, true},     // an escaped backslash does not
      {std::string(65, '[') + std::string(65, ']'), 64, true},
      {std::string(64, '[') + std::string(64, ']'), 64, false},
      {"]]]]}}}}[", 1, false},  // closers never go negative
      {"", 0, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(providers::json_nesting_exceeds(c.text, c.limit), c.exceeds)
        << c.text << " limit " << c.limit;
  }
}

}  // namespace
}  // namespace hermes
