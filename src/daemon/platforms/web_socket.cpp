#include "daemon/platforms/web_socket.hpp"

#include <openssl/ssl.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>

#include "common/version.hpp"
#include "daemon/providers/http_client.hpp"

namespace hermes::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxMessage = 8 * 1024 * 1024;  // READY of a large bot is big; not more

namespace {

// The bytes under the WebSocket: plain TCP or TLS over TCP, chosen at run time. Beast's
// WebSocket is the heaviest template in the build: instantiated once over this instead of once
// per transport, this file compiles in about half the time. Each operation reads into (or
// writes from) the first non-empty buffer it is given, as a partial read or write may.
class Transport {
 public:
  using executor_type = asio::any_io_executor;
  using IoHandler = asio::any_completion_handler<void(beast::error_code, std::size_t)>;
  using DoneHandler = asio::any_completion_handler<void(beast::error_code)>;

  explicit Transport(asio::io_context& io) : plain_(std::in_place, io) {}
  Transport(asio::io_context& io, ssl::context& context) : tls_(std::in_place, io, context) {}

  executor_type get_executor() { return tcp().get_executor(); }
  beast::tcp_stream& tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  beast::ssl_stream<beast::tcp_stream>* tls() { return tls_ ? &*tls_ : nullptr; }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, asio::mutable_buffer into) {
          read_some(into, IoHandler(std::move(handler)));
        },
        token, first_of<asio::mutable_buffer>(buffers));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
        [this](auto handler, asio::const_buffer from) {
          write_some(from, IoHandler(std::move(handler)));
        },
        token, first_of<asio::const_buffer>(buffers));
  }

  // Handlers run on the connection's executor: a type-erased handler's own executor cannot be
  // asked to never block, which Beast and the TLS stream post their completions with.
  void read_some(asio::mutable_buffer into, IoHandler handler) {
    auto on_executor = asio::bind_executor(get_executor(), std::move(handler));
    if (tls_) {
      tls_->async_read_some(into, std::move(on_executor));
    } else {
      plain_->async_read_some(into, std::move(on_executor));
    }
  }
  void write_some(asio::const_buffer from, IoHandler handler) {
    auto on_executor = asio::bind_executor(get_executor(), std::move(handler));
    if (tls_) {
      tls_->async_write_some(from, std::move(on_executor));
    } else {
      plain_->async_write_some(from, std::move(on_executor));
    }
  }
  // The end of the connection after the closing handshake (TLS close_notify, then the socket).
  void teardown(beast::role_type role, DoneHandler handler) {
    auto on_executor = asio::bind_executor(get_executor(), std::move(handler));
    if (tls_) {
      async_teardown(role, *tls_, std::move(on_executor));
    } else {
      async_teardown(role, *plain_, std::move(on_executor));
    }
  }

 private:
  template <class Buffer, class Buffers>
  static Buffer first_of(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      Buffer buffer(*it);
      if (buffer.size() > 0) return buffer;
    }
    return Buffer();
  }

  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

// Found by Beast (argument-dependent lookup) to end the connection under a WebSocket.
template <class Handler>
void async_teardown(beast::role_type role, Transport& transport, Handler&& handler) {
  transport.teardown(role, Transport::DoneHandler(std::forward<Handler>(handler)));
}
void beast_close_socket(Transport& transport) {
  transport.tcp().close();
}

// One WebSocket over the transport.
struct Stream {
  template <class... Args>
  explicit Stream(Args&&... args) : ws(std::forward<Args>(args)...) {}
  asio::awaitable<beast::error_code> read(beast::flat_buffer& buffer) {
    auto [ec, n] = co_await ws.async_read(buffer, kTuple);
    co_return ec;
  }
  asio::awaitable<beast::error_code> write(const std::string& text) {
    ws.text(true);
    auto [ec, n] = co_await ws.async_write(asio::buffer(text), kTuple);
    co_return ec;
  }
  asio::awaitable<beast::error_code> close(int code) {
    auto [ec] =
        co_await ws.async_close(websocket::close_reason(static_cast<std::uint16_t>(code)), kTuple);
    co_return ec;
  }
  beast::tcp_stream& lowest() { return ws.next_layer().tcp(); }
  int peer_close_code() { return static_cast<int>(ws.reason().code); }
  asio::awaitable<beast::error_code> handshake(const std::string& host, const std::string& target,
                                               std::chrono::seconds idle_limit) {
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = std::chrono::seconds(30);
    // None: the protocol's own heartbeat watches the connection (Discord). Else a ping after
    // half the limit without traffic, and the connection ends when the other half passes too.
    timeouts.idle_timeout =
        idle_limit.count() > 0
            ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(idle_limit)
            : websocket::stream_base::none();
    timeouts.keep_alive_pings = idle_limit.count() > 0;
    ws.set_option(timeouts);
    ws.read_message_max(kMaxMessage);
    ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
      request.set(beast::http::field::user_agent, "hermes-gateway/" + std::string(kVersion));
    }));
    auto [ec] = co_await ws.async_handshake(host, target, kTuple);
    co_return ec;
  }
  websocket::stream<Transport> ws;
};

}  // namespace

struct WebSocketClient::Impl : std::enable_shared_from_this<WebSocketClient::Impl> {
  explicit Impl(asio::io_context& io_context) : io(io_context) {}

  asio::awaitable<void> write_loop();
  asio::awaitable<void> close_after(int code);

  asio::io_context& io;
  std::optional<ssl::context> tls;
  std::unique_ptr<Stream> stream;
  std::deque<std::string> outbox;
  bool writing = false;
  bool closing = false;
  std::optional<int> close_with;  // asked for while a write ran: sent when it ends
  bool ended = false;
  int close_code = 0;
  std::string close_detail;
  std::chrono::seconds idle_limit{0};
};

