#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/config.hpp"
#include "daemon/platforms/chat/chat_adapter.hpp"
#include "daemon/platforms/telegram/bot_api.hpp"
#include "daemon/providers/http_client.hpp"

namespace hermes::daemon::telegram {

// Telegram's wire format for the chat machinery: the Bot API's sendMessage (with an inline
// keyboard for buttons), editMessageText, answerCallbackQuery and sendChatAction.
class TelegramAdapter final : public chat::ChatAdapter {
 public:
  TelegramAdapter(boost::asio::io_context& io, TelegramConfig settings);

  std::string_view platform() const override { return "telegram"; }
  chat::StreamSettings stream_settings(bool group) const override;
  boost::asio::awaitable<chat::SendResult> send(chat::OutgoingMessage message) override;
  boost::asio::awaitable<chat::SendResult> edit(long long chat_id, long long message_id,
                                                std::string text) override;
  boost::asio::awaitable<chat::SendResult> answer_press(std::string press_id,
                                                        std::string text) override;
  boost::asio::awaitable<bool> show_typing(long long chat_id) override;

  // One Bot API method on `client` (the poller has its own, so stopping the poll leaves
  // sends alone).
  boost::asio::awaitable<ApiReply> call(providers::HttpClient& client, const std::string& method,
                                        nlohmann::json params, std::chrono::milliseconds timeout);

 private:
  static chat::SendResult result_of(const ApiReply& reply);

  providers::HttpClient send_client_;
  TelegramConfig settings_;
};

}  // namespace hermes::daemon::telegram
