#include "daemon/providers/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <map>

#include "common/version.hpp"
#include "daemon/providers/checked_get.hpp"

namespace hermes::providers {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

void use_verified_tls(ssl::context& context) {
  context.set_default_verify_paths();  // the system CA store (SSL_CERT_FILE honoured)
  context.set_verify_mode(ssl::verify_peer);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
}

std::optional<Url> Url::parse(std::string_view text) {
  Url url;
  if (text.starts_with("https://")) {
    url.tls = true;
    text.remove_prefix(8);
  } else if (text.starts_with("http://")) {
    text.remove_prefix(7);
  } else {
    return std::nullopt;
  }
  const auto slash = text.find('/');
  std::string_view authority = text.substr(0, slash);
  url.target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  if (authority.starts_with('[')) {  // [::1]:8080
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) url.port = std::string(authority.substr(1));
  } else {
    const auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) url.port = std::string(authority.substr(colon + 1));
  }
  if (url.host.empty()) return std::nullopt;
  if (url.port.empty()) url.port = url.tls ? "443" : "80";
  return url;
}

namespace {

struct Connection {
  std::string pool_key;
  std::chrono::steady_clock::time_point idle_since;
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  char peeked = 0;  // the idle watch's receive buffer (it peeks: nothing is consumed)

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void close() {
    beast::error_code ignored;
    lowest().socket().close(ignored);
  }
};

TransportFailure failure_of(const beast::error_code& ec, bool response_started) {
  if (ec == beast::error::timeout) return TransportFailure::timeout;
  if (ec == asio::error::connection_refused) return TransportFailure::connection_refused;
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    return TransportFailure::malformed_body;
  }
  if (ec.category() == http::make_error_code(http::error::bad_version).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return TransportFailure::malformed_body;
  }
  if (ec.category() == asio::error::get_ssl_category() || ec == ssl::error::stream_truncated) {
    return response_started ? TransportFailure::truncated_body : TransportFailure::tls_other;
  }
  return response_started ? TransportFailure::truncated_body : TransportFailure::connection_reset;
}

// Splits an SSE byte stream into `data:` payloads (multi-line data joined with \n).
class SseParser {
 public:
  void feed(std::string_view bytes) { pending_.append(bytes); }
  // Bytes of the event not yet complete: what one event may make the gateway hold.
  std::size_t pending_bytes() const { return pending_.size(); }
  std::optional<std::string> next() {
    while (true) {
      // Resume the search where the last one stopped (less the separator's length), so a
      // large event arriving in small reads is scanned once, not once per read.
      const std::size_t from = searched_ > 3 ? searched_ - 3 : 0;
      auto end = pending_.find("\n\n", from);
      std::size_t sep = 2;
      if (const auto crlf = pending_.find("\r\n\r\n", from);
          crlf != std::string::npos && crlf < end) {
        end = crlf;
        sep = 4;
      }
      if (end == std::string::npos) {
        searched_ = pending_.size();
        return std::nullopt;
      }
      searched_ = 0;
      const std::string event = pending_.substr(0, end);
      pending_.erase(0, end + sep);
      std::string data;
      std::size_t start = 0;
      while (start <= event.size()) {
        auto line_end = event.find('\n', start);
        if (line_end == std::string::npos) line_end = event.size();
        std::string_view line(event.data() + start, line_end - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.starts_with("data:")) {
          line.remove_prefix(5);
          if (line.starts_with(' ')) line.remove_prefix(1);
          if (!data.empty()) data += '\n';
          data.append(line);
        }
        start = line_end + 1;
      }
      if (!data.empty()) return data;
    }
  }
  const std::string& rest() const { return pending_; }

 private:
  std::string pending_;
  std::size_t searched_ = 0;  // pending_ holds no separator before this
};

using ResponseParser = http::response_parser<http::string_body>;

constexpr const char* kClientHungUp = "the client hung up";
constexpr const char* kGatewayStopping = "the gateway is stopping";

void abandon(HttpReply& reply, const char* why) {
  reply.failure = TransportFailure::aborted;
  reply.failure_detail = std::string("the call was abandoned: ") + why;
}

