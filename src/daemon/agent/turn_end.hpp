#pragma once

#include <string_view>

namespace hermes::daemon {

// What a turn's result says, as the conversation core sees it after the run.
struct TurnFacts {
  bool ok = false;
  bool interrupted = false;       // cut by the drain
  bool client_gone = false;       // the abort signal fired: the client hung up, or a stop
  bool stopped_by_user = false;   // that signal was the user's /stop (or busy input)
  bool has_rounds = false;        // the transcript holds complete tool rounds
  bool context_overflow = false;  // the provider said the context is too long
  bool compactable = false;       // a stored history the compactor can shorten
  bool retried = false;           // the one compaction and retry already happened
  bool said_something = false;    // the model had streamed text before the turn was cut
};

// How the stored session says the turn ended.
enum class TurnMark {
  done,         // answered, or failed with a hint: the next message goes on from here
  stopped,      // the user stopped it: its rounds and words so far are kept, marked stopped
  interrupted,  // cut short (a drain before any round, or a client that hung up)
  resumable,    // the drain cut it after complete rounds: the next process finishes it
};

// What the person on the other end is told.
enum class TurnTell {
  answer,       // the model's answer
  failure,      // one plain sentence: what went wrong, what to do
  interrupted,  // the gateway restarted before the model answered; ask again
  nothing,      // nobody to tell (hung up), or the stop command answers, or a resume will
};

struct TurnEnd {
  bool retry_after_compaction = false;  // compact the stored history and run once more
  TurnMark mark = TurnMark::done;
  TurnTell tell = TurnTell::answer;
  // Keep the words the model had said as an assistant message with this status ("" = none).
  std::string_view partial_status;
};

// Pure: what to store, whether to retry, and what to tell, for every surface alike.
TurnEnd decide_turn_end(const TurnFacts& facts);

std::string_view to_string(TurnMark mark);

}  // namespace hermes::daemon
