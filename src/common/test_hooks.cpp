#include "common/test_hooks.hpp"

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace hermes {

bool test_hooks_enabled() {
  const char* hooks = std::getenv("HERMES_TEST_HOOKS");
  return hooks && std::string_view(hooks) == "1";
}

std::optional<std::chrono::milliseconds> test_hook_millis(const char* variable, long min,
                                                          long max) {
  const char* value = std::getenv(variable);
  if (!test_hooks_enabled() || !value) return std::nullopt;
  return std::chrono::milliseconds(std::clamp(std::atol(value), min, max));
}

}  // namespace hermes
