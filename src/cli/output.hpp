#pragma once

#include <iosfwd>
#include <string>

namespace hermes::cli {

// Lines to the user. On a TTY, a progress line is rewritten in place with "\r"; without a
// TTY every line is plain and printed once, so logs and CI output stay readable.
class Output {
 public:
  Output(std::ostream& out, bool tty) : out_(out), tty_(tty) {}
  static Output for_stdout();

  void line(const std::string& text);
  // Shows the current phase of a long wait. On a TTY `detail` (live numbers) follows the
  // phase on one rewritten line; without one, each phase is printed once and details never.
  void progress(const std::string& phase, const std::string& detail = "");
  bool tty() const { return tty_; }

 private:
  void end_progress();
  std::ostream& out_;
  bool tty_;
  std::string phase_;  // the phase on screen, if any
  std::string shown_;  // phase + detail as last drawn on a TTY
};

}  // namespace hermes::cli
