#include "daemon/platforms/telegram/bot_api.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace hermes::daemon::telegram {
namespace {

using nlohmann::json;

TEST(BotApiReply, AnyBodyGivesAReplyNeverAnException) {
  struct Case {
    const char* name;
    int status;
    const char* body;
    bool ok;
    const char* description;
    std::optional<int> retry_after;
  };
  const Case cases[] = {
      {"ok", 200, R"({"ok":true,"result":[]})", true, "", std::nullopt},
      {"ok but not 200", 500, R"({"ok":true,"result":[]})", false, "", std::nullopt},
      {"ok as a string", 200, R"({"ok":"true"})", false, "", std::nullopt},
      {"not json", 502, "<html>bad gateway</html>", false, "HTTP 502 with a body that is not JSON",
       std::nullopt},
      {"an array", 200, "[1,2]", false, "HTTP 200 with a body that is not JSON", std::nullopt},
      {"flood wait", 429,
       R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}})",
       false, "Too Many Requests: retry after 7", 7},
      {"retry_after as a string", 429, R"({"ok":false,"parameters":{"retry_after":"7"}})", false,
       "", std::nullopt},
      {"a week of retry_after is clamped", 429,
       R"({"ok":false,"parameters":{"retry_after":604800}})", false, "", 3600},
      {"description of the wrong type", 400, R"({"ok":false,"description":{"x":1}})", false, "",
       std::nullopt},
      {"parameters of the wrong type", 429, R"({"ok":false,"parameters":[7]})", false, "",
       std::nullopt},
  };
  for (const auto& c : cases) {
    const auto reply = parse_api_reply(c.status, c.body);
    EXPECT_EQ(reply.ok, c.ok) << c.name;
    EXPECT_EQ(reply.description, c.description) << c.name;
    EXPECT_EQ(reply.retry_after, c.retry_after) << c.name;
    EXPECT_EQ(reply.http_status, c.status) << c.name;
  }
}

TEST(BotApiUpdates, TextMessagesAreTakenAndEveryUpdateMovesTheOffset) {
  const json result = json::parse(R"([
    {"update_id": 10, "message": {"message_id": 5, "text": "hi",
      "chat": {"id": 42, "type": "private"}, "from": {"id": 7, "username": "ann"}}},
    {"update_id": 11, "message": {"message_id": 6, "text": "in a group",
      "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 8}}},
    {"update_id": 12, "message": {"message_id": 7, "photo": [],
      "chat": {"id": 42, "type": "private"}}},
    {"update_id": 13, "edited_message": {"text": "x"}}
  ])");
  const auto polled = parse_updates(result, 0);
  ASSERT_EQ(polled.messages.size(), 2u);
  EXPECT_EQ(polled.next_offset, 14);
  EXPECT_EQ(polled.messages[0].chat_key, "42");
  EXPECT_EQ(polled.messages[0].username, "ann");
  EXPECT_EQ(polled.messages[0].text, "hi");
  EXPECT_EQ(polled.messages[0].message_id, 5);
  EXPECT_EQ(polled.messages[1].chat_key, "-100:8");  // each member of a group on their own
  EXPECT_EQ(polled.messages[1].user_id, 8);
}

TEST(BotApiUpdates, MalformedUpdatesAreSkippedNotThrown) {
  const json result = json::parse(R"([
    7, "x", null, [], {},
    {"update_id": "20", "message": {"text": "id as a string", "chat": {"id": 1}}},
    {"update_id": 21, "message": "not an object"},
    {"update_id": 22, "message": {"text": 5, "chat": {"id": 1}}},
    {"update_id": 23, "message": {"text": "no chat"}},
    {"update_id": 24, "message": {"text": "chat as a string", "chat": "1"}},
    {"update_id": 25, "message": {"text": "chat id as a string", "chat": {"id": "1"}}},
    {"update_id": 26, "message": {"text": "from as a list", "chat": {"id": 3, "type": 9},
      "from": [1], "message_id": "x"}},
    {"update_id": 9223372036854775807, "message": {"text": "last", "chat": {"id": 4}}}
  ])");
  const auto polled = parse_updates(result, 5);
  ASSERT_EQ(polled.messages.size(), 2u);
  EXPECT_EQ(polled.messages[0].text, "from as a list");
  EXPECT_EQ(polled.messages[0].user_id, 0);
  EXPECT_EQ(polled.messages[0].message_id, 0);
  EXPECT_EQ(polled.messages[0].chat_key, "3");
  EXPECT_EQ(polled.messages[1].text, "last");
  EXPECT_EQ(polled.next_offset, 27) << "an update_id at the top of the range must not overflow";
  EXPECT_EQ(parse_updates(json::object(), 9).next_offset, 9);
  EXPECT_TRUE(parse_updates(json("x"), 9).messages.empty());
}

}  // namespace
}  // namespace hermes::daemon::telegram
