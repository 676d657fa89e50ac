#pragma once

#include <string_view>

namespace hermes {

// Bumped by hand with the project version in CMakeLists.txt.
inline constexpr std::string_view kVersion = "0.1.0";

}  // namespace hermes
