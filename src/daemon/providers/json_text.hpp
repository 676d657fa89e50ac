#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hermes::providers {

// Appends `text` as a JSON string literal (quotes included) to `out`: the hot request and
// response bodies are written straight into one buffer instead of through a JSON tree.
// Escapes what JSON requires ("\\", "\"", control characters); bytes that are not valid
// UTF-8 become U+FFFD, so the output is always valid JSON whatever a client or model sent.
void append_json_string(std::string& out, std::string_view text);

// True when `text` opens more than `limit` arrays or objects inside each other (outside
// strings). A linear scan without building anything: 1 MB of '[' is refused before a parser
// builds half a million nested arrays for it.
bool json_nesting_exceeds(std::string_view text, int limit);

// A count (tokens) a provider sent as a JSON number, as a long: a float out of a long's range
// (2E101, inf) is 0 and an unsigned one past it is capped, instead of an undefined conversion.
// Both answer parsers (simdjson for OpenAI's, nlohmann for Anthropic's) read counts through these.
long count_from_double(double value);
long count_from_unsigned(std::uint64_t value);

}  // namespace hermes::providers
