#include "daemon/platforms/chat/session_key.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon::chat {
namespace {

struct KeyCase {
  const char* name;
  ChatPlace place;
  bool per_user;
  const char* key;
};

void PrintTo(const KeyCase& c, std::ostream* os) {
  *os << c.name;
}

class SessionKeyTable : public ::testing::TestWithParam<KeyCase> {};

TEST_P(SessionKeyTable, Builds) {
  const auto& c = GetParam();
  EXPECT_EQ(session_key(c.place, c.per_user), c.key);
  EXPECT_EQ(kind_of_key(c.key), c.place.kind);
}

INSTANTIATE_TEST_SUITE_P(
    Keys, SessionKeyTable,
    ::testing::Values(
        KeyCase{"dm", {"telegram", ChatKind::dm, "42", "", "42"}, true, "telegram:dm:42"},
        KeyCase{"dm_ignores_per_user",
                {"telegram", ChatKind::dm, "42", "", "42"},
                false,
                "telegram:dm:42"},
        KeyCase{"group_per_user",
                {"telegram", ChatKind::group, "-100", "", "7"},
                true,
                "telegram:group:-100:7"},
        KeyCase{"group_shared",
                {"telegram", ChatKind::group, "-100", "", "7"},
                false,
                "telegram:group:-100"},
        KeyCase{"channel_per_user",
                {"discord", ChatKind::channel, "1203400000000000001", "", "99"},
                true,
                "discord:channel:1203400000000000001:99"},
        KeyCase{"thread_is_its_own_session",
                {"slack", ChatKind::thread, "C1", "1700.1", "U2"},
                false,
                "slack:thread:C1:1700.1"},
        KeyCase{"thread_per_user",
                {"slack", ChatKind::thread, "C1", "1700.1", "U2"},
                true,
                "slack:thread:C1:1700.1:U2"}));

TEST(SessionKey, OldStyleKeysHaveNoKind) {
  EXPECT_EQ(kind_of_key("42"), std::nullopt);
  EXPECT_EQ(kind_of_key("-100:7"), std::nullopt);
  EXPECT_EQ(kind_of_key("telegram:nonsense:1"), std::nullopt);
}

}  // namespace
}  // namespace hermes::daemon::chat
