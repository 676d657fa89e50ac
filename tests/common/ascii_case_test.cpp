#include "common/ascii_case.hpp"

#include <gtest/gtest.h>

namespace hermes {
namespace {

TEST(AsciiCase, EqualsIgnoringCaseComparesLettersOnlyWithoutCase) {
  EXPECT_TRUE(equals_ignoring_case("Content-Type", "content-type"));
  EXPECT_TRUE(equals_ignoring_case("BEARER", "Bearer"));
  EXPECT_TRUE(equals_ignoring_case("", ""));
  EXPECT_FALSE(equals_ignoring_case("Bearer", "Bearer "));
  EXPECT_FALSE(equals_ignoring_case("Mcp-Session-Id", "Mcp_Session-Id"));
}

}  // namespace
}  // namespace hermes
