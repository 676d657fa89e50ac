#pragma once

#include <string>
#include <string_view>
#include <variant>

// Where a job's or a webhook's result goes: `origin` (the chat that created the job),
// `<platform>:<chat id>[:<thread id>]`, or `local` (kept in the run history only).
namespace hermes::daemon::cron {

struct DeliveryTarget {
  std::string platform;  // "" for local
  long long chat_id = 0;
  long long thread_id = 0;  // 0: none
  bool local() const { return platform.empty(); }
};

// `text` with `origin` standing for `origin_chat` ("" when the job was not made in a chat), or
// one sentence saying what is wrong and what targets there are.
std::variant<DeliveryTarget, std::string> parse_target(std::string_view text,
                                                       std::string_view origin_chat = "");
// The stored form: "local" or "telegram:123[:7]".
std::string target_text(const DeliveryTarget& target);

}  // namespace hermes::daemon::cron
