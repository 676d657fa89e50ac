#include "daemon/tools/line_splitter.hpp"

#include <algorithm>

namespace hermes::daemon::tools {

void LineSplitter::feed(std::string_view bytes) {
  // Read lines are forgotten in one go, not one erase per line (quadratic on a big read).
  if (start_ > 0 && start_ >= buffer_.size() / 2) {
    buffer_.erase(0, start_);
    scanned_ -= start_;
    start_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<std::string> LineSplitter::next() {
  while (true) {
    const auto newline = buffer_.find('\n', std::max(start_, scanned_));
    if (newline == std::string::npos) {
      scanned_ = buffer_.size();
      if (buffer_.size() - start_ > max_line_) {
        // Too long already: forget it and drop the rest of it as it comes.
        if (!skipping_) ++dropped_;
        skipping_ = true;
        buffer_.clear();
        start_ = scanned_ = 0;
      }
      return std::nullopt;
    }
    std::string_view line(buffer_.data() + start_, newline - start_);
    start_ = scanned_ = newline + 1;
    if (skipping_) {
      skipping_ = false;  // the end of the dropped line
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > max_line_) {
      ++dropped_;
      continue;
    }
    if (line.empty()) continue;
    return std::string(line);
  }
}

}  // namespace hermes::daemon::tools
