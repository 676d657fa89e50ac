#include "daemon/builtin/web_fetch.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

#include "common/test_hooks.hpp"
#include "common/version.hpp"
#include "daemon/builtin/html_text.hpp"
#include "daemon/builtin/web_address.hpp"
#include "daemon/providers/http_client.hpp"

namespace hermes::daemon::builtin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using tools::mcp::ToolOutcome;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxBodyBytes = 4 * 1024 * 1024;  // raw HTML, before it becomes text
constexpr auto kFetchTime = std::chrono::seconds(30);

struct Hop {
  unsigned status = 0;
  std::string reason;
  std::string location;
  std::string content_type;
  std::string body;
  bool cut = false;  // the body was longer than kMaxBodyBytes
};

// One fetch's connections, reachable from the abort handler.
struct Fetch {
  explicit Fetch(asio::io_context& io_context) : io(io_context) {}
  asio::io_context& io;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  Clock::time_point deadline;
  bool aborted = false;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void close() {
    aborted = true;
    if (plain || tls) lowest().close();
  }
};

ssl::context& tls_context() {
  static ssl::context context = [] {
    ssl::context made(ssl::context::tls_client);
    providers::use_verified_tls(made);
    return made;
  }();
  return context;
}

// Tests have no internet: with test hooks on, HERMES_TEST_WEB_FETCH_PUBLIC names one loopback
// address to treat as a public server's.
bool stands_for_public(const asio::ip::address& address) {
  if (!test_hooks_enabled()) return false;
  const char* stand_in = std::getenv("HERMES_TEST_WEB_FETCH_PUBLIC");
  return stand_in && address.to_string() == stand_in;
}

// The resolved addresses of the hop's host, each checked; "" with `endpoints` set, or why not.
asio::awaitable<std::string> resolve_checked(Fetch& fetch, const ParsedUrl& url, bool allow_private,
                                             tcp::resolver::results_type& endpoints) {
  if (!allow_private && refused_name(url.host)) co_return "'" + url.host + "' is a local name";
  tcp::resolver resolver(fetch.io);
  const auto port = std::to_string(url.port);
  auto [ec, found] = co_await resolver.async_resolve(url.host, port, kTuple);
  if (ec) co_return "cannot resolve " + url.host + ": " + ec.message();
  for (const auto& entry : found) {
    const auto address = entry.endpoint().address();
    if (const auto why = refused_address(address);
        !why.empty() && !allow_private && !stands_for_public(address)) {
      co_return url.host + " resolves to " + address.to_string() + ", " + why +
          " (tools.web_fetch.allow_private is off)";
    }
  }
  endpoints = std::move(found);
  co_return std::string();
}

template <typename Stream>
asio::awaitable<std::string> exchange(Stream& stream, const ParsedUrl& url, Hop& hop) {
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  // scheme://host[:port] less the scheme, as format_url writes it (IPv6 in brackets).
  const auto whole = format_url(url);
  const auto authority = whole.substr(url.scheme.size() + 3);
  request.set(http::field::host, authority.substr(0, authority.size() - url.target.size()));
  request.set(http::field::user_agent, "hermes-gateway/" + std::string(kVersion));
  request.set(http::field::accept, "text/html,text/plain;q=0.9,*/*;q=0.5");
  request.set(http::field::accept_encoding, "identity");
  request.set(http::field::connection, "close");
  auto [write_ec, written] = co_await http::async_write(stream, request, kTuple);
  if (write_ec) co_return "cannot send the request: " + write_ec.message();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kTuple);
  if (read_ec == http::error::body_limit) {
    hop.cut = true;
  } else if (read_ec && read_ec != http::error::end_of_stream) {
    co_return "cannot read the answer: " + read_ec.message();
  }
  auto& response = parser.get();
  hop.status = response.result_int();
  hop.reason = std::string(response.reason());
  hop.location = std::string(response[http::field::location]);
  hop.content_type = std::string(response[http::field::content_type]);
  hop.body = std::move(response.body());
  co_return std::string();
}

