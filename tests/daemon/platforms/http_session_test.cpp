// The HTTP session over Beast's in-memory test stream: what a connection sees, without sockets.
#include "daemon/platforms/http_session.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "daemon/metrics/metrics.hpp"
#include "support/run_until.hpp"

namespace hermes::daemon {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using http_session::kTuple;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// Beast's test stream plus what the hang-up watch needs of a socket (on tcp: wait_read and a
// MSG_PEEK): a wait for the client's next bytes or hang-up that neither takes the bytes nor
// keeps the session's next read from starting. The test stream allows one read at a time and
// cannot cancel it, so a single fill read feeds `ahead_`, which reads and waits share.
class WatchableStream {
 public:
  using executor_type = beast::test::stream::executor_type;
  using ReadResult = std::pair<beast::error_code, std::size_t>;

  explicit WatchableStream(beast::test::stream inner)
      : inner_(std::move(inner)),
        wake_(inner_.get_executor(), asio::steady_timer::time_point::max()) {}

  executor_type get_executor() { return inner_.get_executor(); }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& into) {
          asio::co_spawn(
              get_executor(), read_some(into),
              [handler = std::move(handler)](std::exception_ptr, ReadResult result) mutable {
                std::move(handler)(result.first, result.second);
              });
        },
        token, buffers);
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return inner_.async_write_some(buffers, std::forward<Token>(token));
  }

  // True once the client hung up with nothing unread; false for bytes, or when cancelled.
  asio::awaitable<bool> wait_for_hang_up() {
    cancelled_ = false;
    while (ahead_.size() == 0 && !ended_ && !cancelled_) co_await fill();
    co_return !cancelled_ && ahead_.size() == 0 && ended_;
  }

  void cancel_wait() {
    cancelled_ = true;
    wake_.cancel();
  }

  void close() { inner_.close(); }

 private:
  template <class MutableBuffers>
  asio::awaitable<ReadResult> read_some(MutableBuffers into) {
    while (ahead_.size() == 0 && !ended_) co_await fill();
    if (ahead_.size() == 0) co_return ReadResult{ended_, 0};
    const std::size_t n = asio::buffer_copy(into, ahead_.data());
    ahead_.consume(n);
    co_return ReadResult{{}, n};
  }

  // One read of the inner stream at a time; whoever comes second waits for its end (or for a
  // cancelled watch's wake-up) and then looks again.
  asio::awaitable<void> fill() {
    if (filling_) {
      co_await wake_.async_wait(kTuple);
      co_return;
    }
    filling_ = true;
    auto [ec, n] = co_await inner_.async_read_some(ahead_.prepare(4096), kTuple);
    ahead_.commit(n);
    if (ec) ended_ = ec;
    filling_ = false;
    wake_.cancel();
  }

  beast::test::stream inner_;
  asio::steady_timer wake_;  // never expires: cancel() wakes whoever waits for the fill
  beast::flat_buffer ahead_;
  beast::error_code ended_;  // how the inner stream ended (eof: the client hung up)
  bool filling_ = false;
  bool cancelled_ = false;
};

}  // namespace

namespace http_session {

template <>
struct StreamOps<WatchableStream> {
  // In memory nothing stalls; the read and write timeouts are left to the integration tests.
  static void expires_after(WatchableStream&, std::chrono::seconds) {}
  static asio::awaitable<bool> wait_for_hang_up(WatchableStream& stream) {
    return stream.wait_for_hang_up();
  }
  static void cancel_hang_up_wait(WatchableStream& stream) { stream.cancel_wait(); }
  static void close(WatchableStream& stream) { stream.close(); }
};

}  // namespace http_session

namespace {

// The client's side: one write, however many requests it holds.
asio::awaitable<beast::error_code> send(beast::test::stream& client, std::string bytes) {
  auto [ec, n] = co_await asio::async_write(client, asio::buffer(bytes), kTuple);
  co_return ec;
}

struct Received {
  beast::error_code error;
  http::response<http::string_body> response;
};

asio::awaitable<Received> receive(beast::test::stream& client, beast::flat_buffer& buffer) {
  Received received;
  auto [ec, n] = co_await http::async_read(client, buffer, received.response, kTuple);
  received.error = ec;
  co_return received;
}

class HttpSessionTest : public ::testing::Test {
 protected:
  using Connection = http_session::Connection<WatchableStream>;

