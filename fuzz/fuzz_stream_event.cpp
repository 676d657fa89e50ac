// What a provider streams or answers: each SSE data payload and each whole completion body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/providers/openai_chat.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hermes::providers::parse_stream_event(text);
  (void)hermes::providers::parse_chat_completion(text);
  return 0;
}
