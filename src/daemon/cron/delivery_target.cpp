#include "daemon/cron/delivery_target.hpp"

#include <charconv>
#include <optional>

namespace hermes::daemon::cron {

namespace {

constexpr std::string_view kForms =
    "use local, origin (the chat the job was made in) or <platform>:<chat id>[:<thread id>] "
    "with platform telegram or discord";

std::optional<long long> integer(std::string_view text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::variant<DeliveryTarget, std::string> parse_target(std::string_view text,
                                                       std::string_view origin_chat) {
  if (text == "local") return DeliveryTarget{};
  if (text == "origin") {
    if (origin_chat.empty()) {
      return std::string("deliver 'origin' needs a chat: the job was not made in one; ") +
             std::string(kForms);
    }
    return parse_target(origin_chat);
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return "'" + std::string(text) + "' is not a delivery target: " + std::string(kForms);
  }
  const auto platform = text.substr(0, colon);
  if (platform != "telegram" && platform != "discord") {
    return "'" + std::string(platform) +
           "' is not a platform jobs deliver to: " + std::string(kForms);
  }
  auto rest = text.substr(colon + 1);
  const auto second = rest.find(':');
  const auto chat = integer(rest.substr(0, second));
  std::optional<long long> thread = 0;
  if (second != std::string_view::npos) thread = integer(rest.substr(second + 1));
  if (!chat || !thread || *chat == 0 || *thread < 0) {
    return "'" + std::string(text) +
           "' needs a numeric chat id (and thread id): " + std::string(kForms);
  }
  return DeliveryTarget{std::string(platform), *chat, *thread};
}

std::string target_text(const DeliveryTarget& target) {
  if (target.local()) return "local";
  std::string text = target.platform + ":" + std::to_string(target.chat_id);
  if (target.thread_id != 0) text += ":" + std::to_string(target.thread_id);
  return text;
}

}  // namespace hermes::daemon::cron
