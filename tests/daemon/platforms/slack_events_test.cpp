#include "daemon/platforms/slack/slack_events.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hermes::daemon::slack {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kBot = "UBOT0001";

json event_payload(json event) {
  return {{"event_id", "Ev0001"}, {"event_time", 1700000000}, {"event", std::move(event)}};
}

TEST(SlackIds, TimestampsRoundTripAndOneMessageHasOneId) {
  EXPECT_EQ(ts_number("1700000000.000100"), 1700000000000100LL);
  EXPECT_EQ(ts_text(1700000000000100LL), "1700000000.000100");
  EXPECT_EQ(ts_text(*ts_number("1699999999.123456")), "1699999999.123456");
  for (const char* bad :
       {"", "1700000000", "1700000000.1", ".000100", "17x0.000100", "1700000000.0001000",
        "-1.000100", "0000.000000"}) {  // the epoch itself: ids must be above 0 (fuzz find)
    EXPECT_EQ(ts_number(bad), std::nullopt) << bad;
  }
  // Later messages sort later; one ts in two channels is two messages.
  EXPECT_LT(message_number("C1", "1700000000.000100"), message_number("C1", "1700000000.000200"));
  EXPECT_NE(message_number("C1", "1700000000.000100"), message_number("C2", "1700000000.000100"));
  EXPECT_GT(conversation_number("C1", ""), 0);
  EXPECT_NE(conversation_number("C1", ""), conversation_number("C1", "1700000000.000100"));
  EXPECT_NE(user_number("U1"), user_number("U2"));
  EXPECT_NE(command_number("1.2.abc"), command_number("1.2.abd"));
}

