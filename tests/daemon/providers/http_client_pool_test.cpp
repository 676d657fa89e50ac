// The upstream connection pool over real loopback TCP: reuse, room for concurrent calls, and a
// server's hang-up taking an idle connection out of the pool without a call to notice it.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "daemon/providers/http_client.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using hermes::providers::HttpCall;
using hermes::providers::HttpClient;
using hermes::providers::HttpReply;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Answers every request with a small keep-alive JSON reply; counts the connections it accepts
// and can hang up on all of them.
class LoopbackServer {
 public:
  explicit LoopbackServer(asio::io_context& io)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1/x";
  }
  int accepted() const { return accepted_; }
  void hang_up_all() {
    for (auto& weak : sockets_) {
      if (auto s = weak.lock()) s->close();
    }
  }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      ++accepted_;
      auto shared = std::make_shared<tcp::socket>(std::move(socket));
      sockets_.push_back(shared);
      asio::co_spawn(acceptor_.get_executor(), serve(shared), asio::detached);
    }
  }
  static asio::awaitable<void> serve(std::shared_ptr<tcp::socket> socket) {
    asio::streambuf in;
    for (;;) {
      auto [ec, n] = co_await asio::async_read_until(*socket, in, "\r\n\r\n", kTuple);
      if (ec) co_return;
      // The head and the small body (which loopback delivers with it, or which the next
      // read_until skips as part of the next head): nothing in them changes the reply.
      in.consume(std::max(n, in.size()));
      const std::string body = "{\"ok\":true}";
      const std::string reply =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      auto [write_ec, written] = co_await asio::async_write(*socket, asio::buffer(reply), kTuple);
      if (write_ec) co_return;
    }
  }

  tcp::acceptor acceptor_;
  int accepted_ = 0;
  std::vector<std::weak_ptr<tcp::socket>> sockets_;
};

HttpCall call_to(const std::string& url) {
  HttpCall call;
  call.url = url;
  call.body = "{\"q\":1}";
  call.timeout = std::chrono::seconds(5);
  return call;
}

// Runs `count` calls at once and the loop until all are answered.
std::vector<HttpReply> post_all(asio::io_context& io, HttpClient& client, const std::string& url,
                                int count) {
  std::vector<HttpReply> replies(static_cast<std::size_t>(count));
  int pending = count;
  for (auto& reply : replies) {
    asio::co_spawn(io, client.post(call_to(url)),
                   [&reply, &pending](std::exception_ptr, HttpReply r) {
                     reply = std::move(r);
                     --pending;
                   });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pending > 0 && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(pending, 0);
  return replies;
}

// Runs the loop until `done` holds (at most 5 s); returns whether it did.
bool run_until(asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return done();
}

TEST(HttpClientPool, SequentialCallsReuseOneConnection) {
  asio::io_context io;
  LoopbackServer server(io);
  HttpClient client(io);
  for (int i = 0; i < 5; ++i) {
    const auto replies = post_all(io, client, server.url(), 1);
    ASSERT_EQ(replies[0].status, 200) << replies[0].failure_detail;
    EXPECT_EQ(replies[0].body, "{\"ok\":true}");
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST(HttpClientPool, KeepsRoomForManyConcurrentCallsSoAWaveOpensNoNewConnections) {
  asio::io_context io;
  LoopbackServer server(io);
  HttpClient client(io);
  for (const auto& r : post_all(io, client, server.url(), 40)) ASSERT_EQ(r.status, 200);
  const int first_wave = server.accepted();
  EXPECT_EQ(first_wave, 40);
  EXPECT_EQ(client.idle_connections(), 40u);
  for (const auto& r : post_all(io, client, server.url(), 40)) ASSERT_EQ(r.status, 200);
  EXPECT_EQ(server.accepted(), first_wave);  // all 40 reused, none closed for lack of room
}

TEST(HttpClientPool, AServerHangingUpOnAnIdleConnectionTakesItOutOfThePool) {
  asio::io_context io;
  LoopbackServer server(io);
  HttpClient client(io);
  for (const auto& r : post_all(io, client, server.url(), 3)) ASSERT_EQ(r.status, 200);
  ASSERT_EQ(client.idle_connections(), 3u);
  server.hang_up_all();
  // No call is made: the idle connections' own readiness says the server is gone.
  EXPECT_TRUE(run_until(io, [&] { return client.idle_connections() == 0; }));
  const auto after = post_all(io, client, server.url(), 1);
  EXPECT_EQ(after[0].status, 200);
  EXPECT_EQ(server.accepted(), 4);  // a fresh one, no failed attempt on a dead one first
}

TEST(HttpClientPool, AbortAllEmptiesThePool) {
  asio::io_context io;
  LoopbackServer server(io);
  HttpClient client(io);
  for (const auto& r : post_all(io, client, server.url(), 2)) ASSERT_EQ(r.status, 200);
  ASSERT_EQ(client.idle_connections(), 2u);
  client.abort_all();
  EXPECT_EQ(client.idle_connections(), 0u);
  io.poll();  // the cancelled watches complete without touching the pool
  EXPECT_EQ(client.idle_connections(), 0u);
}

}  // namespace