  ~HttpSessionTest() override {
    if (!connection_) return;
    // Whatever a failed test left pending ends while the streams' io_context still lives.
    turn_end_.cancel();
    client_.close();
    connection_->stream.close();
    run_until([&] { return ended_; });
  }

  // Starts the session on the server end of a fresh stream pair.
  void start(HttpServer::Handler handler) {
    beast::test::stream server_end(io_);
    client_.connect(server_end);
    connection_ = std::make_shared<Connection>(WatchableStream(std::move(server_end)));
    shared_.reset(new http_session::Shared{std::move(handler), metrics_, limits_});
    asio::co_spawn(io_, http_session::serve(*shared_, connection_), [this](std::exception_ptr e) {
      ended_ = true;
      error_ = e;
    });
  }

  // Runs the loop until `done` (true) or 5 s pass (false).
  template <class Predicate>
  bool run_until(Predicate done) {
    return hermes::testing::run_until(io_, done);
  }

  // Runs one step of the client's side to its end, the session running alongside.
  template <class T>
  T complete(asio::awaitable<T> step) {
    auto result = std::make_shared<std::optional<T>>();
    asio::co_spawn(io_, std::move(step),
                   [result](std::exception_ptr, T value) { result->emplace(std::move(value)); });
    if (!run_until([&] { return result->has_value(); })) {
      throw std::runtime_error("the client's step did not end within 5 s");
    }
    return std::move(**result);
  }

  HttpServer::Handler echo_handler() {
    return [this](HttpRequest request) { return echo(std::move(request)); };
  }
  HttpServer::Handler holding_handler() {
    return [this](HttpRequest request) { return hold(std::move(request)); };
  }

  // Answers "<method> <target> <body>", after `delay_` when set.
  asio::awaitable<HttpResponse> echo(HttpRequest request) {
    seen_.push_back(request);
    if (delay_ > 0ms) {
      asio::steady_timer timer(io_, delay_);
      co_await timer.async_wait(kTuple);
    }
    HttpResponse response;
    response.content_type = "text/plain";
    response.body = request.method + " " + request.target + " " + request.body;
    co_return response;
  }

  // A long turn: runs until its client hangs up or the test ends it (turn_end_.cancel()).
  asio::awaitable<HttpResponse> hold(HttpRequest request) {
    seen_.push_back(request);
    auto subscription = request.client_gone->subscribe([this] { turn_end_.cancel(); });
    co_await turn_end_.async_wait(kTuple);
    abandoned_ = request.client_gone->aborted();
    HttpResponse response;
    response.content_type = "text/plain";
    response.body = "held " + request.target;
    co_return response;
  }

  // Whether the request metrics counted `times` answers of `status` for `route`.
  bool counted(const std::string& route, int status, int times = 1) const {
    const std::string line = "hermes_http_requests_total{route=\"" + route + "\",status=\"" +
                             std::to_string(status) + "\"} " + std::to_string(times) + "\n";
    return metrics_.render("test", 0).find(line) != std::string::npos;
  }