TEST(SlackIds, ASessionKeyNamesItsPlace) {
  struct Row {
    std::string key;
    std::optional<Place> place;
  };
  const std::vector<Row> rows = {
      {"slack:dm:D1", Place{"D1", ""}},
      {"slack:channel:C1:U1", Place{"C1", ""}},
      {"slack:thread:C1:1700000000.000100:U1", Place{"C1", "1700000000.000100"}},
      {"slack:thread:D1:1700000000.000100", Place{"D1", "1700000000.000100"}},
      {"slack:thread:C1", std::nullopt},
      {"slack:thread:C1:nonsense", std::nullopt},
      {"discord:dm:1", std::nullopt},
      {"slack:weird:C1", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& row : rows) EXPECT_EQ(place_of_key(row.key), row.place) << row.key;
  // The keys the events make are read back to the same place.
  const Place thread{"C1", "1700000000.000100"};
  EXPECT_EQ(place_of_key(chat_key(thread, false, "U1", true)), thread);
  EXPECT_EQ(place_of_key(chat_key({"D1", ""}, true, "U1", true)), (Place{"D1", ""}));
}

TEST(SlackEvents, WhatIsForTheBotAndWhereItsReplyGoes) {
  struct Row {
    const char* name;
    json event;
    bool require_mention;
    EventVerdict verdict;
    std::string text = {};
    std::string key = {};
    std::string thread = {};
    std::string media = {};
  };
  const json dm = {{"type", "message"},
                   {"channel", "D1"},
                   {"user", "U1"},
                   {"text", "hi &amp; &lt;b&gt;"},
                   {"ts", "1700000000.000100"},
                   {"channel_type", "im"}};
  json in_channel = dm;
  in_channel["channel"] = "C1";
  in_channel["channel_type"] = "channel";
  in_channel["text"] = "hello all";
  json mention = {{"type", "app_mention"},
                  {"channel", "C1"},
                  {"user", "U1"},
                  {"text", "<@UBOT0001> what time is it"},
                  {"ts", "1700000000.000200"}};
  json mention_in_thread = mention;
  mention_in_thread["thread_ts"] = "1700000000.000100";
  json own = dm;
  own["user"] = kBot;
  json other_bot = dm;
  other_bot["bot_id"] = "B9";
  json edit = dm;
  edit["subtype"] = "message_changed";
  json join = in_channel;
  join["subtype"] = "channel_join";
  json file = dm;
  file["text"] = "";
  file["subtype"] = "file_share";
  file["files"] = json::array({{{"mimetype", "image/png"}}});
  json only_mention = mention;
  only_mention["text"] = "<@UBOT0001>";
  json no_user = dm;
  no_user.erase("user");
  json bad_ts = dm;
  bad_ts["ts"] = 17;
  json bad_thread = mention;
  bad_thread["thread_ts"] = "1700000.0001p0";  // found by fuzz_slack_events
  json bad_channel = dm;
  bad_channel["channel"] = "D1:x";  // would break the session key
  const std::vector<Row> rows = {
      {"a DM", dm, true, EventVerdict::answer, "hi & <b>", "slack:dm:D1", ""},
      {"a channel message", in_channel, true, EventVerdict::not_addressed},
      {"a channel message, mentions not required", in_channel, false, EventVerdict::answer,
       "hello all", "slack:thread:C1:1700000000.000100:U1", "1700000000.000100"},
      {"a mention", mention, true, EventVerdict::answer, "what time is it",
       "slack:thread:C1:1700000000.000200:U1", "1700000000.000200"},
      {"a mention in a thread", mention_in_thread, true, EventVerdict::answer, "what time is it",
       "slack:thread:C1:1700000000.000100:U1", "1700000000.000100"},
      {"the bot's own post", own, true, EventVerdict::from_a_bot},
      {"another bot", other_bot, true, EventVerdict::from_a_bot},
      {"an edit", edit, true, EventVerdict::not_a_message},
      {"a join", join, false, EventVerdict::not_a_message},
      {"an image", file, true, EventVerdict::answer, "", "slack:dm:D1", "", "photo"},
      {"only a mention", only_mention, true, EventVerdict::not_a_message},
      {"no user", no_user, true, EventVerdict::malformed},
      {"a ts that is not one", bad_ts, true, EventVerdict::malformed},
      {"a thread_ts that is not one", bad_thread, true, EventVerdict::malformed},
      {"a channel that is not an id", bad_channel, true, EventVerdict::malformed},
      {"not an event", json::array(), true, EventVerdict::malformed},
  };
  for (const auto& row : rows) {
    const auto parsed = parse_event(event_payload(row.event), kBot, {row.require_mention, true});
    EXPECT_EQ(parsed.verdict, row.verdict) << row.name;
    if (row.verdict != EventVerdict::answer) continue;
    ASSERT_TRUE(parsed.message) << row.name;
    EXPECT_EQ(parsed.message->text, row.text) << row.name;
    EXPECT_EQ(parsed.message->chat_key, row.key) << row.name;
    EXPECT_EQ(parsed.message->media, row.media) << row.name;
    EXPECT_EQ(parsed.message->username, "U1") << row.name;
    EXPECT_EQ(parsed.place.thread_ts, row.thread) << row.name;
    EXPECT_EQ(parsed.message->chat_id, conversation_number(parsed.place.channel, row.thread))
        << row.name;
  }
  // A mention that also arrives as a message (same channel and ts) is one inbox entry.
  json as_message = mention;
  as_message["type"] = "message";
  as_message["channel_type"] = "channel";
  EXPECT_EQ(parse_event(event_payload(mention), kBot, {}).message->update_id,
            parse_event(event_payload(as_message), kBot, {}).message->update_id);
}

TEST(SlackSocket, MessagesAndAcknowledgements) {
  const auto hello = parse_socket_message(R"({"type":"hello","num_connections":1})");
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->kind, SocketMessage::Kind::hello);
  const auto bye = parse_socket_message(R"({"type":"disconnect","reason":"refresh_requested"})");
  EXPECT_EQ(bye->kind, SocketMessage::Kind::disconnect);
  EXPECT_EQ(bye->reason, "refresh_requested");
  const auto envelope = parse_socket_message(
      R"({"envelope_id":"e1","type":"events_api","payload":{"event_id":"Ev1"},"retry_attempt":2})");
  EXPECT_EQ(envelope->kind, SocketMessage::Kind::envelope);
  EXPECT_EQ(envelope->type, "events_api");
  EXPECT_EQ(envelope->retry_attempt, 2);
  EXPECT_EQ(envelope->payload["event_id"], "Ev1");
  EXPECT_EQ(parse_socket_message(R"({"type":"surprise"})")->kind, SocketMessage::Kind::other);
  EXPECT_EQ(parse_socket_message("not json"), std::nullopt);
  EXPECT_EQ(parse_socket_message("[1]"), std::nullopt);
  EXPECT_EQ(json::parse(acknowledgement("e1")), (json{{"envelope_id", "e1"}}));
  EXPECT_EQ(json::parse(acknowledgement("e1", {{"text", "no"}}))["payload"]["text"], "no");
}