asio::awaitable<void> WebSocketClient::Impl::write_loop() {
  auto self = shared_from_this();
  while (!outbox.empty() && stream && !ended && !closing) {
    const std::string text = std::move(outbox.front());
    outbox.pop_front();
    const auto ec = co_await stream->write(text);
    if (ec) {
      close_detail = "write failed: " + ec.message();
      break;
    }
  }
  writing = false;
  // One write at a time: a close asked for meanwhile goes out now, after the write in flight.
  if (close_with) co_await close_after(*close_with);
}

// A close frame, then the connection goes whether or not the peer answers it.
asio::awaitable<void> WebSocketClient::Impl::close_after(int code) {
  auto self = shared_from_this();
  if (!stream || ended) co_return;
  asio::steady_timer deadline(io, std::chrono::seconds(2));
  deadline.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto impl = weak.lock();
    if (ec || !impl || !impl->stream) return;
    beast::error_code ignored;
    impl->stream->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    impl->stream->lowest().close();
  });
  co_await stream->close(code);
  deadline.cancel();
}

WebSocketClient::WebSocketClient(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}

WebSocketClient::~WebSocketClient() {
  if (impl_->stream) {
    beast::error_code ignored;
    impl_->stream->lowest().socket().close(ignored);
  }
}

void WebSocketClient::set_idle_limit(std::chrono::seconds limit) {
  impl_->idle_limit = limit;
}

asio::awaitable<std::optional<std::string>> WebSocketClient::connect(
    std::string url, std::chrono::milliseconds timeout) {
  auto impl = impl_;
  std::string as_http = url;
  if (as_http.starts_with("wss://")) {
    as_http = "https://" + as_http.substr(6);
  } else if (as_http.starts_with("ws://")) {
    as_http = "http://" + as_http.substr(5);
  } else {
    co_return "not a ws:// or wss:// URL: " + url;
  }
  const auto parsed = providers::Url::parse(as_http);
  if (!parsed) co_return "not a usable URL: " + url;
  tcp::resolver resolver(impl->io);
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(parsed->host, parsed->port, kTuple);
  if (resolve_ec) co_return "cannot resolve " + parsed->host + ": " + resolve_ec.message();
  if (parsed->tls) {
    if (!impl->tls) {
      impl->tls.emplace(ssl::context::tls_client);
      providers::use_verified_tls(*impl->tls);  // as the HTTP client's connections
    }
    impl->stream = std::make_unique<Stream>(impl->io, *impl->tls);
    auto* tls = impl->stream->ws.next_layer().tls();
    SSL_ctrl(tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(parsed->host.c_str()));
    tls->set_verify_callback(ssl::host_name_verification(parsed->host));
  } else {
    impl->stream = std::make_unique<Stream>(impl->io);
  }
  impl->stream->lowest().expires_after(timeout);
  auto [connect_ec, endpoint] = co_await impl->stream->lowest().async_connect(endpoints, kTuple);
  if (connect_ec) {
    co_return "cannot connect to " + parsed->host + ":" + parsed->port + ": " +
        connect_ec.message();
  }
  boost::system::error_code ignored;
  impl->stream->lowest().socket().set_option(tcp::no_delay(true), ignored);
  if (parsed->tls) {
    auto* tls = impl->stream->ws.next_layer().tls();
    auto [tls_ec] = co_await tls->async_handshake(ssl::stream_base::client, kTuple);
    if (tls_ec) co_return "TLS handshake with " + parsed->host + " failed: " + tls_ec.message();
  }
  impl->stream->lowest().expires_never();  // the WebSocket's own timeouts take over
  const auto ec = co_await impl->stream->handshake(parsed->host, parsed->target, impl->idle_limit);
  if (ec) co_return "WebSocket handshake with " + parsed->host + " failed: " + ec.message();
  co_return std::nullopt;
}

asio::awaitable<std::optional<std::string>> WebSocketClient::read() {
  auto impl = impl_;
  if (!impl->stream || impl->ended) co_return std::nullopt;
  beast::flat_buffer buffer;
  const auto ec = co_await impl->stream->read(buffer);
  if (ec) {
    impl->ended = true;
    impl->close_code = ec == websocket::error::closed ? impl->stream->peer_close_code() : 0;
    if (impl->close_detail.empty()) impl->close_detail = ec.message();
    beast::error_code ignored;
    impl->stream->lowest().socket().close(ignored);
    co_return std::nullopt;
  }
  co_return beast::buffers_to_string(buffer.data());
}

void WebSocketClient::send(std::string text) {
  if (!impl_->stream || impl_->ended || impl_->closing) return;
  impl_->outbox.push_back(std::move(text));
  if (impl_->writing) return;
  impl_->writing = true;  // before the loop starts: a second send must not start another
  asio::co_spawn(impl_->io, impl_->write_loop(), asio::detached);
}

void WebSocketClient::close(int code) {
  if (!impl_->stream || impl_->ended || impl_->closing) return;
  impl_->closing = true;
  impl_->outbox.clear();
  if (impl_->writing) {
    impl_->close_with = code;  // the write loop sends it when its write ends
    return;
  }
  asio::co_spawn(impl_->io, impl_->close_after(code), asio::detached);
}

void WebSocketClient::drop() {
  if (!impl_->stream || impl_->ended) return;
  impl_->close_detail = "dropped";
  beast::error_code ignored;
  impl_->stream->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream->lowest().close();
}

int WebSocketClient::close_code() const {
  return impl_->close_code;
}

std::string WebSocketClient::close_detail() const {
  return impl_->close_detail;
}

}  // namespace hermes::daemon
