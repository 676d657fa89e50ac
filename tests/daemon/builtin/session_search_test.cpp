#include "daemon/builtin/session_search.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hermes::daemon::builtin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SessionSearch, WordsAreLettersAndDigitsAndNothingTheModelWritesIsAnOperator) {
  EXPECT_THAT(search_words("lighthouse keeper"), ElementsAre("lighthouse", "keeper"));
  // FTS5 syntax is only ever a separator: NEAR, quotes, columns, prefixes, parentheses.
  EXPECT_THAT(search_words("\"tea\" OR content:coffee* (NEAR)"),
              ElementsAre("tea", "OR", "content", "coffee", "NEAR"));
  EXPECT_THAT(search_words("café über"), ElementsAre("café", "über"));
  EXPECT_TRUE(search_words(" ,;:!? ").empty());
  EXPECT_EQ(search_words("a b c d e f g h i j k l m n o").size(), 12u);
  EXPECT_EQ(search_words(std::string(100, 'x')).front().size(), 64u);
}

TEST(SessionSearch, HitsAreOneLineEachWithSessionDateAndWho) {
  EXPECT_THAT(search_result_text("tea", {}), HasSubstr("No earlier session"));
  const auto text =
      search_result_text("tea", {{"hs_1", 1764979200, "user", "I drink «tea»\nevery day"}});
  EXPECT_THAT(text, HasSubstr("1 match(es)"));
  EXPECT_THAT(text,
              HasSubstr("- session hs_1, 2025-12-06 00:00 UTC, user: I drink «tea» every day"));
}

}  // namespace
}  // namespace hermes::daemon::builtin
