#include "daemon/platforms/telegram/telegram_adapter.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <cstdlib>

#include "daemon/platforms/chat/chat_text.hpp"
#include "daemon/providers/redact.hpp"

namespace hermes::daemon::telegram {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;

TelegramAdapter::TelegramAdapter(asio::io_context& io, TelegramConfig settings)
    : send_client_(io), settings_(std::move(settings)) {}

chat::StreamSettings TelegramAdapter::stream_settings(bool group) const {
  chat::StreamSettings s;
  s.max_units = chat::kMaxMessageUnits;  // 4096 UTF-16 units
  if (group) s.edit_every = 3000ms;      // Telegram allows fewer edits in groups
  return s;
}

asio::awaitable<ApiReply> TelegramAdapter::call(providers::HttpClient& client,
                                                const std::string& method, json params,
                                                std::chrono::milliseconds timeout) {
  providers::HttpCall http;
  http.url = settings_.api_base + "/bot" + settings_.bot_token + "/" + method;
  http.body = params.dump(-1, ' ', false, json::error_handler_t::replace);
  http.timeout = timeout;
  const auto reply = co_await client.post(std::move(http));
  if (reply.failure != providers::TransportFailure::none) {
    ApiReply out;
    out.http_status = reply.status;
    out.description = providers::redact(reply.failure_detail);
    out.too_large = reply.over_size_limit;
    for (const auto& [name, value] : reply.headers) {
      if (out.too_large && boost::iequals(name, "content-length")) {
        out.declared_bytes = std::strtoll(value.c_str(), nullptr, 10);
      }
    }
    co_return out;
  }
  ApiReply out = parse_api_reply(reply.status, reply.body);
  co_return out;
}

chat::SendResult TelegramAdapter::result_of(const ApiReply& reply) {
  chat::SendResult out;
  out.ok = reply.ok;
  out.description = reply.description;
  out.retry_after = reply.retry_after;
  out.not_modified = reply.description.find("not modified") != std::string::npos;
  if (reply.ok && reply.result.is_object()) out.message_id = reply.result.value("message_id", 0LL);
  return out;
}

asio::awaitable<chat::SendResult> TelegramAdapter::send(chat::OutgoingMessage message) {
  json params = json::object();  // built first: GCC 12 mis-compiles braced args in co_await
  params["chat_id"] = message.chat_id;
  params["text"] = message.text;
  if (message.thread_id > 0) params["message_thread_id"] = message.thread_id;
  if (message.reply_to > 0) {
    params["reply_to_message_id"] = message.reply_to;
    params["allow_sending_without_reply"] = true;
  }
  if (!message.buttons.empty()) {
    json row = json::array();
    for (const auto& b : message.buttons) {
      row.push_back({{"text", b.text}, {"callback_data", b.data}});
    }
    params["reply_markup"] = {{"inline_keyboard", json::array({row})}};
  }
  const auto reply = co_await call(send_client_, "sendMessage", std::move(params), 30000ms);
  co_return result_of(reply);
}

asio::awaitable<chat::SendResult> TelegramAdapter::edit(long long chat_id, long long message_id,
                                                        std::string text) {
  json params = json::object();
  params["chat_id"] = chat_id;
  params["message_id"] = message_id;
  params["text"] = std::move(text);
  const auto reply = co_await call(send_client_, "editMessageText", std::move(params), 30000ms);
  co_return result_of(reply);
}

asio::awaitable<chat::SendResult> TelegramAdapter::answer_press(std::string press_id,
                                                                std::string text) {
  json params = json::object();
  params["callback_query_id"] = std::move(press_id);
  params["text"] = std::move(text);
  const auto reply = co_await call(send_client_, "answerCallbackQuery", std::move(params), 10000ms);
  co_return result_of(reply);
}

asio::awaitable<bool> TelegramAdapter::show_typing(long long chat_id) {
  json params = json::object();
  params["chat_id"] = chat_id;
  params["action"] = "typing";
  const auto reply = co_await call(send_client_, "sendChatAction", std::move(params), 10000ms);
  co_return reply.ok;
}

}  // namespace hermes::daemon::telegram
