#include "daemon/platforms/chat/stream_plan.hpp"

#include "daemon/platforms/chat/chat_text.hpp"

namespace hermes::daemon::chat {

StreamStep next_stream_step(const StreamView& view, const StreamSettings& settings) {
  if (view.live.empty()) return {};
  if (utf16_units(view.live) > settings.max_units) {
    // Cut where a person would (paragraph, line, sentence, word), never mid-character.
    return {StreamAction::freeze, split_message(view.live, settings.max_units).front()};
  }
  if (!view.sent) {
    const bool long_enough = view.live.size() >= settings.first_chars;
    const bool old_enough = view.since_start >= settings.first_after;
    if (long_enough || old_enough) return {StreamAction::send, view.live};
    return {};
  }
  if (view.blocked || view.live == view.shown || view.since_last_edit < settings.edit_every) {
    return {};
  }
  return {StreamAction::edit, view.live};
}

}  // namespace hermes::daemon::chat
