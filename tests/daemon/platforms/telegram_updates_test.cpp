// Telegram updates as the gateway reads them: which messages are answered, in which chat,
// whether a group message is for the bot, and media without text.
#include "daemon/platforms/telegram/telegram_updates.hpp"

#include <gtest/gtest.h>

#include "daemon/platforms/chat/backoff.hpp"

namespace hermes::daemon::telegram {
namespace {

using nlohmann::json;

const BotIdentity kBot{666, "TestNameBot"};

json group_message(const json& extra) {
  json message = {{"message_id", 9},
                  {"chat", {{"id", -100}, {"type", "supergroup"}, {"title", "team"}}},
                  {"from", {{"id", 7}, {"username", "ann"}}}};
  message.update(extra);
  return {{"update_id", 50}, {"message", message}};
}

TEST(TelegramUpdates, AGroupMessageIsForTheBotOnlyWhenItMentionsCommandsOrRepliesToIt) {
  struct Case {
    const char* name;
    json extra;
    bool addressed;
  };
  const Case cases[] = {
      {"plain chatter", {{"text", "lunch at noon?"}}, false},
      {"mention", {{"text", "@TestNameBot what is 2+2"}}, true},
      {"mention, other case", {{"text", "hey @testnamebot!"}}, true},
      {"a longer name is another bot", {{"text", "@TestNameBotX hi"}}, false},
      {"an e-mail is no mention", {{"text", "write to me@TestNameBot.example"}}, false},
      {"command", {{"text", "/status"}}, true},
      {"command to this bot", {{"text", "/status@TestNameBot"}}, true},
      {"command to another bot", {{"text", "/status@OtherBot"}}, false},
      {"reply to the bot",
       {{"text", "and then?"}, {"reply_to_message", {{"from", {{"id", 666}}}}}},
       true},
      {"reply to someone else",
       {{"text", "ok"}, {"reply_to_message", {{"from", {{"id", 8}}}}}},
       false},
      {"text mention of its id",
       {{"text", "Bot, help"},
        {"entities",
         json::array(
             {{{"type", "text_mention"}, {"offset", 0}, {"length", 3}, {"user", {{"id", 666}}}}})}},
       true},
      {"caption mention", {{"photo", json::array()}, {"caption", "@TestNameBot look"}}, true},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_update(group_message(c.extra), kBot);
    ASSERT_TRUE(parsed.message) << c.name;
    EXPECT_TRUE(parsed.group) << c.name;
    EXPECT_EQ(parsed.addressed, c.addressed) << c.name;
    EXPECT_EQ(parsed.message->chat_key, "telegram:group:-100:7") << c.name;
  }
  const json chatter = json::array(
      {group_message({{"text", "lunch?"}}), group_message({{"text", "@TestNameBot hi"}})});
  auto polled = parse_updates(chatter, 0, kBot, true);
  EXPECT_EQ(polled.messages.size(), 1u);
  EXPECT_EQ(polled.skipped_unaddressed, 1);
  EXPECT_EQ(polled.next_offset, 51) << "skipped messages move the offset too";
  EXPECT_EQ(parse_updates(chatter, 0, kBot, false).messages.size(), 2u);
}

TEST(TelegramUpdates, MediaWithoutTextIsRecordedAndACaptionIsReadAsText) {
  struct Case {
    const char* name;
    json extra;
    const char* media;
    const char* text;
  };
  const Case cases[] = {
      {"photo", {{"photo", json::array({{{"file_id", "a"}, {"width", 90}}})}}, "photo", ""},
      {"photo with a caption",
       {{"photo", json::array()}, {"caption", "what is this?"}},
       "",
       "what is this?"},
      {"voice", {{"voice", {{"file_id", "v"}, {"duration", 3}}}}, "voice", ""},
      {"video", {{"video", {{"file_id", "v"}}}}, "video", ""},
      {"sticker", {{"sticker", {{"file_id", "s"}, {"emoji", "👍"}}}}, "sticker", ""},
      {"document", {{"document", {{"file_id", "d"}, {"file_name", "a.pdf"}}}}, "document", ""},
  };
  for (const auto& c : cases) {
    json message = {
        {"message_id", 3}, {"chat", {{"id", 42}, {"type", "private"}}}, {"from", {{"id", 42}}}};
    message.update(c.extra);
    const auto parsed = parse_update({{"update_id", 1}, {"message", message}}, kBot);
    ASSERT_TRUE(parsed.message) << c.name;
    EXPECT_EQ(parsed.message->media, c.media) << c.name;
    EXPECT_EQ(parsed.message->text, c.text) << c.name;
    EXPECT_TRUE(parsed.addressed) << "private chats are always for the bot";
  }
  const auto service =
      parse_update(json::parse(R"({"update_id": 2, "message": {"chat": {"id": 1, "type": "group"},
        "new_chat_members": [{"id": 5}]}})"),
                   kBot);
  EXPECT_TRUE(service.update_id);
  EXPECT_FALSE(service.message) << "a service message has nothing to answer";
}