// A reused connection that failed before any response byte was most likely closed by the
// server while it sat idle: worth one more try on a fresh one.
bool failed_as_stale(bool reused, const HttpReply& reply) {
  return reused && reply.status == 0 &&
         (reply.failure == TransportFailure::connection_reset ||
          reply.failure == TransportFailure::tls_other);
}

http::request<http::string_body> build_request(const Url& url, const HttpCall& call) {
  auto verb = http::string_to_verb(call.method);
  if (verb == http::verb::unknown) verb = http::verb::post;
  http::request<http::string_body> request{verb, url.target, 11};
  request.set(http::field::host, url.host);
  request.set(http::field::user_agent, "hermes-gateway/" + std::string(kVersion));
  if (verb != http::verb::get) request.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : call.headers) request.set(name, value);
  if (verb != http::verb::get) request.body() = call.body;
  request.keep_alive(true);
  request.prepare_payload();
  return request;
}

// When the next wait on the connection ends: the call's deadline, or sooner its idle limit.
Clock::time_point expiry(Clock::time_point deadline, const HttpCall& call) {
  if (!call.idle_timeout) return deadline;
  return std::min(deadline, Clock::now() + *call.idle_timeout);
}

void record_head(const http::response<http::string_body>& head, HttpReply& reply) {
  reply.status = static_cast<int>(head.result_int());
  for (const auto& field : head) {
    reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
}

// Reading the body broke off: `reply` says why and keeps what arrived.
void record_read_failure(const beast::error_code& read_ec, const std::string& body,
                         const HttpCall& call, HttpReply& reply) {
  reply.failure = failure_of(read_ec, true);
  reply.over_size_limit = read_ec == http::error::body_limit;
  reply.failure_detail =
      (read_ec == http::error::body_limit
           ? "response larger than " + std::to_string(call.max_response_bytes) + " bytes"
           : "reading the response failed: " + read_ec.message());
  reply.body = body;
}

// Hands the events completed by the body read so far to `sink`. False when reading must stop:
// the consumer is gone, or one event outgrew the cap.
asio::awaitable<bool> pass_events(SseParser& events, std::string& body, const HttpCall& call,
                                  const EventSink& sink, HttpReply& reply) {
  events.feed(body);
  body.clear();  // fed: the body string does not grow with the stream
  while (auto data = events.next()) {
    reply.events_delivered = true;
    const bool wanted = co_await sink(std::move(*data));  // not in the if: GCC 12
    if (!wanted) co_return false;                         // the consumer is gone
  }
  if (events.pending_bytes() > call.max_response_bytes) {
    reply.failure = TransportFailure::malformed_body;
    reply.failure_detail =
        "one stream event larger than " + std::to_string(call.max_response_bytes) + " bytes";
    co_return false;
  }
  co_return true;
}

// Reads the body after its header; an event stream goes to `sink` as it arrives. True when the
// connection may be kept.
template <typename Stream>
asio::awaitable<bool> read_body(Stream& stream, beast::flat_buffer& buffer, ResponseParser& parser,
                                bool event_stream, const HttpCall& call, Clock::time_point deadline,
                                const EventSink& sink, HttpReply& reply) {
  SseParser events;
  while (!parser.is_done()) {
    // Bytes keep coming: each read may wait idle_timeout again, never past the deadline.
    if (call.idle_timeout) beast::get_lowest_layer(stream).expires_at(expiry(deadline, call));
    auto [read_ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
    if (read_ec == http::error::need_buffer) continue;
    if (read_ec) {
      // A close-delimited body (no length, not chunked) ends here legitimately.
      if (read_ec == http::error::end_of_stream && parser.is_done()) break;
      record_read_failure(read_ec, parser.get().body(), call, reply);
      co_return false;
    }
    if (!event_stream) continue;
    const bool reading = co_await pass_events(events, parser.get().body(), call, sink, reply);
    if (!reading) co_return false;
  }
  reply.body = event_stream ? events.rest() : std::move(parser.get().body());
  co_return parser.get().keep_alive();
}

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  explicit Impl(asio::io_context& io_context) : io(io_context) {}

  // Loading the system CA store takes ~50 ms: done on first HTTPS use, not before READY.
  ssl::context& tls_context() {
    if (!ssl_context) {
      ssl_context.emplace(ssl::context::tls_client);
      use_verified_tls(*ssl_context);
    }
    return *ssl_context;
  }

  asio::awaitable<std::shared_ptr<Connection>> connect(const Url& url, Clock::time_point deadline,
                                                       HttpReply& reply);
  asio::awaitable<bool> exchange(Connection& connection, const Url& url, const HttpCall& call,
                                 Clock::time_point deadline, const EventSink& sink,
                                 HttpReply& reply);
  template <typename Stream>
  asio::awaitable<bool> exchange_on(Stream& stream, Connection& connection, const Url& url,
                                    const HttpCall& call, Clock::time_point deadline,
                                    const EventSink& sink, HttpReply& reply);
  // `exchange`, the connection meanwhile closed by abort_all or by the call's abort signal.
  asio::awaitable<bool> exchange_while_busy(const std::shared_ptr<Connection>& connection,
                                            const Url& url, const HttpCall& call,
                                            Clock::time_point deadline, const EventSink& sink,
                                            HttpReply& reply);

  // Whether the call was abandoned during its exchange; `reply` then says so.
  bool abandoned(std::uint64_t aborts_before, const HttpCall& call, HttpReply& reply) const {
    // Closed by abort_all (a drain's deadline): over, not a stale connection to try again.
    if (aborts != aborts_before) {
      abandon(reply, kGatewayStopping);
      return true;
    }
    if (call.abort && call.abort->aborted()) {
      abandon(reply, kClientHungUp);
      return true;
    }
    return false;
  }

  void release(const std::string& key, std::shared_ptr<Connection> connection, bool reusable) {
    if (reusable) {
      put_idle(key, std::move(connection));
    } else {
      connection->close();
    }
  }

  // Idle connections are kept 30 s, at most kIdlePerHost per host (room for a busy gateway's
  // concurrent calls, so a burst does not churn connections). Each idle one is watched by its
  // own readiness: the server hanging up (or sending anything unasked) wakes the watch, which
  // closes it at once, so nothing lingers in CLOSE-WAIT and no syscall is spent per idle entry
  // per call. One that fails anyway before any response byte is retried on a fresh connection.
  static constexpr auto kIdleLifetime = std::chrono::seconds(30);
  static constexpr std::size_t kIdlePerHost = 128;

  using IdleList = std::vector<std::shared_ptr<Connection>>;  // oldest first

  // Closes the connections idle for kIdleLifetime: they are at the front.
  static void expire(IdleList& list, Clock::time_point now) {
    std::size_t expired = 0;
    while (expired < list.size() && now - list[expired]->idle_since >= kIdleLifetime) {
      list[expired++]->close();
    }
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(expired));
  }

  std::shared_ptr<Connection> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    expire(it->second, Clock::now());
    if (it->second.empty()) return nullptr;
    auto connection = std::move(it->second.back());  // the most recently used: warmest
    it->second.pop_back();
    boost::system::error_code ignored;
    connection->lowest().socket().cancel(ignored);  // ends the watch, no syscall
    return connection;
  }

  void put_idle(const std::string& key, std::shared_ptr<Connection> connection) {
    auto& list = idle[key];
    const auto now = Clock::now();
    expire(list, now);
    if (list.size() >= kIdlePerHost) {
      connection->close();
      return;
    }
    connection->idle_since = now;
    watch_idle(connection);
    list.push_back(std::move(connection));
  }

  // Readable while idle: the server closed it (or broke the protocol). A cancelled watch is the
  // connection taken or closed by us. A peeking receive, not async_wait: the reactor knows the
  // response drained the socket, so it queues the receive without a syscall (an async_wait
  // re-arms epoll each time), and a FIN already there completes it at once.
  void watch_idle(const std::shared_ptr<Connection>& connection) {
    std::weak_ptr<Impl> self = weak_from_this();
    std::weak_ptr<Connection> weak = connection;
    connection->lowest().socket().async_receive(
        asio::buffer(&connection->peeked, 1), tcp::socket::message_peek,
        [self, weak](const boost::system::error_code& ec, std::size_t) {
          if (ec == asio::error::operation_aborted) return;
          const auto impl = self.lock();
          const auto c = weak.lock();
          if (impl && c) impl->drop_idle(c.get());
        });
  }

  void drop_idle(Connection* gone) {
    const auto it = idle.find(gone->pool_key);
    if (it == idle.end()) return;
    auto& list = it->second;
    const auto found =
        std::find_if(list.begin(), list.end(), [gone](const auto& c) { return c.get() == gone; });
    if (found == list.end()) return;
    (*found)->close();
    list.erase(found);
  }

  std::size_t idle_count() const {
    std::size_t n = 0;
    for (const auto& [key, list] : idle) n += list.size();
    return n;
  }

  asio::io_context& io;
  std::optional<ssl::context> ssl_context;
  std::map<std::string, IdleList> idle;
  std::list<std::weak_ptr<Connection>> busy;
  std::uint64_t aborts = 0;  // abort_all calls so far: a call they cut is not retried
};

