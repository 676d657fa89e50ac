#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <functional>

namespace hermes::providers {

// Documents at least this big are read or written off the event loop: parsing a 1 MB chat
// request or provider answer takes 3-15 ms, which would hold every other client that long.
// Below it the hop to a thread costs more than the work.
inline constexpr std::size_t kOffloadBytes = 64 * 1024;

// Runs pure CPU work (no loop state) on the one helper thread and resumes the caller on its
// own executor afterwards; an exception thrown by `work` is rethrown to the caller.
boost::asio::awaitable<void> offload(std::function<void()> work);

}  // namespace hermes::providers
