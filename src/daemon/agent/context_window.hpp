#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "daemon/providers/openai_chat.hpp"

// How full a conversation makes the model's context window, and where to cut it when it
// must shrink: pure functions, table-tested.
namespace hermes::daemon::context {

// Tokens a message costs beyond its text (role, separators), as providers count it.
inline constexpr long kTokensPerMessage = 4;

// characters / 4 + kTokensPerMessage per message (content, tool calls and ids), times the
// correction learnt from what providers reported.
long estimate_tokens(std::span<const providers::ChatMessage> messages, double correction = 1.0);
// The same estimate for the parts of one request joined in order, without joining them.
long estimate_tokens(std::initializer_list<std::span<const providers::ChatMessage>> parts,
                     double correction = 1.0);
long estimate_text_tokens(std::string_view text, double correction = 1.0);

// Learns how the estimate compares with providers' usage.prompt_tokens: a smoothed ratio,
// kept between 0.25 and 4 so one odd report cannot make the estimate absurd.
class TokenCorrection {
 public:
  void observe(long estimated, long reported);
  double factor() const { return factor_; }

 private:
  double factor_ = 1.0;
  bool seen_ = false;
};

// Whether a new message is left out of the conversation for good (stored, never sent again):
// `tokens` is what a request with it alone costs (system prompt and tool schemas included).
// Over the window it can never fit; a turn that overflowed even after compaction blames a
// message that fills more than half the window (a smaller one is not what overflowed).
bool leave_out(long tokens, long context_length, bool overflowed_after_compaction);
// What the user is told, once, about the message left out.
std::string left_out_sentence(long tokens, long context_length);

// True when `tokens` pass `threshold` (0..1] of `context_length`.
bool over_threshold(long tokens, long context_length, double threshold);

// How many leading messages of `history` to summarise so the newest `protect_last_n` stay as
// they are: the cut never leaves a tool result without the assistant message that asked for
// it, and falls at the start of a user turn. 0 when nothing can be summarised.
std::size_t summarise_count(std::span<const providers::ChatMessage> history,
                            std::size_t protect_last_n);

// The messages to summarise, as a transcript a model can read (roles and tool calls named).
std::string transcript_text(std::span<const providers::ChatMessage> messages);

// The message a summary stands as, in place of the turns it replaces.
providers::ChatMessage summary_message(const std::string& summary);
inline constexpr std::string_view kSummaryPrefix = "[Summary of the earlier conversation]\n";

}  // namespace hermes::daemon::context
