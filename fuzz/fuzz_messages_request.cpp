// An Anthropic Messages request body from a client: parsed or a 4xx in Anthropic's shape,
// never a crash; what parses maps back to a Messages request for an Anthropic provider.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "daemon/platforms/anthropic_protocol.hpp"
#include "daemon/providers/anthropic_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  const auto parsed = hermes::daemon::parse_messages_request(body);
  if (const auto* error = std::get_if<hermes::daemon::HttpResponse>(&parsed)) {
    if (error->status < 400 || error->status >= 500) __builtin_trap();
    if (error->body.find(R"("type":"error")") == std::string::npos) __builtin_trap();
    return 0;
  }
  const auto& request = std::get<hermes::daemon::ChatCompletionRequest>(parsed);
  if (request.messages.empty()) __builtin_trap();
  const auto upstream = hermes::providers::build_messages_request(
      request.model, request.messages, request.stream, request.tools, request.extra_fields, {});
  if (upstream.body.empty() && upstream.refused_field.empty()) __builtin_trap();
  return 0;
}
