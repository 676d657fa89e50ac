// A chat-completions request body from a client: parsed or a 4xx, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "daemon/platforms/api_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const auto parsed = hermes::daemon::parse_chat_completion_request(body);
  if (const auto* error = std::get_if<hermes::daemon::HttpResponse>(&parsed)) {
    if (error->status < 400 || error->status >= 500) __builtin_trap();
  } else {
    const auto& request = std::get<hermes::daemon::ChatCompletionRequest>(parsed);
    if (request.messages.empty() ||
        request.messages.size() > hermes::daemon::kMaxMessagesPerRequest) {
      __builtin_trap();
    }
  }
  return 0;
}
