// Redaction and log escaping: whatever text, never a crash, never a line break in a log line.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/logging.hpp"
#include "common/secrets.hpp"
#include "daemon/providers/redact.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool once = [] {
    hermes::add_known_secrets({"plainsecretvalue123", "sk-fuzz-known-key-0001"});
    return true;
  }();
  (void)once;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto masked = hermes::providers::redact(text);
  if (masked.find("plainsecretvalue123") != std::string::npos) __builtin_trap();
  const auto line = hermes::escape_for_log(masked);
  if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) {
    __builtin_trap();
  }
  return 0;
}
