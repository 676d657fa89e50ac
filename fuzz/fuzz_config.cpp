// The config loader: a .env file and a config.yaml (and the ${VAR} expansion between them)
// give a config or errors, never a crash. Input: dotenv text, a NUL byte, YAML (no NUL: all
// YAML, no .env).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_loader.hpp"
#include "common/environment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\0');
  const std::string_view dotenv = split == std::string_view::npos ? "" : input.substr(0, split);
  const std::string yaml(split == std::string_view::npos ? input : input.substr(split + 1));

  hermes::Environment env;
  env.set("OPENAI_API_KEY", "sk-fuzz");
  env.set("EMPTY", "");
  std::vector<std::string> warnings;
  for (auto& [name, value] : hermes::parse_dotenv(dotenv, "fuzz.env", warnings)) {
    if (name.empty()) __builtin_trap();
    env.set_default(std::move(name), std::move(value));
  }
  (void)hermes::expand_variables(yaml, env);
  const auto result = hermes::parse_config(yaml, "fuzz.yaml", env);
  if (!result.config && result.errors.empty()) __builtin_trap();  // refused, but silently
  return 0;
}
