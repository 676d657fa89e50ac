#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

namespace hermes::testing {

// Runs `body` (a callable returning an awaitable) as a coroutine on `io` to completion;
// rethrows what it threw.
template <typename Body>
void run_coroutine(boost::asio::io_context& io, Body body) {
  std::exception_ptr error;
  boost::asio::co_spawn(io, body(), [&](std::exception_ptr e) { error = e; });
  io.run();
  io.restart();
  if (error) std::rethrow_exception(error);
}

}  // namespace hermes::testing
