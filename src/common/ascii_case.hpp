#pragma once

#include <string_view>

namespace hermes {

// ASCII case-insensitive equality (header names, auth schemes): no locale, so the same
// everywhere.
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace hermes
