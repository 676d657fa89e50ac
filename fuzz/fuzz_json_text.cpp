// The direct JSON writer: any bytes give a JSON string nlohmann parses back, equal to the input
// when the input is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/providers/json_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string out;
  hermes::providers::append_json_string(out, text);
  const auto parsed = nlohmann::json::parse(out, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_string()) __builtin_trap();
  // nlohmann's strict dump throws on invalid UTF-8: valid input must round-trip exactly.
  bool valid = true;
  try {
    (void)nlohmann::json(text).dump();
  } catch (const nlohmann::json::exception&) {
    valid = false;
  }
  if (valid && parsed.get<std::string>() != text) __builtin_trap();
  return 0;
}
