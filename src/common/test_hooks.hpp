#pragma once

#include <chrono>
#include <optional>

namespace hermes {

// Test-only behaviour (wedging the loop, a slow start, short waits) exists only with
// HERMES_TEST_HOOKS=1.
bool test_hooks_enabled();

// HERMES_TEST_<name>=N milliseconds, when test hooks are on and it is set; clamped to
// [min, max].
std::optional<std::chrono::milliseconds> test_hook_millis(const char* variable, long min, long max);

}  // namespace hermes
