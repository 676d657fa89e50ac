#pragma once

#include <optional>
#include <string>
#include <string_view>

// Where a chat message was said, and the session it belongs to: one rule for every chat
// platform, pure and table-tested.
namespace hermes::daemon::chat {

enum class ChatKind { dm, group, channel, thread };

struct ChatPlace {
  std::string platform;  // "telegram", "discord", "slack"
  ChatKind kind = ChatKind::dm;
  std::string chat_id;
  std::string thread_id;  // with kind thread: the thread (or forum topic) inside the chat
  std::string user_id;    // who said it
};

// "<platform>:<dm|group|channel|thread>:<chat id>[:<thread id>][:<user id>]". In a group,
// channel or thread each person has a session of their own when `per_user_in_groups`
// (gateway.group_sessions_per_user); a thread is a session apart from its chat's.
std::string session_key(const ChatPlace& place, bool per_user_in_groups);

// The kind a session key names; none for a key that is not one (an old-style key).
std::optional<ChatKind> kind_of_key(std::string_view key);

std::string_view to_string(ChatKind kind);

}  // namespace hermes::daemon::chat
