// Log lines cannot be forged from outside: control characters become visible escapes.
#include "common/logging.hpp"

#include <gtest/gtest.h>

namespace hermes {
namespace {

TEST(Logging, ControlCharactersFromOutsideBecomeVisibleEscapes) {
  EXPECT_EQ(escape_for_log("plain text, unchanged: é €"), "plain text, unchanged: é €");
  EXPECT_EQ(escape_for_log("boom\n<0>forged emergency"), "boom\\n<0>forged emergency");
  EXPECT_EQ(escape_for_log("a\rb\tc"), "a\\rb\\tc");
  EXPECT_EQ(escape_for_log(std::string("nul\0esc\x1b[31m del\x7f", 17)),
            "nul\\x00esc\\x1b[31m del\\x7f");
  EXPECT_EQ(escape_for_log(""), "");
}

}  // namespace
}  // namespace hermes