asio::awaitable<std::shared_ptr<Connection>> HttpClient::Impl::connect(const Url& url,
                                                                       Clock::time_point deadline,
                                                                       HttpReply& reply) {
  tcp::resolver resolver(io);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(url.host, url.port, kTuple);
  if (resolve_ec) {
    reply.failure = TransportFailure::dns_failure;
    reply.failure_detail = "cannot resolve " + url.host + ": " + resolve_ec.message();
    co_return nullptr;
  }
  auto connection = std::make_shared<Connection>();
  if (url.tls) {
    connection->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, tls_context());
    // SNI, and the certificate must name the host we asked for.
    SSL_ctrl(connection->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
             TLSEXT_NAMETYPE_host_name, const_cast<char*>(url.host.c_str()));
    connection->tls->set_verify_callback(ssl::host_name_verification(url.host));
  } else {
    connection->plain = std::make_unique<beast::tcp_stream>(io);
  }
  connection->lowest().expires_at(deadline);
  auto [connect_ec, endpoint] = co_await connection->lowest().async_connect(endpoints, kTuple);
  if (connect_ec) {
    reply.failure = failure_of(connect_ec, false);
    reply.failure_detail =
        "cannot connect to " + url.host + ":" + url.port + ": " + connect_ec.message();
    co_return nullptr;
  }
  // Requests and stream events are small writes: send each at once instead of letting Nagle's
  // algorithm hold it for the peer's delayed ACK (~40 ms).
  boost::system::error_code nodelay_ignored;
  connection->lowest().socket().set_option(asio::ip::tcp::no_delay(true), nodelay_ignored);
  if (url.tls) {
    auto [handshake_ec] =
        co_await connection->tls->async_handshake(ssl::stream_base::client, kTuple);
    if (handshake_ec) {
      const long verify = SSL_get_verify_result(connection->tls->native_handle());
      if (verify != X509_V_OK) {
        reply.failure = TransportFailure::tls_verification;
        reply.failure_detail =
            std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
      } else {
        reply.failure = handshake_ec == beast::error::timeout ? TransportFailure::timeout
                                                              : TransportFailure::tls_other;
        reply.failure_detail =
            "TLS handshake with " + url.host + " failed: " + handshake_ec.message();
      }
      co_return nullptr;
    }
  }
  co_return connection;
}

