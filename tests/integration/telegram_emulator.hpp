#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "process.hpp"

namespace hermes::testing {

// tests/node/telegram_emulator.mjs (npm: telegram-test-api), driven over its client API.
class TelegramEmulator {
 public:
  static constexpr const char* kToken = "123456789:AAEmulatorTokenForTestsOnly_abcdefghij";
  TelegramEmulator();
  int port() const { return port_; }
  std::string api_base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // A user writes to the bot.
  void send(long long user_id, const std::string& text, long long chat_id = 0,
            const std::string& username = "tester");
  // A user's message as given (photo, caption, a group chat, a reply…): from user_id in
  // chat_id (a group when negative), with `fields` on top.
  void send_message(long long user_id, long long chat_id, const nlohmann::json& fields);
  // A user presses an inline button under the bot's message `message_id`.
  void press(long long user_id, long long chat_id, long long message_id, const std::string& data);
  // The bot's messages in `chat_id` as they are now (edits applied), oldest first.
  std::vector<std::pair<long long, std::string>> bot_history(long long chat_id);
  // Everything the bot has sent to `chat_id` that was not read yet.
  nlohmann::json bot_messages(long long chat_id);

 private:
  std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace hermes::testing
