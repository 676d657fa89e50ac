#pragma once

#include <string>
#include <string_view>

namespace hermes::providers {

// ASCII lowercase; bytes of other scripts pass through unchanged.
std::string ascii_lower(std::string_view text);

// Cuts to at most `max_bytes` without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

// Length of the valid UTF-8 sequence at `at`, 0 when none starts there (overlong forms,
// surrogates and code points past U+10FFFF included).
std::size_t utf8_length(std::string_view text, std::size_t at);

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD (JSON needs it).
std::string valid_utf8(std::string_view text);

// Case-insensitive (ASCII) substring search.
bool contains_ci(std::string_view haystack, std::string_view needle);

}  // namespace hermes::providers
