#pragma once

#include <string>

// Who may answer a tool's approval question, as a pure function: the question belongs to the
// chat it was asked in and, in a group, to the person whose message started the turn.
namespace hermes::daemon::chat {

struct ApprovalQuestion {
  long long chat_id = 0;
  long long asked_by = 0;  // the user whose message started the turn
  bool group = false;      // asked in a group, channel or thread
  bool answered = false;
};

struct ApprovalAnswer {
  long long chat_id = 0;  // where the press (or /approve) came from
  long long user_id = 0;
  bool allowed_user = false;  // on the platform's allowed_users
};

enum class ApprovalVerdict {
  counts,
  not_allowed,       // not on allowed_users
  other_chat,        // pressed in another chat (a forged or replayed press)
  other_person,      // in a group: not the one who asked
  answered_already,  // decided, timed out, or unknown
};

ApprovalVerdict judge_approval(const ApprovalQuestion& question, const ApprovalAnswer& answer);

// What the presser is told.
std::string approval_verdict_text(ApprovalVerdict verdict, bool approve);

// An approval id no one can guess from another (the ids of button data): 16 hex digits.
std::string new_approval_id();

}  // namespace hermes::daemon::chat
