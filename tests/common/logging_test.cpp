// Log lines cannot be forged from outside: control characters become visible escapes.
#include "common/logging.hpp"

#include <gtest/gtest.h>

#include "common/secrets.hpp"

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

TEST(Secrets, ConfiguredSecretsAreMaskedByValueWhateverTheirShape) {
  add_known_secrets({"plainsecretvalue123", "short", "8chars!!"});
  EXPECT_EQ(mask_known_secrets("Incorrect API key provided: plainsecretvalue123."),
            "Incorrect API key provided: [REDACTED].");
  EXPECT_EQ(mask_known_secrets("twice plainsecretvalue123 plainsecretvalue123"),
            "twice [REDACTED] [REDACTED]");
  EXPECT_EQ(mask_known_secrets("a short word stays"), "a short word stays");
  EXPECT_EQ(mask_known_secrets("8chars!!"), "[REDACTED]");
  add_known_secrets({"another-one-xyz"});  // a reload adds; the first ones stay known
  EXPECT_EQ(mask_known_secrets("plainsecretvalue123 another-one-xyz"), "[REDACTED] [REDACTED]");
}

}  // namespace
}  // namespace hermes
