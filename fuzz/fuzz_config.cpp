// The config loader: any YAML (and ${VAR} expansion) gives a config or errors, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static hermes::Environment env = [] {
    hermes::Environment e;
    e.set("OPENAI_API_KEY", "sk-fuzz");
    e.set("EMPTY", "");
    return e;
  }();
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  const auto result = hermes::parse_config(yaml, "fuzz.yaml", env);
  if (!result.config && result.errors.empty()) __builtin_trap();  // refused, but silently
  return 0;
}
