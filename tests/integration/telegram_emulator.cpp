#include "telegram_emulator.hpp"

#include <chrono>
#include <stdexcept>

namespace hermes::testing {

TelegramEmulator::TelegramEmulator() {
  port_ = free_port();
  process_ = std::make_unique<ChildProcess>(
      HERMES_NODE,
      std::vector<std::string>{std::string(HERMES_NODE_TESTS) + "/telegram_emulator.mjs", "--port",
                               std::to_string(port_)},
      ChildProcess::Options{});
  if (!wait_until([&] { return process_->stderr_text().find("listening") != std::string::npos; },
                  std::chrono::seconds(15))) {
    throw std::runtime_error("telegram emulator did not start: " + process_->stderr_text());
  }
}

void TelegramEmulator::send(long long user_id, const std::string& text, long long chat_id,
                            const std::string& username) {
  const long long chat = chat_id ? chat_id : user_id;
  const nlohmann::json message = {
      {"botToken", kToken},
      {"from",
       {{"id", user_id}, {"first_name", "Test"}, {"username", username}, {"is_bot", false}}},
      {"chat", {{"id", chat}, {"first_name", "Test"}, {"type", "private"}}},
      {"date", 1700000000},
      {"text", text}};
  const auto r = http_request(port_, "POST", "/sendMessage", message.dump());
  if (r.status != 200) throw std::runtime_error("emulator refused a user message: " + r.body);
}

void TelegramEmulator::send_message(long long user_id, long long chat_id,
                                    const nlohmann::json& fields) {
  nlohmann::json message = {
      {"botToken", kToken},
      {"from",
       {{"id", user_id}, {"first_name", "Test"}, {"username", "tester"}, {"is_bot", false}}},
      {"chat",
       {{"id", chat_id}, {"title", "Test"}, {"type", chat_id < 0 ? "supergroup" : "private"}}},
      {"date", 1700000000}};
  message.update(fields);
  const auto r = http_request(port_, "POST", "/sendMessage", message.dump());
  if (r.status != 200) throw std::runtime_error("emulator refused a user message: " + r.body);
}

void TelegramEmulator::press(long long user_id, long long chat_id, long long message_id,
                             const std::string& data) {
  const nlohmann::json callback = {
      {"botToken", kToken},
      {"from", {{"id", user_id}, {"first_name", "Test"}, {"username", "tester"}}},
      {"message", {{"message_id", message_id}, {"chat", {{"id", chat_id}, {"type", "private"}}}}},
      {"data", data}};
  const auto r = http_request(port_, "POST", "/sendCallback", callback.dump());
  if (r.status != 200) throw std::runtime_error("emulator refused a button press: " + r.body);
}

std::vector<std::pair<long long, std::string>> TelegramEmulator::bot_history(long long chat_id) {
  const auto r =
      http_request(port_, "POST", "/getUpdatesHistory", nlohmann::json{{"token", kToken}}.dump());
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  std::vector<std::pair<long long, std::string>> out;
  if (!body.is_object() || !body.contains("result") || !body["result"].is_array()) return out;
  for (const auto& item : body["result"]) {
    if (!item.contains("messageId") || !item.contains("message")) continue;
    const auto& m = item["message"];
    // The chat as the bot sent it (a number, or a string of one); users' messages have none.
    const std::string chat = m.contains("chat_id") ? m["chat_id"].dump() : "";
    if (chat != std::to_string(chat_id) && chat != "\"" + std::to_string(chat_id) + "\"") {
      continue;
    }
    out.emplace_back(item["messageId"].get<long long>(), m.value("text", std::string()));
  }
  return out;
}

nlohmann::json TelegramEmulator::bot_messages(long long chat_id) {
  const auto r = http_request(port_, "POST", "/getUpdates",
                              nlohmann::json{{"token", kToken}, {"chatId", chat_id}}.dump());
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  return body.is_object() ? body.value("result", nlohmann::json::array()) : nlohmann::json::array();
}

}  // namespace hermes::testing
