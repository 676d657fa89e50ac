#pragma once

#include <string>
#include <string_view>

namespace hermes::providers {

// Appends `text` as a JSON string literal (quotes included) to `out`: the hot request and
// response bodies are written straight into one buffer instead of through a JSON tree.
// Escapes what JSON requires ("\\", "\"", control characters); bytes that are not valid
// UTF-8 become U+FFFD, so the output is always valid JSON whatever a client or model sent.
void append_json_string(std::string& out, std::string_view text);

}  // namespace hermes::providers
