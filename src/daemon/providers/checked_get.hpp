#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "daemon/providers/abort_signal.hpp"

namespace boost::asio {
class io_context;
}

namespace hermes::providers {

// One GET for the web_fetch tool: the host resolved, every address it resolves to shown to
// `refuse` first, and the connection made to exactly those addresses (never a second lookup).
// Written beside the gateway's other Beast code, so the heavy templates compile once.
struct CheckedGet {
  std::string host;  // as the resolver takes it (IPv6 without brackets)
  std::uint16_t port = 0;
  bool tls = false;
  std::string target;       // path and query
  std::string host_header;  // host[:port] as the URL says it
  std::string user_agent;
  std::size_t max_body = 4 * 1024 * 1024;  // past it the body is cut (CheckedGetReply::cut)
  std::chrono::steady_clock::time_point deadline;
  // "" allows the address; otherwise the reason the fetch stops there.
  std::function<std::string(const boost::asio::ip::address&)> refuse;
  std::shared_ptr<AbortSignal> abort;  // aborting it closes the connection at once
};

struct CheckedGetReply {
  unsigned status = 0;
  std::string reason;
  std::string location;
  std::string content_type;
  std::string body;
  bool cut = false;
  bool aborted = false;
  std::string error;  // set: no answer, and why
};

// Pass `request` as a named variable (GCC 12 and a std::function inside a co_await).
boost::asio::awaitable<CheckedGetReply> checked_get(boost::asio::io_context& io,
                                                    CheckedGet request);

}  // namespace hermes::providers
