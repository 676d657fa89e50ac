#include "daemon/platforms/chat/approval_rules.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace hermes::daemon::chat {
namespace {

TEST(ApprovalRules, AQuestionBelongsToItsChatAndInAGroupToWhoeverAsked) {
  const ApprovalQuestion dm{111, 111, false, false};
  const ApprovalQuestion group{-500, 111, true, false};
  struct Row {
    const char* name;
    ApprovalQuestion question;
    ApprovalAnswer answer;
    ApprovalVerdict verdict;
  };
  const Row rows[] = {
      {"the asker, in the chat", dm, {111, 111, true}, ApprovalVerdict::counts},
      {"another allowed user, from their own chat",
       dm,
       {333, 333, true},
       ApprovalVerdict::other_chat},
      {"not allowed", dm, {111, 999, false}, ApprovalVerdict::not_allowed},
      {"answered already",
       {111, 111, false, true},
       {111, 111, true},
       ApprovalVerdict::answered_already},
      {"the asker, in the group", group, {-500, 111, true}, ApprovalVerdict::counts},
      {"another member of the group", group, {-500, 333, true}, ApprovalVerdict::other_person},
      {"the asker, from elsewhere", group, {111, 111, true}, ApprovalVerdict::other_chat},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(judge_approval(row.question, row.answer), row.verdict) << row.name;
  }
  EXPECT_EQ(approval_verdict_text(ApprovalVerdict::counts, true), "Approved");
  EXPECT_EQ(approval_verdict_text(ApprovalVerdict::counts, false), "Denied");
  EXPECT_THAT(approval_verdict_text(ApprovalVerdict::other_chat, true),
              ::testing::HasSubstr("another chat"));
}

TEST(ApprovalRules, IdsAreNotSequential) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_approval_id();
    EXPECT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_NE(std::stoull(new_approval_id(), nullptr, 16) + 1,
            std::stoull(new_approval_id(), nullptr, 16));
}

}  // namespace
}  // namespace hermes::daemon::chat
