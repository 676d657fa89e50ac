// A webhook route's prompt template and the payload a sender posts (the first line is the
// template, the rest the JSON payload): filled without an exception, never past the cap, and a
// template the config check accepts fills every placeholder (missing ones as null).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/webhooks/payload_template.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hermes::daemon::webhooks;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto newline = input.find('\n');
  const auto prompt = input.substr(0, newline);
  const auto body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  const auto payload = nlohmann::json::parse(body, nullptr, false);
  const auto filled = fill_prompt(prompt, payload);
  if (filled.text.size() > kMaxPromptBytes) __builtin_trap();
  if (filled.truncated && filled.text.size() != kMaxPromptBytes) __builtin_trap();  // cut = full
  const auto error = prompt_template_error(prompt);
  if (!error && prompt.find('{') == std::string_view::npos &&
      prompt.find('}') == std::string_view::npos && filled.text != prompt) {
    __builtin_trap();  // no placeholder: the prompt as written
  }
  return 0;
}
