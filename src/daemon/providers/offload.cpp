#include "daemon/providers/offload.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>

namespace hermes::providers {

namespace asio = boost::asio;

namespace {

// One thread: big documents are rare, and a queue of them must not take every core.
asio::thread_pool& helper_thread() {
  static asio::thread_pool pool(1);
  return pool;
}

}  // namespace

asio::awaitable<void> offload(std::function<void()> work) {
  auto executor = co_await asio::this_coro::executor;
  co_await asio::async_initiate<const asio::use_awaitable_t<>, void(std::exception_ptr)>(
      [&work, executor](auto handler) {
        auto resume = std::make_shared<decltype(handler)>(std::move(handler));
        asio::post(helper_thread(), [job = std::move(work), resume, executor]() mutable {
          std::exception_ptr error;
          try {
            job();
          } catch (...) {
            error = std::current_exception();
          }
          // Resumed on the caller's executor (the event loop), never on the helper thread.
          asio::post(executor, [resume, error]() mutable { (*resume)(error); });
        });
      },
      asio::use_awaitable);
}

}  // namespace hermes::providers
