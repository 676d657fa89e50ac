#include "daemon/platforms/discord/discord_events.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hermes::daemon::discord {
namespace {

using nlohmann::json;

constexpr long long kBot = 1100000000000000001;
constexpr const char* kBotId = "1100000000000000001";
constexpr const char* kAlice = "1234567890123456789";  // 19 digits: a double would round it

json dm(const std::string& content) {
  return {{"id", "1300000000000000001"},
          {"channel_id", "1200000000000000001"},
          {"type", 0},
          {"content", content},
          {"author", {{"id", kAlice}, {"username", "alice"}}},
          {"mentions", json::array()}};
}

json in_guild(json message) {
  message["guild_id"] = "1000000000000000001";
  return message;
}

TEST(DiscordSnowflakes, AreReadAsTextIntoSixtyFourBits) {
  EXPECT_EQ(snowflake(json{{"id", "1234567890123456789"}}, "id"), 1234567890123456789LL);
  EXPECT_EQ(snowflake(json{{"id", "9223372036854775807"}}, "id"), 9223372036854775807LL);
  EXPECT_EQ(snowflake(json{{"id", "9223372036854775808"}}, "id"), std::nullopt);  // past 2^63-1
  EXPECT_EQ(snowflake(json{{"id", 1234567890123456789LL}}, "id"), std::nullopt);  // not text
  EXPECT_EQ(snowflake(json{{"id", "12a"}}, "id"), std::nullopt);
  EXPECT_EQ(snowflake(json{{"id", ""}}, "id"), std::nullopt);
  EXPECT_EQ(snowflake(json{{"id", "0"}}, "id"), std::nullopt);
  EXPECT_EQ(snowflake(json::array(), "id"), std::nullopt);
}

TEST(DiscordMessages, ADirectMessageIsAlwaysAnswered) {
  const auto parsed = parse_message(dm("hello there"), kBot, {}, {});
  ASSERT_EQ(parsed.verdict, MessageVerdict::answer);
  const auto& in = *parsed.message;
  EXPECT_EQ(in.update_id, 1300000000000000001LL);
  EXPECT_EQ(in.message_id, 1300000000000000001LL);
  EXPECT_EQ(in.chat_id, 1200000000000000001LL);
  EXPECT_EQ(in.user_id, 1234567890123456789LL);
  EXPECT_EQ(std::to_string(in.user_id), kAlice);  // the allowed_users check compares text
  EXPECT_EQ(in.username, "alice");
  EXPECT_EQ(in.chat_key, "discord:dm:1200000000000000001");
  EXPECT_EQ(in.text, "hello there");
  EXPECT_EQ(in.media, "");
}

TEST(DiscordMessages, InAGuildOnlyWhatIsForTheBot) {
  const json bot_mention = {{"id", kBotId}, {"username", "hermes"}};
  const json other = {{"id", "1400000000000000001"}, {"username", "bob"}};
  struct Row {
    const char* name;
    json message;
    AddressRules rules;
    Threads threads;
    MessageVerdict verdict;
    std::string text;
  };
  auto mention = in_guild(dm(std::string("<@") + kBotId + "> what time is it?"));
  mention["mentions"] = json::array({bot_mention});
  auto old_form = in_guild(dm(std::string("hey <@!") + kBotId + ">"));
  old_form["mentions"] = json::array({bot_mention});
  auto reply = in_guild(dm("and then?"));
  reply["type"] = 19;
  reply["referenced_message"] = {{"author", bot_mention}};
  auto reply_to_other = in_guild(dm("and then?"));
  reply_to_other["referenced_message"] = {{"author", other}};
  auto to_bob = in_guild(dm("<@1400000000000000001> lunch?"));
  to_bob["mentions"] = json::array({other});
  auto everyone = in_guild(dm("@everyone standup"));
  everyone["mention_everyone"] = true;
  AddressRules free_general;
  free_general.free_response_channels = {"1200000000000000001"};
  AddressRules open;
  open.require_mention = false;
  AddressRules free_parent;
  free_parent.free_response_channels = {"1200000000000000009"};
  const Threads thread_of_free = {{1200000000000000001LL, 1200000000000000009LL}};
  const std::vector<Row> rows = {
      {"plain", in_guild(dm("hello")), {}, {}, MessageVerdict::not_addressed, ""},
      {"mention", mention, {}, {}, MessageVerdict::answer, "what time is it?"},
      {"older mention form", old_form, {}, {}, MessageVerdict::answer, "hey"},
      {"reply to the bot", reply, {}, {}, MessageVerdict::answer, "and then?"},
      {"reply to someone else", reply_to_other, {}, {}, MessageVerdict::not_addressed, ""},
      {"a command", in_guild(dm("/status")), {}, {}, MessageVerdict::answer, "/status"},
      {"free channel", in_guild(dm("hello")), free_general, {}, MessageVerdict::answer, "hello"},
      {"free channel, said to bob", to_bob, free_general, {}, MessageVerdict::not_addressed, ""},
      {"free channel, @everyone", everyone, free_general, {}, MessageVerdict::not_addressed, ""},
      {"require_mention false", in_guild(dm("hi")), open, {}, MessageVerdict::answer, "hi"},
      {"thread of a free channel", in_guild(dm("hi")), free_parent, thread_of_free,
       MessageVerdict::answer, "hi"},
  };
  for (const auto& row : rows) {
    const auto parsed = parse_message(row.message, kBot, row.rules, row.threads);
    EXPECT_EQ(parsed.verdict, row.verdict) << row.name;
    if (row.verdict == MessageVerdict::answer && parsed.message) {
      EXPECT_EQ(parsed.message->text, row.text) << row.name;
    }
  }
}

TEST(DiscordMessages, BotsSystemMessagesAndBrokenOnesAreNotAnswered) {
  auto own = dm("my own reply");
  own["author"] = {{"id", kBotId}, {"username", "hermes"}, {"bot", true}};
  auto other_bot = dm("beep");
  other_bot["author"] = {{"id", "1500000000000000001"}, {"bot", true}};
  auto webhook = dm("from a webhook");
  webhook["webhook_id"] = "1600000000000000001";
  auto join = dm("");
  join["type"] = 7;
  auto no_author = dm("hi");
  no_author.erase("author");
  auto numeric_id = dm("hi");
  numeric_id["id"] = 1300000000000000001LL;
  auto only_mention = in_guild(dm(std::string("<@") + kBotId + ">"));
  only_mention["mentions"] = json::array({{{"id", kBotId}}});
  EXPECT_EQ(parse_message(own, kBot, {}, {}).verdict, MessageVerdict::from_a_bot);
  EXPECT_EQ(parse_message(other_bot, kBot, {}, {}).verdict, MessageVerdict::from_a_bot);
  EXPECT_EQ(parse_message(webhook, kBot, {}, {}).verdict, MessageVerdict::from_a_bot);
  EXPECT_EQ(parse_message(join, kBot, {}, {}).verdict, MessageVerdict::not_a_message);
  EXPECT_EQ(parse_message(only_mention, kBot, {}, {}).verdict, MessageVerdict::not_a_message);
  EXPECT_EQ(parse_message(no_author, kBot, {}, {}).verdict, MessageVerdict::malformed);
  EXPECT_EQ(parse_message(numeric_id, kBot, {}, {}).verdict, MessageVerdict::malformed);
  EXPECT_EQ(parse_message(json("text"), kBot, {}, {}).verdict, MessageVerdict::malformed);
  EXPECT_EQ(parse_message(json{{"author", "x"}, {"mentions", 3}}, kBot, {}, {}).verdict,
            MessageVerdict::malformed);
}

TEST(DiscordMessages, AttachmentsAndStickersWithoutTextAreNamedForTheNote) {
  auto picture = dm("");
  picture["attachments"] = json::array({{{"id", "1"}, {"filename", "cat.png"}}});
  auto sticker = dm("");
  sticker["sticker_items"] = json::array({{{"id", "2"}, {"name", "wave"}}});
  auto captioned = dm("look at this");
  captioned["attachments"] = json::array({{{"id", "1"}}});
  EXPECT_EQ(parse_message(picture, kBot, {}, {}).message->media, "attachment");
  EXPECT_EQ(parse_message(sticker, kBot, {}, {}).message->media, "sticker");
  const auto with_text = parse_message(captioned, kBot, {}, {});
  EXPECT_EQ(with_text.message->media, "");
  EXPECT_EQ(with_text.message->text, "look at this");
}

TEST(DiscordSessions, AThreadIsItsOwnSessionAndChannelsArePerPerson) {
  Threads threads;
  learn_threads("THREAD_CREATE",
                {{"id", "1700000000000000001"}, {"parent_id", "1200000000000000001"}, {"type", 11}},
                threads);
  learn_threads("GUILD_CREATE",
                {{"threads", json::array({{{"id", "1700000000000000002"},
                                           {"parent_id", "1200000000000000001"},
                                           {"type", 12}}})}},
                threads);
  learn_threads("THREAD_CREATE", {{"id", "1700000000000000003"}, {"parent_id", "1"}, {"type", 0}},
                threads);
  EXPECT_EQ(threads.size(), 2u);  // a text channel (type 0) is no thread
  EXPECT_EQ(chat_key(1700000000000000001LL, true, 42, threads, true),
            "discord:thread:1200000000000000001:1700000000000000001:42");
  EXPECT_EQ(chat_key(1200000000000000001LL, true, 42, threads, true),
            "discord:channel:1200000000000000001:42");
  EXPECT_EQ(chat_key(1200000000000000001LL, true, 42, threads, false),
            "discord:channel:1200000000000000001");
  EXPECT_EQ(chat_key(1200000000000000001LL, false, 42, threads, true),
            "discord:dm:1200000000000000001");
  learn_threads("THREAD_DELETE", {{"id", "1700000000000000001"}}, threads);
  EXPECT_EQ(threads.size(), 1u);
  learn_threads("GUILD_CREATE", {{"threads", "nope"}}, threads);  // malformed: ignored
  EXPECT_EQ(threads.size(), 1u);
}

TEST(DiscordInteractions, CommandsAndButtonsFromGuildsAndDms) {
  const json command = {{"id", "1800000000000000001"},
                        {"type", 2},
                        {"token", "tok"},
                        {"channel_id", "1200000000000000001"},
                        {"guild_id", "1000000000000000001"},
                        {"member", {{"user", {{"id", kAlice}, {"username", "alice"}}}}},
                        {"data", {{"name", "stop"}}}};
  const auto parsed = parse_interaction(command);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->kind, Interaction::Kind::command);
  EXPECT_EQ(parsed->name, "stop");
  EXPECT_EQ(parsed->user_id, 1234567890123456789LL);
  EXPECT_TRUE(parsed->guild);
  json button = command;
  button.erase("guild_id");
  button.erase("member");
  button["type"] = 3;
  button["user"] = {{"id", kAlice}};
  button["data"] = {{"custom_id", "approve:7"}};
  const auto pressed = parse_interaction(button);
  ASSERT_TRUE(pressed);
  EXPECT_EQ(pressed->kind, Interaction::Kind::button);
  EXPECT_EQ(pressed->name, "approve:7");
  EXPECT_FALSE(pressed->guild);
  json no_token = command;
  no_token.erase("token");
  EXPECT_FALSE(parse_interaction(no_token));
  json ping = command;
  ping["type"] = 1;
  EXPECT_EQ(parse_interaction(ping)->kind, Interaction::Kind::other);
}

TEST(DiscordReady, GivesTheSessionToResumeAndWhoTheBotIs) {
  const auto ready = parse_ready({{"v", 10},
                                  {"session_id", "abc"},
                                  {"resume_gateway_url", "wss://resume.example"},
                                  {"user", {{"id", kBotId}, {"username", "hermes"}}},
                                  {"application", {{"id", "1900000000000000001"}}}});
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->session_id, "abc");
  EXPECT_EQ(ready->resume_url, "wss://resume.example");
  EXPECT_EQ(ready->bot_id, kBot);
  EXPECT_EQ(ready->application_id, 1900000000000000001LL);
  EXPECT_FALSE(parse_ready({{"user", {{"id", kBotId}}}}));  // no session
  EXPECT_FALSE(parse_ready({{"session_id", "abc"}, {"user", {{"id", 5}}}}));
}

TEST(DiscordCommands, TheSharedCommandsAreRegistered) {
  std::vector<std::string> names;
  for (const auto& command : application_commands()) names.push_back(command["name"]);
  EXPECT_THAT(names, ::testing::ElementsAre("stop", "new", "status", "usage", "help"));
}

}  // namespace
}  // namespace hermes::daemon::discord
