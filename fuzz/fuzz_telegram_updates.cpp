// A Bot API answer as a server (or anything pretending to be one) sends it: read into a reply,
// and a getUpdates result into messages (text, or media without text) and the next offset;
// never an exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/platforms/telegram/bot_api.hpp"
#include "daemon/platforms/telegram/telegram_updates.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hermes::daemon::telegram;
  const std::string body(reinterpret_cast<const char*>(data), size);
  const auto reply = parse_api_reply(200, body);
  if (reply.retry_after && (*reply.retry_after < 1 || *reply.retry_after > 3600)) __builtin_trap();
  const auto polled = parse_updates(reply.result, 100, BotIdentity{666, "TestNameBot"}, true);
  if (polled.next_offset < 100) __builtin_trap();  // the offset never goes back
  for (const auto& m : polled.messages) {
    if (m.update_id + 1 > polled.next_offset && m.update_id != INT64_MAX) __builtin_trap();
    if (m.text.empty() == m.media.empty()) __builtin_trap();  // text, or media without it
  }
  return 0;
}
