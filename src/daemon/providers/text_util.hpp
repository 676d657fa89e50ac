#pragma once

#include <string>
#include <string_view>

namespace hermes::providers {

// ASCII lowercase; bytes of other scripts pass through unchanged.
std::string ascii_lower(std::string_view text);

// Cuts to at most `max_bytes` without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

// Case-insensitive (ASCII) substring search.
bool contains_ci(std::string_view haystack, std::string_view needle);

}  // namespace hermes::providers