// One request to `url`; "" with `hop` filled, or why it failed.
asio::awaitable<std::string> fetch_once(Fetch& fetch, const ParsedUrl& url, bool allow_private,
                                        Hop& hop) {
  tcp::resolver::results_type endpoints;
  if (auto why = co_await resolve_checked(fetch, url, allow_private, endpoints); !why.empty()) {
    co_return why;
  }
  fetch.plain.reset();
  fetch.tls.reset();
  if (url.scheme == "https") {
    fetch.tls.emplace(fetch.io, tls_context());
    // SNI (SSL_set_tlsext_host_name is a macro with a C cast).
    SSL_ctrl(fetch.tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(url.host.c_str()));
    fetch.tls->set_verify_callback(ssl::host_name_verification(url.host));
  } else {
    fetch.plain.emplace(fetch.io);
  }
  fetch.lowest().expires_at(fetch.deadline);
  // Exactly the addresses just checked: a second lookup could answer differently.
  auto [connect_ec, endpoint] = co_await fetch.lowest().async_connect(endpoints, kTuple);
  if (connect_ec) co_return "cannot connect to " + url.host + ": " + connect_ec.message();
  if (!fetch.tls) co_return co_await exchange(*fetch.plain, url, hop);
  auto [tls_ec] = co_await fetch.tls->async_handshake(ssl::stream_base::client, kTuple);
  if (tls_ec) co_return "TLS with " + url.host + " failed: " + tls_ec.message();
  co_return co_await exchange(*fetch.tls, url, hop);
}

std::string page_text(const Hop& hop, const ParsedUrl& url) {
  std::string text = "Status: " + std::to_string(hop.status) + " " + hop.reason +
                     "\nURL: " + format_url(url) + "\n";
  const auto& type = hop.content_type;
  const bool html = type.find("html") != std::string::npos ||
                    (type.empty() && hop.body.find("<html") != std::string::npos);
  std::string body;
  if (html) {
    std::string charset;
    if (const auto at = type.find("charset="); at != std::string::npos) {
      charset = type.substr(at + 8);
    }
    auto page = html_to_text(hop.body, charset);
    if (!page.title.empty()) text += "Title: " + page.title + "\n";
    body = std::move(page.text);
  } else if (type.empty() || type.starts_with("text/") || type.find("json") != std::string::npos ||
             type.find("xml") != std::string::npos) {
    body = hop.body;
  } else {
    return text + "\n(" + type + ", " + std::to_string(hop.body.size()) +
           " bytes: not text, so not shown)";
  }
  text += "\n" + body.substr(0, kPageTextCap);
  if (body.size() > kPageTextCap || hop.cut)
    text += "\n[cut at " + std::to_string(kPageTextCap / 1024) + " KB]";
  return text;
}

}  // namespace

asio::awaitable<ToolOutcome> fetch_page(asio::io_context& io, std::string url, bool allow_private,
                                        std::shared_ptr<providers::AbortSignal> abort) {
  std::string error;
  auto parsed = parse_url(url, error);
  if (!parsed) co_return ToolOutcome{"Cannot fetch '" + url.substr(0, 200) + "': " + error, true};
  auto fetch = std::make_shared<Fetch>(io);
  fetch->deadline = Clock::now() + kFetchTime;
  providers::AbortSignal::Subscription stop;
  if (abort) stop = abort->subscribe([fetch] { fetch->close(); });
  for (int redirects = 0;; ++redirects) {
    Hop hop;
    const auto why = co_await fetch_once(*fetch, *parsed, allow_private, hop);
    if (fetch->aborted) co_return ToolOutcome{"Stopped: the turn was cancelled.", true};
    if (!why.empty()) {
      const bool late = Clock::now() >= fetch->deadline;
      co_return ToolOutcome{"Cannot fetch " + format_url(*parsed) + ": " +
                                (late ? "no complete answer within 30 s" : why),
                            true};
    }
    const bool redirect = hop.status >= 300 && hop.status < 400 && !hop.location.empty();
    if (!redirect) co_return ToolOutcome{page_text(hop, *parsed), hop.status >= 400};
    if (redirects == kMaxRedirects) {
      co_return ToolOutcome{"Cannot fetch " + url + ": more than 5 redirects", true};
    }
    const auto next = resolve_location(*parsed, hop.location);
    parsed = parse_url(next, error);
    if (!parsed)
      co_return ToolOutcome{"The redirect to '" + next.substr(0, 200) + "' was refused: " + error,
                            true};
  }
}

}  // namespace hermes::daemon::builtin