template <typename Stream>
asio::awaitable<bool> HttpClient::Impl::exchange_on(Stream& stream, Connection& connection,
                                                    const Url& url, const HttpCall& call,
                                                    Clock::time_point deadline,
                                                    const EventSink& sink, HttpReply& reply) {
  const http::request<http::string_body> request = build_request(url, call);
  connection.lowest().expires_at(expiry(deadline, call));  // to the first byte of the head
  auto [write_ec, written] = co_await http::async_write(stream, request, kTuple);
  if (write_ec) {
    reply.failure = failure_of(write_ec, false);
    reply.failure_detail = "sending the request failed: " + write_ec.message();
    co_return false;
  }
  ResponseParser parser;
  parser.body_limit(call.max_response_bytes);
  auto [header_ec, header_bytes] =
      co_await http::async_read_header(stream, connection.buffer, parser, kTuple);
  if (header_ec == http::error::body_limit) {
    // Its Content-Length alone is over the cap: the head is whole, the body never read.
    record_head(parser.get(), reply);
    record_read_failure(header_ec, {}, call, reply);
    co_return false;
  }
  if (header_ec) {
    reply.failure = failure_of(header_ec, false);
    reply.failure_detail = "reading the response failed: " + header_ec.message();
    co_return false;
  }
  record_head(parser.get(), reply);
  const bool event_stream =
      sink && reply.status == 200 &&
      parser.get()[http::field::content_type].starts_with("text/event-stream");
  // A stream is as long as the answer: the cap is per event, not on the whole body.
  if (event_stream) parser.body_limit(boost::none);
  co_return co_await read_body(stream, connection.buffer, parser, event_stream, call, deadline,
                               sink, reply);
}

