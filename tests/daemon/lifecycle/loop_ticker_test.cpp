#include "daemon/lifecycle/loop_ticker.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace hermes::daemon {
namespace {

using namespace std::chrono_literals;

TEST(LoopTicker, OneTimerTicksEveryListenerUntilItUnsubscribes) {
  boost::asio::io_context io;
  LoopTicker ticker(io, 1ms);
  int first = 0;
  int second = 0;
  ticker.subscribe([&](std::chrono::steady_clock::duration late) {
    EXPECT_GE(late, 0ns);
    ++first;
  });
  LoopTicker::ListenerId second_id = 0;
  second_id = ticker.subscribe([&](std::chrono::steady_clock::duration) {
    if (++second == 3) ticker.unsubscribe(second_id);  // from inside its own tick
  });
  while (first < 10) io.run_one();
  EXPECT_EQ(second, 3);
}

TEST(LoopTicker, StopsWakingTheLoopWhenNobodyListens) {
  boost::asio::io_context io;
  LoopTicker ticker(io, 1ms);
  int ticks = 0;
  const auto id = ticker.subscribe([&](std::chrono::steady_clock::duration) { ++ticks; });
  io.run_one();
  ticker.unsubscribe(id);
  io.run();  // returns: the pending wait fires once more and does not re-arm
  EXPECT_EQ(ticks, 1);

  ticker.subscribe([&](std::chrono::steady_clock::duration) { ++ticks; });
  io.restart();
  io.run_one();  // a new listener arms it again
  EXPECT_EQ(ticks, 2);
}

}  // namespace
}  // namespace hermes::daemon
