#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace boost::asio {
class io_context;
}

namespace hermes::daemon {

// One WebSocket connection (ws:// or wss://, TLS verified against the system CA store like
// the HTTP client) carrying text messages: the transport of Discord's Gateway and Slack's
// Socket Mode. Failures come back as values, never as exceptions.
class WebSocketClient {
 public:
  explicit WebSocketClient(boost::asio::io_context& io);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Before connect: a connection silent this long is dead (pings are sent at half of it). By
  // default none, for a protocol with a heartbeat of its own.
  void set_idle_limit(std::chrono::seconds limit);
  // Connects and upgrades. None when connected; else why not, in a sentence.
  boost::asio::awaitable<std::optional<std::string>> connect(std::string url,
                                                             std::chrono::milliseconds timeout);
  // The next text message; none once the connection is closed (close_code says how).
  boost::asio::awaitable<std::optional<std::string>> read();
  // Queued and sent in order (one write at a time, as WebSocket requires).
  void send(std::string text);
  // Sends a close frame with `code` and ends the connection (within 2 s even when the peer
  // does not answer); a pending read() ends.
  void close(int code);
  // Ends the connection at once, without a close frame (a dead peer).
  void drop();
  // The code of the close frame the peer sent; 0 when none came (the connection dropped).
  int close_code() const;
  // Why the last read ended, for the log.
  std::string close_detail() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace hermes::daemon