asio::awaitable<bool> HttpClient::Impl::exchange(Connection& connection, const Url& url,
                                                 const HttpCall& call, Clock::time_point deadline,
                                                 const EventSink& sink, HttpReply& reply) {
  if (connection.tls)
    co_return co_await exchange_on(*connection.tls, connection, url, call, deadline, sink, reply);
  co_return co_await exchange_on(*connection.plain, connection, url, call, deadline, sink, reply);
}

asio::awaitable<bool> HttpClient::Impl::exchange_while_busy(
    const std::shared_ptr<Connection>& connection, const Url& url, const HttpCall& call,
    Clock::time_point deadline, const EventSink& sink, HttpReply& reply) {
  busy.push_back(connection);
  const auto registered = std::prev(busy.end());
  AbortSignal::Subscription on_abort;
  if (call.abort) {
    std::weak_ptr<Connection> weak = connection;
    on_abort = call.abort->subscribe([weak] {
      if (auto c = weak.lock()) c->close();
    });
  }
  const bool keep = co_await exchange(*connection, url, call, deadline, sink, reply);
  busy.erase(registered);
  co_return keep;
}

HttpClient::HttpClient(asio::io_context& io) : impl_(std::make_shared<Impl>(io)) {}
HttpClient::~HttpClient() {
  abort_all();
}

asio::awaitable<HttpReply> HttpClient::post(HttpCall call, EventSink sink) {
  auto impl = impl_;
  HttpReply reply;
  const auto url = Url::parse(call.url);
  if (!url) {
    reply.failure = TransportFailure::connection_refused;
    reply.failure_detail = "not an http(s) URL: " + call.url;
    co_return reply;
  }
  if (call.abort && call.abort->aborted()) {
    abandon(reply, kClientHungUp);
    co_return reply;
  }
  const auto deadline = Clock::now() + call.timeout;
  const std::string key = (url->tls ? "https://" : "http://") + url->host + ":" + url->port;

  // A pooled connection may have been closed by the server meanwhile: if it fails before any
  // response byte, try once more on a fresh one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto connection = attempt == 0 ? impl->take_idle(key) : nullptr;
    const bool reused = connection != nullptr;
    reply = HttpReply{};
    if (!connection) connection = co_await impl->connect(*url, expiry(deadline, call), reply);
    if (!connection) co_return reply;
    connection->pool_key = key;
    const auto aborts_before = impl->aborts;
    const bool keep =
        co_await impl->exchange_while_busy(connection, *url, call, deadline, sink, reply);
    if (impl->abandoned(aborts_before, call, reply)) {
      connection->close();
      co_return reply;
    }
    impl->release(key, std::move(connection), reply.failure == TransportFailure::none && keep);
    if (!failed_as_stale(reused, reply)) co_return reply;
  }
  co_return reply;
}

std::size_t HttpClient::idle_connections() const {
  return impl_->idle_count();
}

void HttpClient::abort_all() {
  ++impl_->aborts;
  for (auto& [key, connections] : impl_->idle) {
    for (auto& connection : connections) connection->close();
  }
  impl_->idle.clear();
  for (auto& weak : impl_->busy) {
    if (auto connection = weak.lock()) connection->close();
  }
}

}  // namespace hermes::providers

// ---- checked_get (web_fetch) ----

