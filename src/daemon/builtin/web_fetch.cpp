#include "daemon/builtin/web_fetch.hpp"

#include <boost/asio/io_context.hpp>
#include <cstdlib>

#include "common/test_hooks.hpp"
#include "common/version.hpp"
#include "daemon/builtin/html_text.hpp"
#include "daemon/builtin/web_address.hpp"
#include "daemon/providers/checked_get.hpp"

namespace hermes::daemon::builtin {

namespace asio = boost::asio;
using tools::mcp::ToolOutcome;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kFetchTime = std::chrono::seconds(30);

// Tests have no internet: with test hooks on, HERMES_TEST_WEB_FETCH_PUBLIC names one loopback
// address to treat as a public server's.
bool stands_for_public(const asio::ip::address& address) {
  if (!test_hooks_enabled()) return false;
  const char* stand_in = std::getenv("HERMES_TEST_WEB_FETCH_PUBLIC");
  return stand_in && address.to_string() == stand_in;
}

// The request for one hop: every address its host resolves to is checked before connecting.
providers::CheckedGet hop_request(const ParsedUrl& url, bool allow_private,
                                  Clock::time_point deadline,
                                  std::shared_ptr<providers::AbortSignal> abort) {
  providers::CheckedGet get;
  get.host = url.host;
  get.port = url.port;
  get.tls = url.scheme == "https";
  get.target = url.target;
  // scheme://host[:port] less the scheme and the target, as format_url writes it (IPv6 in
  // brackets).
  const auto whole = format_url(url);
  get.host_header =
      whole.substr(url.scheme.size() + 3, whole.size() - url.scheme.size() - 3 - url.target.size());
  get.user_agent = "hermes-gateway/" + std::string(kVersion);
  get.deadline = deadline;
  get.abort = std::move(abort);
  get.refuse = [allow_private, host = url.host](const asio::ip::address& address) {
    const auto why = refused_address(address);
    if (why.empty() || allow_private || stands_for_public(address)) return std::string();
    return host + " resolves to " + address.to_string() + ", " + why +
           " (tools.web_fetch.allow_private is off)";
  };
  return get;
}

std::string page_text(const providers::CheckedGetReply& hop, const ParsedUrl& url) {
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
  if (body.size() > kPageTextCap || hop.cut) {
    text += "\n[cut at " + std::to_string(kPageTextCap / 1024) + " KB]";
  }
  return text;
}

}  // namespace

asio::awaitable<ToolOutcome> fetch_page(asio::io_context& io, std::string url, bool allow_private,
                                        std::shared_ptr<providers::AbortSignal> abort) {
  std::string error;
  auto parsed = parse_url(url, error);
  if (!parsed) co_return ToolOutcome{"Cannot fetch '" + url.substr(0, 200) + "': " + error, true};
  const auto deadline = Clock::now() + kFetchTime;
  for (int redirects = 0;; ++redirects) {
    if (!allow_private && refused_name(parsed->host)) {
      co_return ToolOutcome{"Cannot fetch " + format_url(*parsed) + ": '" + parsed->host +
                                "' is a local name (tools.web_fetch.allow_private is off)",
                            true};
    }
    auto get = hop_request(*parsed, allow_private, deadline, abort);
    const auto hop = co_await providers::checked_get(io, std::move(get));
    if (hop.aborted) co_return ToolOutcome{"Stopped: the turn was cancelled.", true};
    if (!hop.error.empty()) {
      const bool late = Clock::now() >= deadline;
      co_return ToolOutcome{"Cannot fetch " + format_url(*parsed) + ": " +
                                (late ? "no complete answer within 30 s" : hop.error),
                            true};
    }
    const bool redirect = hop.status >= 300 && hop.status < 400 && !hop.location.empty();
    if (!redirect) co_return ToolOutcome{page_text(hop, *parsed), hop.status >= 400};
    if (redirects == kMaxRedirects) {
      co_return ToolOutcome{"Cannot fetch " + url + ": more than 5 redirects", true};
    }
    const auto next = resolve_location(*parsed, hop.location);
    parsed = parse_url(next, error);
    if (!parsed) {
      co_return ToolOutcome{"The redirect to '" + next.substr(0, 200) + "' was refused: " + error,
                            true};
    }
  }
}

}  // namespace hermes::daemon::builtin
