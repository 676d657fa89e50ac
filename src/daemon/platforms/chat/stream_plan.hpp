#pragma once

#include <chrono>
#include <cstddef>
#include <string>

// A reply streamed into a chat by editing one message: what to do next, as a pure function of
// the text so far and the clock (the platform does the sending).
namespace hermes::daemon::chat {

struct StreamSettings {
  std::chrono::milliseconds first_after{1000};  // the first message once text is this old…
  std::size_t first_chars = 40;                 // …or this long
  std::chrono::milliseconds edit_every{1000};   // 3 s in groups
  std::size_t max_units = 4096;                 // UTF-16 units one message holds
};

// The live message of a streamed reply.
struct StreamView {
  std::string live;   // the text the live message should show (the answer past frozen parts)
  bool sent = false;  // the live message exists
  std::string shown;  // what it shows now
  std::chrono::milliseconds since_start{0};      // since the turn began
  std::chrono::milliseconds since_last_edit{0};  // since the live message last changed
  bool blocked = false;                          // a 429 asked to wait: no edit until it passes
};

enum class StreamAction {
  wait,    // nothing now
  send,    // send `text` as the live message
  edit,    // edit the live message to `text`
  freeze,  // the live message is full: it ends with `text` (send it when not sent), and the
           // rest of the answer continues in a new message
};

struct StreamStep {
  StreamAction action = StreamAction::wait;
  std::string text;
};

StreamStep next_stream_step(const StreamView& view, const StreamSettings& settings);

}  // namespace hermes::daemon::chat
