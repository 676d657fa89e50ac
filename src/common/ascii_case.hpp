#pragma once

#include <string_view>

namespace hermes {

// ASCII case-insensitive equality (header names, auth schemes): no locale, so the same
// everywhere.
bool equals_ignoring_case(std::string_view a, std::string_view b);

// `text` without the ASCII white space (isspace in the C locale) at either end.
std::string_view trim_space(std::string_view text);

}  // namespace hermes
