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
#include <memory>
#include <vector>

#include "daemon/providers/http_client.hpp"
#include "support/run_until.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using hermes::providers::HttpCall;
using hermes::providers::HttpClient;
using hermes::providers::HttpReply;
using hermes::testing::run_until;
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

// A client and a loopback server on one loop, and calls made through them.
class HttpClientPool : public ::testing::Test {
 protected:
  // Runs `count` calls at once and the loop until all are answered.
  std::vector<HttpReply> post_all(int count) {
    std::vector<HttpReply> replies(static_cast<std::size_t>(count));
    int pending = count;
    for (auto& reply : replies) {
      asio::co_spawn(io, client.post(call_to(server.url())),
                     [&reply, &pending](std::exception_ptr, HttpReply r) {
                       reply = std::move(r);
                       --pending;
                     });
    }
    EXPECT_TRUE(run_until(
        io, [&] { return pending == 0; }, std::chrono::seconds(10)));
    return replies;
  }
  // `count` calls at once, each answered: that many connections now idle in the pool.
  void answered(int count) {
    for (const auto& r : post_all(count)) ASSERT_EQ(r.status, 200) << r.failure_detail;
  }

  asio::io_context io;
  LoopbackServer server{io};
  HttpClient client{io};
};

TEST_F(HttpClientPool, SequentialCallsReuseOneConnection) {
  for (int i = 0; i < 5; ++i) {
    const auto replies = post_all(1);
    ASSERT_EQ(replies[0].status, 200) << replies[0].failure_detail;
    EXPECT_EQ(replies[0].body, "{\"ok\":true}");
  }
  EXPECT_EQ(server.accepted(), 1);
  EXPECT_EQ(client.idle_connections(), 1u);
}

TEST_F(HttpClientPool, KeepsRoomForManyConcurrentCallsSoAWaveOpensNoNewConnections) {
  answered(40);
  const int first_wave = server.accepted();
  EXPECT_EQ(first_wave, 40);
  EXPECT_EQ(client.idle_connections(), 40u);
  answered(40);
  EXPECT_EQ(server.accepted(), first_wave);  // all 40 reused, none closed for lack of room
}

TEST_F(HttpClientPool, AServerHangingUpOnAnIdleConnectionTakesItOutOfThePool) {
  answered(3);
  ASSERT_EQ(client.idle_connections(), 3u);
  server.hang_up_all();
  // No call is made: the idle connections' own readiness says the server is gone.
  EXPECT_TRUE(run_until(io, [&] { return client.idle_connections() == 0; }));
  const auto after = post_all(1);
  EXPECT_EQ(after[0].status, 200);
  EXPECT_EQ(server.accepted(), 4);  // a fresh one, no failed attempt on a dead one first
}

TEST_F(HttpClientPool, AbortAllEmptiesThePool) {
  answered(2);
  ASSERT_EQ(client.idle_connections(), 2u);
  client.abort_all();
  EXPECT_EQ(client.idle_connections(), 0u);
  io.poll();  // the cancelled watches complete without touching the pool
  EXPECT_EQ(client.idle_connections(), 0u);
}

}  // namespace
