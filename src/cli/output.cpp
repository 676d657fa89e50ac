#include "cli/output.hpp"

#include <unistd.h>

#include <iostream>

namespace hermes::cli {

Output Output::for_stdout() {
  return Output(std::cout, ::isatty(STDOUT_FILENO) == 1);
}

void Output::end_progress() {
  if (tty_ && !phase_.empty()) out_ << '\n';
  phase_.clear();
  shown_.clear();
}

void Output::line(const std::string& text) {
  end_progress();
  out_ << text << '\n' << std::flush;
}

void Output::progress(const std::string& phase, const std::string& detail) {
  if (!tty_) {
    if (phase != phase_) out_ << phase << '\n' << std::flush;
    phase_ = phase;
    return;
  }
  if (phase != phase_) end_progress();
  const std::string text = phase + detail;
  if (text == shown_) return;
  out_ << "\r\033[K" << text << std::flush;  // rewrite the line in place
  phase_ = phase;
  shown_ = text;
}

}  // namespace hermes::cli
