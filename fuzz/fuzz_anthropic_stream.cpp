// What an Anthropic provider streams or answers: each SSE data payload and each whole message
// body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/providers/anthropic_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hermes::providers::parse_messages_stream_event(text);
  (void)hermes::providers::parse_messages_response(text);
  return 0;
}