  asio::io_context io_;
  Metrics metrics_;
  HttpServerLimits limits_;
  std::chrono::milliseconds delay_{0};
  asio::steady_timer turn_end_{io_, asio::steady_timer::time_point::max()};
  bool abandoned_ = false;
  std::vector<HttpRequest> seen_;
  beast::test::stream client_{io_};
  std::shared_ptr<Connection> connection_;
  std::unique_ptr<http_session::Shared> shared_;
  bool ended_ = false;
  std::exception_ptr error_;
};

TEST_F(HttpSessionTest, KeepAliveAnswersTwoRequestsOnOneConnection) {
  start(echo_handler());
  beast::flat_buffer buffer;

  EXPECT_FALSE(complete(send(client_, "GET /one HTTP/1.1\r\nHost: gw\r\n\r\n")));
  const auto first = complete(receive(client_, buffer));
  ASSERT_FALSE(first.error) << first.error.message();
  EXPECT_EQ(first.response.result_int(), 200);
  EXPECT_TRUE(first.response.keep_alive());
  EXPECT_EQ(first.response.body(), "GET /one ");

  EXPECT_FALSE(complete(send(client_, "GET /two HTTP/1.1\r\nHost: gw\r\n\r\n")));
  const auto second = complete(receive(client_, buffer));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.result_int(), 200);
  EXPECT_TRUE(second.response.keep_alive());
  EXPECT_EQ(second.response.body(), "GET /two ");

  // Still open, waiting for a third request.
  io_.poll();
  EXPECT_FALSE(ended_);
  EXPECT_EQ(connection_->requests_served, 2);
  EXPECT_FALSE(connection_->busy);
  EXPECT_EQ(shared_->in_flight, 0u);
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_EQ(seen_[0].client_gone, nullptr);  // only POSTs (turns) are watched for a hang-up

  // A client leaving between requests ends the session without another word.
  client_.close();
  ASSERT_TRUE(run_until([&] { return ended_; }));
  EXPECT_FALSE(error_);
  EXPECT_TRUE(client_.str().empty());
  EXPECT_TRUE(counted("other", 200, 2));
}

TEST_F(HttpSessionTest, PipelinedRequestsAreAnsweredInOrder) {
  delay_ = 20ms;  // the second request waits, fully received, while the first is handled
  start(echo_handler());
  beast::flat_buffer buffer;

  EXPECT_FALSE(complete(send(client_,
                             "POST /first HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n\r\none"
                             "POST /second HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\n\r\ntwo")));
  const auto first = complete(receive(client_, buffer));
  const auto second = complete(receive(client_, buffer));
  ASSERT_FALSE(first.error) << first.error.message();
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(first.response.body(), "POST /first one");
  EXPECT_EQ(second.response.body(), "POST /second two");
  EXPECT_TRUE(second.response.keep_alive());

  client_.close();
  ASSERT_TRUE(run_until([&] { return ended_; }));
  EXPECT_FALSE(error_);
  EXPECT_EQ(connection_->requests_served, 2);
  // Neither turn was abandoned: the hang-up came after both were answered.
  ASSERT_EQ(seen_.size(), 2u);
  for (const auto& request : seen_) {
    ASSERT_NE(request.client_gone, nullptr);
    EXPECT_FALSE(request.client_gone->aborted());
  }
}

TEST_F(HttpSessionTest, ARequestArrivingDuringATurnIsNotAHangUp) {
  start(holding_handler());
  beast::flat_buffer buffer;

  EXPECT_FALSE(
      complete(send(client_, "POST /one HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}")));
  ASSERT_TRUE(run_until([&] { return seen_.size() == 1; }));
  // The next request, pipelined while the turn runs: the watch sees bytes, not a hang-up.
  EXPECT_FALSE(
      complete(send(client_, "POST /two HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}")));
  io_.poll();
  EXPECT_FALSE(seen_[0].client_gone->aborted());

  turn_end_.cancel();  // the first turn ends on its own
  const auto first = complete(receive(client_, buffer));
  ASSERT_FALSE(first.error) << first.error.message();
  EXPECT_EQ(first.response.body(), "held /one");
  EXPECT_FALSE(abandoned_);

  // The second request was left for the parser, not taken by the watch.
  ASSERT_TRUE(run_until([&] { return seen_.size() == 2; }));
  EXPECT_EQ(seen_[1].body, "{}");
  turn_end_.cancel();
  const auto second = complete(receive(client_, buffer));
  ASSERT_FALSE(second.error) << second.error.message();
  EXPECT_EQ(second.response.body(), "held /two");
  EXPECT_FALSE(abandoned_);
  EXPECT_FALSE(ended_);
}

