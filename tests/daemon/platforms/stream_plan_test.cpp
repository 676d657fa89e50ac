// The streamed reply's plan: when the first message goes out, how often it is edited, and
// where a full message freezes and the answer continues in a new one.
#include "daemon/platforms/chat/stream_plan.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::chat {
namespace {

using std::chrono::milliseconds;

StreamView view(std::string live, bool sent, std::string shown, long since_start_ms,
                long since_edit_ms, bool blocked = false) {
  StreamView v;
  v.live = std::move(live);
  v.sent = sent;
  v.shown = std::move(shown);
  v.since_start = milliseconds(since_start_ms);
  v.since_last_edit = milliseconds(since_edit_ms);
  v.blocked = blocked;
  return v;
}

TEST(StreamPlan, FirstMessageOnceThereIsEnoughTextThenEditsAtMostEverySoOften) {
  const StreamSettings private_chat;
  StreamSettings group;
  group.edit_every = milliseconds(3000);
  struct Case {
    const char* name;
    StreamView view;
    const StreamSettings& settings;
    StreamAction action;
  };
  const std::string forty(40, 'x');
  const Case cases[] = {
      {"no text yet", view("", false, "", 5000, 0), private_chat, StreamAction::wait},
      {"a little text, early", view("Hi", false, "", 300, 0), private_chat, StreamAction::wait},
      {"a little text after 1 s", view("Hi", false, "", 1000, 0), private_chat, StreamAction::send},
      {"40 characters at once", view(forty, false, "", 10, 0), private_chat, StreamAction::send},
      {"shown already", view("Hi", true, "Hi", 5000, 5000), private_chat, StreamAction::wait},
      {"more text, too soon", view("Hi there", true, "Hi", 5000, 900), private_chat,
       StreamAction::wait},
      {"more text, a second on", view("Hi there", true, "Hi", 5000, 1000), private_chat,
       StreamAction::edit},
      {"group: a second is too soon", view("Hi there", true, "Hi", 5000, 1000), group,
       StreamAction::wait},
      {"group: three seconds", view("Hi there", true, "Hi", 5000, 3000), group, StreamAction::edit},
      {"a 429 asked to wait", view("Hi there", true, "Hi", 5000, 9000, true), private_chat,
       StreamAction::wait},
  };
  for (const auto& c : cases) {
    const auto step = next_stream_step(c.view, c.settings);
    EXPECT_EQ(step.action, c.action) << c.name;
    if (step.action == StreamAction::send || step.action == StreamAction::edit) {
      EXPECT_EQ(step.text, c.view.live) << c.name << ": always the whole text so far";
    }
  }
}

TEST(StreamPlan, AFullMessageFreezesAtAWordAndTheRestGoesOn) {
  std::string live;
  while (live.size() < 5000) live += "word ";
  const auto step = next_stream_step(view(live, true, "word", 9000, 9000), StreamSettings{});
  ASSERT_EQ(step.action, StreamAction::freeze);
  EXPECT_LE(step.text.size(), 4096u);
  EXPECT_TRUE(live.starts_with(step.text));
  EXPECT_TRUE(step.text.ends_with("word") || step.text.ends_with("word ")) << "cut at a word";
  // Blocked or not, a full message is frozen: the text must go somewhere.
  EXPECT_EQ(next_stream_step(view(live, true, "word", 9000, 0, true), StreamSettings{}).action,
            StreamAction::freeze);
}

}  // namespace
}  // namespace hermes::daemon::chat
