#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>

namespace hermes::testing {

// Runs `io` until `done()` holds or `timeout` passes; returns whether it held. A hang fails the
// test that asked, not the whole run.
template <class Predicate>
bool run_until(boost::asio::io_context& io, Predicate done,
               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return done();
}

}  // namespace hermes::testing
