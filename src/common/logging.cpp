#include "common/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "common/secrets.hpp"

namespace hermes {

namespace {

// sd-daemon(3) priority prefixes, understood by journald for stderr of a service.
const char* priority_prefix(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "<7>";
    case spdlog::level::info:
      return "<6>";
    case spdlog::level::warn:
      return "<4>";
    case spdlog::level::err:
      return "<3>";
    case spdlog::level::critical:
      return "<2>";
    default:
      return "<6>";
  }
}

// A word for a person at a terminal, where "<6>" means nothing.
const char* terminal_prefix(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug: ";
    case spdlog::level::warn:
      return "warning: ";
    case spdlog::level::err:
      return "error: ";
    case spdlog::level::critical:
      return "fatal: ";
    default:
      return "";
  }
}

class JournalStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string_view text(formatted.data(), formatted.size());
    if (text.ends_with('\n')) text.remove_suffix(1);  // the line's own end, added back below
    // Secrets by value first (a key echoed by a provider), then one line whatever it holds.
    const std::string line = escape_for_log(mask_known_secrets(text)) + "\n";
    std::fputs(terminal_ ? terminal_prefix(msg.level) : priority_prefix(msg.level), stderr);
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  const bool terminal_ = ::isatty(STDERR_FILENO) == 1;
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

std::string escape_for_log(std::string_view message) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(message.size());
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

void init_logging(bool verbose) {
  auto sink = std::make_shared<JournalStderrSink>();
  auto logger = std::make_shared<spdlog::logger>("hermes", sink);
  logger->set_pattern("%v");
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);  // one line per event, never held back
  spdlog::set_default_logger(logger);
}

void log_exception(std::exception_ptr error, std::string_view what) {
  if (!error) return;
  spdlog::error("{} failed: {}", what, describe_exception(error));
}

std::string describe_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace hermes