TEST_F(HttpSessionTest, ClientHangingUpDuringATurnAbandonsIt) {
  start(holding_handler());

  EXPECT_FALSE(complete(send(
      client_, "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 2\r\n\r\n{}")));
  ASSERT_TRUE(run_until([&] { return seen_.size() == 1; }));
  EXPECT_EQ(shared_->in_flight, 1u);
  EXPECT_TRUE(connection_->busy);

  client_.close();
  // The turn only ends when client_gone fires, and the session then ends on its own.
  ASSERT_TRUE(run_until([&] { return ended_; }));
  EXPECT_TRUE(abandoned_);
  EXPECT_TRUE(seen_[0].client_gone->aborted());
  EXPECT_FALSE(error_);
  EXPECT_EQ(shared_->in_flight, 0u);
}

TEST_F(HttpSessionTest, ClientHangingUpMidRequestEndsTheSession) {
  start(echo_handler());

  EXPECT_FALSE(complete(
      send(client_,
           "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Length: 100\r\n\r\n{\"mod")));
  client_.close();
  ASSERT_TRUE(run_until([&] { return ended_; }));
  EXPECT_FALSE(error_);
  EXPECT_TRUE(seen_.empty());  // the handler never saw the truncated request
  // A truncated request is a parse error like any other: its 400 goes to a client that left.
  EXPECT_THAT(std::string(client_.str()), StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_TRUE(counted("invalid", 400));
}

TEST_F(HttpSessionTest, BodyOverTheLimitGets413AndTheConnectionCloses) {
  limits_.max_body_bytes = 16;
  start(echo_handler());
  beast::flat_buffer buffer;

  // Exactly the limit is fine, and the connection stays open.
  EXPECT_FALSE(
      complete(send(client_, "POST /ok HTTP/1.1\r\nHost: gw\r\nContent-Length: 16\r\n\r\n" +
                                 std::string(16, 'a'))));
  const auto accepted = complete(receive(client_, buffer));
  ASSERT_FALSE(accepted.error) << accepted.error.message();
  EXPECT_EQ(accepted.response.result_int(), 200);

  EXPECT_FALSE(
      complete(send(client_, "POST /big HTTP/1.1\r\nHost: gw\r\nContent-Length: 17\r\n\r\n" +
                                 std::string(17, 'b'))));
  const auto refused = complete(receive(client_, buffer));
  ASSERT_FALSE(refused.error) << refused.error.message();
  EXPECT_EQ(refused.response.result_int(), 413);
  EXPECT_FALSE(refused.response.keep_alive());  // "Connection: close"
  EXPECT_THAT(refused.response.body(), HasSubstr("Request body too large: the limit is 16 bytes."));
  EXPECT_THAT(refused.response.body(), HasSubstr("invalid_request_error"));

  ASSERT_TRUE(run_until([&] { return ended_; }));
  EXPECT_FALSE(error_);
  const auto after = complete(receive(client_, buffer));
  EXPECT_EQ(after.error, http::error::end_of_stream);  // closed by the server
  ASSERT_EQ(seen_.size(), 1u);                         // the big body never reached the handler
  EXPECT_TRUE(counted("invalid", 413));
}

TEST_F(HttpSessionTest, ChunkedBodyOverTheLimitGets413Too) {
  limits_.max_body_bytes = 16;
  start(echo_handler());
  beast::flat_buffer buffer;

  EXPECT_FALSE(complete(send(client_,
                             "POST /big HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "10\r\n" +
                                 std::string(16, 'b') + "\r\n1\r\nb\r\n0\r\n\r\n")));
  const auto refused = complete(receive(client_, buffer));
  ASSERT_FALSE(refused.error) << refused.error.message();
  EXPECT_EQ(refused.response.result_int(), 413);
  EXPECT_FALSE(refused.response.keep_alive());
  ASSERT_TRUE(run_until([&] { return ended_; }));
  EXPECT_TRUE(seen_.empty());
}

}  // namespace
}  // namespace hermes::daemon