TEST(SlackSocket, AuthErrorsThatNoRetryCuresSayWhatToFix) {
  EXPECT_THAT(*fatal_auth_error("invalid_auth", true),
              HasSubstr("Slack refused the app-level token (invalid_auth)"));
  EXPECT_THAT(*fatal_auth_error("not_allowed_token_type", true), HasSubstr("xapp-"));
  EXPECT_THAT(*fatal_auth_error("missing_scope", true), HasSubstr("connections:write"));
  EXPECT_THAT(*fatal_auth_error("link_disabled", true), HasSubstr("Socket Mode"));
  EXPECT_THAT(*fatal_auth_error("token_revoked", false), HasSubstr("gateway.slack.bot_token"));
  EXPECT_EQ(fatal_auth_error("ratelimited", true), std::nullopt);
  EXPECT_EQ(fatal_auth_error("internal_error", false), std::nullopt);
}

TEST(SlackCommands, SlashCommandsAndPresses) {
  const json payload = {{"channel_id", "C1"},         {"user_id", "U1"},
                        {"command", "/hermes"},       {"text", " Status please"},
                        {"response_url", "http://r"}, {"trigger_id", "1.2.a"}};
  auto command = parse_slash_command(payload);
  ASSERT_TRUE(command);
  EXPECT_EQ(command_text(*command), "/status");
  for (const auto& [text, expected] :
       std::vector<std::pair<std::string, std::string>>{{"stop", "/stop"},
                                                        {"NEW", "/new"},
                                                        {"usage", "/usage"},
                                                        {"", "/help"},
                                                        {"rm -rf", "/help"},
                                                        {"/stop", "/stop"}}) {
    command->text = text;
    EXPECT_EQ(command_text(*command), expected) << text;
  }
  EXPECT_EQ(parse_slash_command({{"channel_id", "C1"}}), std::nullopt);
  const json press = {
      {"type", "block_actions"},
      {"user", {{"id", "U1"}}},
      {"channel", {{"id", "C1"}}},
      {"container", {{"message_ts", "1700000000.000300"}}},
      {"message", {{"ts", "1700000000.000300"}, {"thread_ts", "1700000000.000100"}}},
      {"response_url", "http://r"},
      {"actions", json::array({{{"value", "approve:ab12"}}})}};
  const auto action = parse_button_action(press);
  ASSERT_TRUE(action);
  EXPECT_EQ(action->value, "approve:ab12");
  EXPECT_EQ(action->thread_ts, "1700000000.000100");
  EXPECT_EQ(action->message_ts, "1700000000.000300");
  json not_ours = press;
  not_ours["type"] = "view_submission";
  EXPECT_EQ(parse_button_action(not_ours), std::nullopt);
  json no_value = press;
  no_value["actions"] = json::array();
  EXPECT_EQ(parse_button_action(no_value), std::nullopt);
}

TEST(SlackCommands, AnswersGoOnlyToSlacksHooksHost) {
  struct Row {
    const char* api_base;
    const char* url;
    bool allowed;
  };
  const std::vector<Row> rows = {
      {"https://slack.com/api", "https://hooks.slack.com/commands/T1/2/abc", true},
      {"https://slack.com/api", "http://hooks.slack.com/commands/T1/2/abc", false},
      {"https://slack.com/api", "https://hooks.slack.com.evil.example/x", false},
      {"https://slack.com/api", "http://169.254.169.254/latest/meta-data", false},
      {"https://slack.com/api", "", false},
      {"http://127.0.0.1:9/api", "http://127.0.0.1:9/response/1", true},
      {"http://127.0.0.1:9/api", "file:///etc/passwd", false},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(response_url_allowed(row.api_base, row.url), row.allowed) << row.url;
  }
}

TEST(SlackText, EscapedSoModelTextCannotPingAndButtonsAreBlocks) {
  EXPECT_EQ(escape_text("<!channel> & <@U1> > x"), "&lt;!channel&gt; &amp; &lt;@U1&gt; &gt; x");
  EXPECT_EQ(escape_text("plain"), "plain");
  const auto blocks = blocks_of("May I run echo?", {{"Approve", "a:1"}, {"Deny", "d:1"}});
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0]["text"]["text"], "May I run echo?");
  EXPECT_EQ(blocks[1]["elements"][0]["value"], "a:1");
  EXPECT_EQ(blocks[1]["elements"][1]["style"], "danger");
  EXPECT_NE(blocks[1]["elements"][0]["action_id"], blocks[1]["elements"][1]["action_id"]);
  // A section holds 3,000 characters: a longer question is cut at a character boundary.
  const std::string long_text(2998, 'a');
  const auto cut = blocks_of(long_text + "ééé", {})[0]["text"]["text"].get<std::string>();
  EXPECT_LE(cut.size(), 3000u);
  EXPECT_TRUE(cut.ends_with("…"));
}

}  // namespace
}  // namespace hermes::daemon::slack
