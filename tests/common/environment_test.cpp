#include "common/environment.hpp"

#include <gtest/gtest.h>

namespace hermes {
namespace {

TEST(Dotenv, ParsesTheUsualShapes) {
  std::vector<std::string> warnings;
  const auto pairs = parse_dotenv(
      "# comment\n"
      "OPENAI_API_KEY=sk-one\n"
      "export TOKEN = \"quoted value\"\n"
      "SINGLE='it''s'\n"
      "INLINE=value # trailing comment\n"
      "\n"
      "EMPTY=\n",
      ".env", warnings);
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_EQ(pairs[0], (std::pair<std::string, std::string>{"OPENAI_API_KEY", "sk-one"}));
  EXPECT_EQ(pairs[1].second, "quoted value");
  EXPECT_EQ(pairs[2].second, "it''s");
  EXPECT_EQ(pairs[3].second, "value");
  EXPECT_EQ(pairs[4].second, "");
  EXPECT_TRUE(warnings.empty());
}

TEST(Dotenv, MalformedLineIsReportedWithoutItsContent) {
  std::vector<std::string> warnings;
  const auto pairs =
      parse_dotenv("GOOD=1\nthis is sk-secret garbage\n1BAD=2\n", "/h/.env", warnings);
  ASSERT_EQ(pairs.size(), 1u);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0], "/h/.env:2: expected NAME=value; line skipped");
  EXPECT_EQ(warnings[1], "/h/.env:3: expected NAME=value; line skipped");
}

TEST(Expand, ReplacesKnownVariablesAndReportsUnset) {
  Environment env;
  env.set("A", "alpha");
  auto result = expand_variables("x-${A}-${MISSING}-$HOME-$$", env);
  EXPECT_EQ(result.value, "x-alpha--$HOME-$");
  ASSERT_EQ(result.unset.size(), 1u);
  EXPECT_EQ(result.unset[0], "MISSING");
  EXPECT_TRUE(result.error.empty());
}

TEST(Expand, MalformedReferencesAreErrors) {
  Environment env;
  EXPECT_FALSE(expand_variables("${UNCLOSED", env).error.empty());
  EXPECT_FALSE(expand_variables("${1BAD}", env).error.empty());
  EXPECT_FALSE(expand_variables("${}", env).error.empty());
}

TEST(Environment, ProcessEnvironmentWinsOverDotenv) {
  Environment env;
  env.set("KEY", "from-process");
  env.set_default("KEY", "from-file");
  env.set_default("OTHER", "from-file");
  EXPECT_EQ(env.get("KEY"), "from-process");
  EXPECT_EQ(env.get("OTHER"), "from-file");
  EXPECT_FALSE(env.get("NOPE").has_value());
}

}  // namespace
}  // namespace hermes
