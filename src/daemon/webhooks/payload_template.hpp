#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// A webhook route's prompt (webhooks.routes.<name>.prompt) filled from the JSON payload it
// received: pure functions, table-tested and fuzzed.
namespace hermes::daemon::webhooks {

// The most a filled prompt may be: a 1 MiB payload named a hundred times must not make a
// hundred-megabyte prompt.
inline constexpr std::size_t kMaxPromptBytes = 256 * 1024;

struct FilledPrompt {
  std::string text;
  std::vector<std::string> missing;  // placeholders the payload has no value for
  bool truncated = false;            // cut at kMaxPromptBytes
};

// `{pull_request.title}`, `{commits.0.id}`: the payload's value at that path (object keys, array
// indexes), as JSON text: a string in quotes with its newlines and quotes escaped, so what a
// sender wrote reads as data inside the prompt, never as the prompt's own words; numbers,
// booleans, objects and arrays as compact JSON; a missing value as null. `{{` and `}}` are
// literal braces. Never throws.
FilledPrompt fill_prompt(std::string_view prompt, const nlohmann::json& payload);

// Why a prompt cannot be used as a template (an unclosed `{`, an empty or malformed path), for
// the config check; none when it can.
std::optional<std::string> prompt_template_error(std::string_view prompt);

}  // namespace hermes::daemon::webhooks