TEST(TelegramUpdates, MessagesAreTakenAndEveryUpdateMovesTheOffset) {
  const json result = json::parse(R"([
    {"update_id": 10, "message": {"message_id": 5, "text": "hi",
      "chat": {"id": 42, "type": "private"}, "from": {"id": 7, "username": "ann"}}},
    {"update_id": 11, "message": {"message_id": 6, "text": "in a group",
      "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 8}}},
    {"update_id": 12, "message": {"message_id": 7, "photo": [],
      "chat": {"id": 42, "type": "private"}}},
    {"update_id": 13, "edited_message": {"text": "x"}}
  ])");
  const auto polled = parse_updates(result, 0, {}, false);
  ASSERT_EQ(polled.messages.size(), 3u) << "the photo is recorded too, to be answered";
  EXPECT_EQ(polled.messages[2].media, "photo");
  EXPECT_EQ(polled.next_offset, 14);
  EXPECT_EQ(polled.messages[0].chat_key, "telegram:dm:42");
  EXPECT_EQ(polled.messages[0].username, "ann");
  EXPECT_EQ(polled.messages[0].text, "hi");
  EXPECT_EQ(polled.messages[0].message_id, 5);
  EXPECT_EQ(polled.messages[1].chat_key, "telegram:group:-100:8");  // each member on their own
  EXPECT_EQ(polled.messages[1].user_id, 8);
}

TEST(TelegramUpdates, SessionKeysFollowGroupSessionsPerUserAndForumTopics) {
  const json result = json::parse(R"([
    {"update_id": 1, "message": {"message_id": 5, "text": "/status",
      "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 8}}},
    {"update_id": 2, "message": {"message_id": 6, "text": "/status", "is_topic_message": true,
      "message_thread_id": 77, "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 8}}},
    {"update_id": 3, "message": {"message_id": 7, "text": "/status", "message_thread_id": 5,
      "chat": {"id": -100, "type": "supergroup"}, "from": {"id": 8}}}
  ])");
  const auto shared = parse_updates(result, 0, {}, false, false);
  ASSERT_EQ(shared.messages.size(), 3u);
  EXPECT_EQ(shared.messages[0].chat_key, "telegram:group:-100") << "one session for the group";
  EXPECT_EQ(shared.messages[1].chat_key, "telegram:thread:-100:77") << "a topic is its own";
  EXPECT_EQ(shared.messages[2].chat_key, "telegram:group:-100") << "a reply thread is no topic";
  const auto per_user = parse_updates(result, 0, {}, false, true);
  EXPECT_EQ(per_user.messages[1].chat_key, "telegram:thread:-100:77:8");
}

TEST(TelegramUpdates, MalformedUpdatesAreSkippedNotThrown) {
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
  const auto polled = parse_updates(result, 5, {}, false);
  ASSERT_EQ(polled.messages.size(), 2u);
  EXPECT_EQ(polled.messages[0].text, "from as a list");
  EXPECT_EQ(polled.messages[0].user_id, 0);
  EXPECT_EQ(polled.messages[0].message_id, 0);
  EXPECT_EQ(polled.messages[0].chat_key, "telegram:dm:3");
  EXPECT_EQ(polled.messages[1].text, "last");
  EXPECT_EQ(polled.next_offset, 27) << "an update_id at the top of the range must not overflow";
  EXPECT_EQ(parse_updates(json::object(), 9, {}, false).next_offset, 9);
  EXPECT_TRUE(parse_updates(json("x"), 9, {}, false).messages.empty());
}

TEST(TelegramUpdates, AnAnswerTooLargeToReadIsNarrowedToOneUpdateThenSkipped) {
  using Kind = OversizedStep::Kind;
  struct Row {
    long long offset;
    bool one_at_a_time;
    Kind kind;
    long long next_offset;
  };
  const Row rows[] = {
      {0, false, Kind::one_at_a_time, 0},  // a batch: maybe many updates, each readable
      {57, false, Kind::one_at_a_time, 0},
      {57, true, Kind::skip, 58},  // the one at the offset is too large alone
      {1, true, Kind::skip, 2},
      {0, true, Kind::stuck, 0},  // no offset yet: its id is unknown
      {-1, true, Kind::stuck, 0},
  };
  for (const auto& row : rows) {
    const auto step = after_oversized_answer(row.offset, row.one_at_a_time);
    EXPECT_EQ(step.kind, row.kind) << row.offset << " " << row.one_at_a_time;
    EXPECT_EQ(step.next_offset, row.next_offset) << row.offset << " " << row.one_at_a_time;
  }
}

TEST(TelegramBackoff, DoublesToItsCapAndStartsOverAfterASuccess) {
  using std::chrono::milliseconds;
  chat::Backoff backoff(milliseconds(500), milliseconds(3000));
  std::vector<long> waits;
  for (int i = 0; i < 6; ++i) waits.push_back(static_cast<long>(backoff.next().count()));
  EXPECT_EQ(waits, (std::vector<long>{500, 1000, 2000, 3000, 3000, 3000}));
  backoff.reset();
  EXPECT_EQ(backoff.peek(), milliseconds(500));
  EXPECT_EQ(chat::Backoff(milliseconds(800), milliseconds(100)).next(), milliseconds(800))
      << "a cap below the first wait is the first wait";
}

}  // namespace
}  // namespace hermes::daemon::telegram
