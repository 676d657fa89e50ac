// Telegram text: commands parsed and answers split at the limit, for any text a chat sends or a
// model answers; no part may exceed the limit and nothing may be lost.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/platforms/chat/chat_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)hermes::daemon::chat::parse_command(text);
  const auto parts = hermes::daemon::chat::split_message(text, 64);
  std::size_t kept = 0;
  for (const auto& part : parts) {
    if (part.empty() && !text.empty()) __builtin_trap();
    kept += part.size();
  }
  if (kept > text.size()) __builtin_trap();
  return 0;
}
