// A Socket Mode message as Slack (or anything pretending to be it) sends it: read as hello,
// disconnect or an envelope, then its payload as an event, a slash command or a button press;
// never an exception, and every message taken has ids the platform can use.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/platforms/slack/slack_events.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hermes::daemon::slack;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto message = parse_socket_message(text);
  if (!message) return 0;
  for (const bool require_mention : {true, false}) {
    const auto parsed = parse_event(message->payload, "UBOT0001", {require_mention, true});
    if ((parsed.verdict == EventVerdict::answer) != parsed.message.has_value()) __builtin_trap();
    if (parsed.message) {
      const auto& m = *parsed.message;
      if (m.update_id <= 0 || m.chat_id <= 0 || m.user_id <= 0 || m.message_id <= 0) {
        __builtin_trap();
      }
      if (m.text.empty() && m.media.empty()) __builtin_trap();
      // The reply's place is found again from the session key after a restart.
      if (place_of_key(m.chat_key) != parsed.place) __builtin_trap();
      if (ts_text(m.message_id) != ts_text(*ts_number(ts_text(m.message_id)))) __builtin_trap();
    }
  }
  if (const auto command = parse_slash_command(message->payload)) {
    if (!command_text(*command).starts_with('/')) __builtin_trap();
  }
  if (const auto press = parse_button_action(message->payload)) {
    if (press->user.empty() || press->value.empty()) __builtin_trap();
  }
  const auto escaped = escape_text(text);
  if (escaped.find('<') != std::string::npos || escaped.find('>') != std::string::npos) {
    __builtin_trap();
  }
  (void)acknowledgement(message->envelope_id, message->payload);
  return 0;
}
