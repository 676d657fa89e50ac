#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/platforms/chat/inbound.hpp"
#include "daemon/platforms/chat/stream_plan.hpp"

namespace hermes::daemon::chat {

// What a platform answered to a send, an edit or a button's answer.
struct SendResult {
  bool ok = false;
  long long message_id = 0;        // a sent message's id
  bool not_modified = false;       // an edit to the text the message shows already: done
  std::optional<int> retry_after;  // seconds the platform asked to wait (a 429)
  std::string description;         // why not, redacted
};

struct Button {
  std::string text;
  std::string data;  // what a press of it sends back
};

struct OutgoingMessage {
  long long chat_id = 0;
  long long reply_to = 0;   // 0: not a reply
  long long thread_id = 0;  // Telegram: the forum topic (message_thread_id); 0: none
  std::string text;
  std::vector<Button> buttons;  // one row under the message; none: plain text
};

// Everything a chat platform supplies to the shared chat machinery: its wire format. How
// events arrive stays the platform's (it hands them to ChatMachinery::receive); the rest
// (inbox, workers, commands, streaming, approvals, outbox) is the machinery's.
class ChatAdapter {
 public:
  virtual ~ChatAdapter() = default;
  // "telegram": the platform of its sessions, inbox and outbox rows, usage and logs.
  virtual std::string_view platform() const = 0;
  // One message's limit (UTF-16 code units) and the edit pacing, in a private chat or a group.
  virtual StreamSettings stream_settings(bool group) const = 0;
  virtual boost::asio::awaitable<SendResult> send(OutgoingMessage message) = 0;
  virtual boost::asio::awaitable<SendResult> edit(long long chat_id, long long message_id,
                                                  std::string text) = 0;
  virtual boost::asio::awaitable<SendResult> answer_press(std::string press_id,
                                                          std::string text) = 0;
  // "typing…" in the chat for a few seconds; false when the platform refused it.
  virtual boost::asio::awaitable<bool> show_typing(long long chat_id) = 0;
};

}  // namespace hermes::daemon::chat
