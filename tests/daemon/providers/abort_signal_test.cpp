#include "daemon/providers/abort_signal.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hermes::providers {
namespace {

TEST(AbortSignal, RunsEachLiveSubscriberOnceAndLateOnesAtOnce) {
  AbortSignal signal;
  std::string ran;
  auto a = signal.subscribe([&] { ran += "a"; });
  {
    auto gone = signal.subscribe([&] { ran += "x"; });
  }  // unsubscribed: a layer that finished its I/O is not called
  auto b = signal.subscribe([&] { ran += "b"; });
  EXPECT_FALSE(signal.aborted());
  signal.abort();
  signal.abort();
  EXPECT_TRUE(signal.aborted());
  EXPECT_EQ(ran, "ab");
  auto late = signal.subscribe([&] { ran += "c"; });
  EXPECT_EQ(ran, "abc");
}

TEST(AbortSignal, AMovedSubscriptionUnsubscribesOnce) {
  AbortSignal signal;
  int calls = 0;
  AbortSignal::Subscription kept;
  {
    auto first = signal.subscribe([&] { ++calls; });
    kept = std::move(first);
  }
  signal.abort();
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace hermes::providers
