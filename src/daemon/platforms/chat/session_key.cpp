#include "daemon/platforms/chat/session_key.hpp"

#include <array>
#include <utility>

namespace hermes::daemon::chat {

namespace {

constexpr std::array<std::pair<ChatKind, std::string_view>, 4> kKinds{{
    {ChatKind::dm, "dm"},
    {ChatKind::group, "group"},
    {ChatKind::channel, "channel"},
    {ChatKind::thread, "thread"},
}};

}  // namespace

std::string_view to_string(ChatKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "dm";
}

std::string session_key(const ChatPlace& place, bool per_user_in_groups) {
  std::string key = place.platform;
  key += ':';
  key += to_string(place.kind);
  key += ':';
  key += place.chat_id;
  if (place.kind == ChatKind::thread && !place.thread_id.empty()) key += ':' + place.thread_id;
  if (place.kind != ChatKind::dm && per_user_in_groups && !place.user_id.empty()) {
    key += ':' + place.user_id;
  }
  return key;
}

std::optional<ChatKind> kind_of_key(std::string_view key) {
  const auto first = key.find(':');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = key.find(':', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const auto kind = key.substr(first + 1, second - first - 1);
  for (const auto& [k, name] : kKinds) {
    if (name == kind) return k;
  }
  return std::nullopt;
}

}  // namespace hermes::daemon::chat
