#include "daemon/builtin/memory_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace hermes::daemon::builtin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct EditCase {
  std::string store;
  MemoryAction action;
  std::string content;
  std::string old_text;
  std::size_t limit;
  bool ok;
  std::string text_or_message;  // the new store when ok, else a part of the message
};

TEST(MemoryEdit, Table) {
  const std::string long_entry(2192, 'x');  // + "\n§\n" (3) + 5 or 6
  const std::vector<EditCase> cases{
      {"", MemoryAction::add, "likes tea", "", 100, true, "likes tea"},
      {"likes tea", MemoryAction::add, "lives in Lyon", "", 100, true,
       "likes tea\n§\nlives in Lyon"},
      {"likes tea\n§\nlives in Lyon", MemoryAction::replace, "lives in Paris", "Lyon", 100, true,
       "likes tea\n§\nlives in Paris"},
      {"likes tea\n§\nlives in Lyon", MemoryAction::remove, "", "tea", 100, true, "lives in Lyon"},
      {"likes tea", MemoryAction::remove, "", "coffee", 100, false, "no entry"},
      {"likes tea\n§\nlikes tea cakes", MemoryAction::remove, "", "tea", 100, false, "2 entries"},
      {"likes tea", MemoryAction::replace, "x", "", 100, false, "old_text is required"},
      {"", MemoryAction::add, "", "", 100, false, "content is required"},
      {"", MemoryAction::add, "a\n§\nb", "", 100, false, "one entry"},
      // The limit counts the whole store, separators included, in code points.
      {long_entry, MemoryAction::add, "123456", "", 2200, false, "2201 of 2200 characters"},
      {long_entry, MemoryAction::add, "12345", "", 2200, true, long_entry + "\n§\n12345"},
      {"", MemoryAction::add, "ééé", "", 3, true, "ééé"},
      {"", MemoryAction::add, "éééé", "", 3, false, "4 of 3 characters"},
  };
  for (const auto& c : cases) {
    const auto edit = edit_memory(c.store, c.action, c.content, c.old_text, c.limit, "notes");
    EXPECT_EQ(edit.ok, c.ok) << c.content << " / " << c.old_text << ": " << edit.message;
    if (c.ok) {
      EXPECT_EQ(edit.text, c.text_or_message);
    } else {
      EXPECT_THAT(edit.message, HasSubstr(c.text_or_message));
    }
  }
}

TEST(MemoryFiles, EachUserHasOwnFileAndBothEnterThePromptBlock) {
  char dir_template[] = "/tmp/hermes-memory-XXXXXX";
  const std::filesystem::path home = ::mkdtemp(dir_template);
  const MemoryFiles files(home);
  EXPECT_EQ(files.prompt_block("telegram-1"), "");
  EXPECT_THAT(files.apply(R"({"action":"add","target":"notes","content":"the repo is at ~/src"})",
                          "telegram-1"),
              StartsWith("Saved to your notes"));
  EXPECT_THAT(
      files.apply(R"({"action":"add","target":"user","content":"prefers French"})", "telegram-1"),
      StartsWith("Saved"));
  EXPECT_THAT(files.prompt_block("telegram-1"), HasSubstr("prefers French"));
  EXPECT_THAT(files.prompt_block("telegram-1"), HasSubstr("the repo is at ~/src"));
  EXPECT_THAT(files.prompt_block("telegram-2"), Not(HasSubstr("prefers French")));
  EXPECT_TRUE(std::filesystem::exists(home / "memories/users/telegram-1.md"));
  EXPECT_THAT(files.apply(R"({"action":"add","target":"user","content":"x"})", ""),
              StartsWith("Error: this conversation has no platform user"));
  EXPECT_THAT(files.apply(R"({"action":"forget","target":"user"})", "telegram-1"),
              StartsWith("Error: action is"));
  EXPECT_EQ(user_key("slack", "U12/../x"), "slack-U12____x");
  std::filesystem::remove_all(home);
}

}  // namespace
}  // namespace hermes::daemon::builtin
