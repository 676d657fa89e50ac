#include "daemon/agent/context_window.hpp"

#include <algorithm>
#include <cmath>

namespace hermes::daemon::context {

long estimate_text_tokens(std::string_view text, double correction) {
  return static_cast<long>(std::ceil(static_cast<double>(text.size()) / 4.0 * correction));
}

long estimate_tokens(std::span<const providers::ChatMessage> messages, double correction) {
  return estimate_tokens({messages}, correction);
}

long estimate_tokens(std::initializer_list<std::span<const providers::ChatMessage>> parts,
                     double correction) {
  std::size_t chars = 0;
  std::size_t count = 0;
  for (const auto& part : parts) {
    for (const auto& m : part) {
      chars += m.content.size() + m.tool_calls.size() + m.tool_call_id.size();
    }
    count += part.size();
  }
  return static_cast<long>(std::ceil(static_cast<double>(chars) / 4.0 * correction)) +
         kTokensPerMessage * static_cast<long>(count);
}

void TokenCorrection::observe(long estimated, long reported) {
  if (estimated <= 0 || reported <= 0) return;
  const double ratio =
      std::clamp(static_cast<double>(reported) / static_cast<double>(estimated), 0.25, 4.0);
  factor_ = seen_ ? 0.7 * factor_ + 0.3 * ratio : ratio;
  seen_ = true;
}

bool leave_out(long tokens, long context_length, bool overflowed_after_compaction) {
  if (tokens > context_length) return true;
  return overflowed_after_compaction && tokens * 2 > context_length;
}

std::string left_out_sentence(long tokens, long context_length) {
  return "Your message is about " + std::to_string(tokens) +
         " tokens, too long for the model's context window of " + std::to_string(context_length) +
         " tokens. It is kept but left out of this conversation, so your next message works "
         "as before; send it shorter or in parts.";
}

bool over_threshold(long tokens, long context_length, double threshold) {
  return static_cast<double>(tokens) > threshold * static_cast<double>(context_length);
}

std::size_t summarise_count(std::span<const providers::ChatMessage> history,
                            std::size_t protect_last_n) {
  if (history.size() <= protect_last_n) return 0;
  std::size_t cut = history.size() - protect_last_n;
  // The kept part starts with a user message: a turn is summarised whole, and a tool result
  // never loses the call it answers.
  while (cut > 0 && cut < history.size() && history[cut].role != "user") --cut;
  return cut;
}

std::string transcript_text(std::span<const providers::ChatMessage> messages) {
  std::string out;
  for (const auto& m : messages) {
    if (!out.empty()) out += "\n\n";
    if (m.role == "tool") {
      out += "tool result (" + m.tool_call_id + "): ";
    } else {
      out += m.role + ": ";
    }
    out += m.content;
    if (!m.tool_calls.empty()) out += "\n(asked to run tools: " + m.tool_calls + ")";
  }
  return out;
}

providers::ChatMessage summary_message(const std::string& summary) {
  return {"user", std::string(kSummaryPrefix) + summary};
}

}  // namespace hermes::daemon::context
