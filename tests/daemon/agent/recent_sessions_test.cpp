#include "daemon/agent/recent_sessions.hpp"

#include <gtest/gtest.h>

namespace hermes::daemon {
namespace {

using Ids = std::vector<std::string>;

TEST(RecentSessions, TheLastUsedComeFirstOlderOnesBehindAndTheOldestDropOut) {
  RecentSessions recent(4);
  recent.used("a");
  recent.used("b");
  recent.used("c");
  EXPECT_EQ(recent.newest(10), (Ids{"c", "b", "a"}));
  recent.used("a");  // used again: first, once
  EXPECT_EQ(recent.newest(10), (Ids{"a", "c", "b"}));
  recent.add_older({"c", "x", "y", "z"});  // known ones stay where they are; room for one
  EXPECT_EQ(recent.newest(10), (Ids{"a", "c", "b", "x"}));
  recent.used("d");  // the oldest leaves
  EXPECT_EQ(recent.newest(10), (Ids{"d", "a", "c", "b"}));
  EXPECT_EQ(recent.newest(2), (Ids{"d", "a"}));
  recent.used("");  // a turn without a session
  EXPECT_EQ(recent.size(), 4u);
  recent.used("x");
  EXPECT_EQ(recent.newest(10), (Ids{"x", "d", "a", "c"}));
}

}  // namespace
}  // namespace hermes::daemon
