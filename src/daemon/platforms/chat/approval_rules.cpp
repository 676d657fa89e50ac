#include "daemon/platforms/chat/approval_rules.hpp"

#include <cstdio>
#include <random>

namespace hermes::daemon::chat {

ApprovalVerdict judge_approval(const ApprovalQuestion& question, const ApprovalAnswer& answer) {
  if (!answer.allowed_user) return ApprovalVerdict::not_allowed;
  if (question.answered) return ApprovalVerdict::answered_already;
  if (answer.chat_id != question.chat_id) return ApprovalVerdict::other_chat;
  if (question.group && answer.user_id != question.asked_by) return ApprovalVerdict::other_person;
  return ApprovalVerdict::counts;
}

std::string approval_verdict_text(ApprovalVerdict verdict, bool approve) {
  switch (verdict) {
    case ApprovalVerdict::counts:
      return approve ? "Approved" : "Denied";
    case ApprovalVerdict::not_allowed:
      return "Only an allowed user can answer this.";
    case ApprovalVerdict::other_chat:
      return "This question belongs to another chat.";
    case ApprovalVerdict::other_person:
      return "Only the person who asked can answer this.";
    case ApprovalVerdict::answered_already:
      return "This question is answered already.";
  }
  return "This question is answered already.";
}

std::string new_approval_id() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random()));
  return text;
}

}  // namespace hermes::daemon::chat