namespace hermes::providers {

namespace {

// One fetch's connection, reachable from the abort handler.
struct GetConnection {
  explicit GetConnection(asio::io_context& io_context) : io(io_context) {}
  asio::io_context& io;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  bool aborted = false;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void close() {
    aborted = true;
    if (plain || tls) lowest().close();
  }
};

ssl::context& checked_get_tls() {
  static ssl::context context = [] {
    ssl::context made(ssl::context::tls_client);
    use_verified_tls(made);
    return made;
  }();
  return context;
}

asio::awaitable<std::string> resolve_allowed(asio::io_context& io, const CheckedGet& request,
                                             tcp::resolver::results_type& endpoints) {
  tcp::resolver resolver(io);
  const auto port = std::to_string(request.port);
  auto [ec, found] = co_await resolver.async_resolve(request.host, port, kTuple);
  if (ec) co_return "cannot resolve " + request.host + ": " + ec.message();
  for (const auto& entry : found) {
    if (auto why = request.refuse(entry.endpoint().address()); !why.empty()) co_return why;
  }
  endpoints = std::move(found);
  co_return std::string();
}

template <typename Stream>
asio::awaitable<void> get_exchange(Stream& stream, const CheckedGet& request,
                                   CheckedGetReply& reply) {
  // A string_body (empty) like every other request here: the same serializer instantiation.
  http::request<http::string_body> get{http::verb::get, request.target, 11};
  get.set(http::field::host, request.host_header);
  get.set(http::field::user_agent, request.user_agent);
  get.set(http::field::accept, "text/html,text/plain;q=0.9,*/*;q=0.5");
  get.set(http::field::accept_encoding, "identity");
  get.set(http::field::connection, "close");
  auto [write_ec, written] = co_await http::async_write(stream, get, kTuple);
  if (write_ec) {
    reply.error = "cannot send the request: " + write_ec.message();
    co_return;
  }
  beast::flat_buffer buffer;
  ResponseParser parser;
  parser.body_limit(request.max_body);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
  if (read_ec == http::error::body_limit) {
    reply.cut = true;
  } else if (read_ec && read_ec != http::error::end_of_stream) {
    reply.error = "cannot read the answer: " + read_ec.message();
    co_return;
  }
  auto& response = parser.get();
  reply.status = response.result_int();
  reply.reason = std::string(response.reason());
  reply.location = std::string(response[http::field::location]);
  reply.content_type = std::string(response[http::field::content_type]);
  reply.body = std::move(response.body());
}

asio::awaitable<void> connect_and_get(GetConnection& connection, const CheckedGet& request,
                                      CheckedGetReply& reply) {
  tcp::resolver::results_type endpoints;
  reply.error = co_await resolve_allowed(connection.io, request, endpoints);
  if (!reply.error.empty()) co_return;
  if (request.tls) {
    connection.tls.emplace(connection.io, checked_get_tls());
    SSL_ctrl(connection.tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
             TLSEXT_NAMETYPE_host_name, const_cast<char*>(request.host.c_str()));
    connection.tls->set_verify_callback(ssl::host_name_verification(request.host));
  } else {
    connection.plain.emplace(connection.io);
  }
  connection.lowest().expires_at(request.deadline);
  auto [connect_ec, endpoint] = co_await connection.lowest().async_connect(endpoints, kTuple);
  if (connect_ec) {
    reply.error = "cannot connect to " + request.host + ": " + connect_ec.message();
    co_return;
  }
  if (!connection.tls) {
    co_await get_exchange(*connection.plain, request, reply);
    co_return;
  }
  auto [tls_ec] = co_await connection.tls->async_handshake(ssl::stream_base::client, kTuple);
  if (tls_ec) {
    reply.error = "TLS with " + request.host + " failed: " + tls_ec.message();
    co_return;
  }
  co_await get_exchange(*connection.tls, request, reply);
}

}  // namespace

asio::awaitable<CheckedGetReply> checked_get(asio::io_context& io, CheckedGet request) {
  auto connection = std::make_shared<GetConnection>(io);
  AbortSignal::Subscription stop;
  if (request.abort) stop = request.abort->subscribe([connection] { connection->close(); });
  CheckedGetReply reply;
  co_await connect_and_get(*connection, request, reply);
  reply.aborted = connection->aborted;
  co_return reply;
}

}  // namespace hermes::providers
