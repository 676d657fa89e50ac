#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hermes::daemon::tools {

// Cuts a byte stream into lines (stdio MCP: one JSON-RPC message per line). Bytes arrive in
// any pieces; a line longer than `max_line` is dropped whole (reported once, by the count in
// dropped()), so a server that floods stdout cannot make the gateway buffer without bound.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line = 16 * 1024 * 1024) : max_line_(max_line) {}

  void feed(std::string_view bytes);
  // The next complete line (without "\n" or "\r\n"); empty lines are skipped.
  std::optional<std::string> next();
  std::size_t dropped() const { return dropped_; }

 private:
  std::string buffer_;
  std::size_t start_ = 0;    // where the unread part of buffer_ begins
  std::size_t scanned_ = 0;  // up to here the unread part holds no newline
  std::size_t max_line_;
  bool skipping_ = false;  // inside a line that was too long: drop up to its newline
  std::size_t dropped_ = 0;
};

}  // namespace hermes::daemon::tools
