#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "daemon/providers/abort_signal.hpp"
#include "daemon/tools/mcp_protocol.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::daemon::builtin {

inline constexpr std::size_t kPageTextCap = 100 * 1024;
inline constexpr int kMaxRedirects = 5;

// The web_fetch tool: an http(s) GET following at most 5 redirects, every hop's resolved
// addresses checked (refused_address) before connecting to exactly those, unless
// `allow_private`; 30 s for the whole fetch; HTML reduced to readable text; the status and the
// final URL with the text, at most 100 KB.
boost::asio::awaitable<tools::mcp::ToolOutcome> fetch_page(
    boost::asio::io_context& io, std::string url, bool allow_private,
    std::shared_ptr<providers::AbortSignal> abort);

}  // namespace hermes::daemon::builtin
