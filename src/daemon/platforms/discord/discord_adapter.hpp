#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "daemon/platforms/chat/chat_adapter.hpp"
#include "daemon/platforms/discord/rate_limits.hpp"
#include "daemon/providers/http_client.hpp"

namespace hermes::daemon::discord {

// What a REST call answered, whatever the server sent.
struct RestReply {
  int status = 0;
  nlohmann::json body;             // parsed JSON, or null
  std::string description;         // why not, redacted ("HTTP 403: Missing Permissions")
  std::optional<int> retry_after;  // seconds, when a rate limit outlasts the call's patience
  bool ok() const { return status >= 200 && status < 300; }
};

// Discord's wire format for the chat machinery: REST v10 messages (every one with
// allowed_mentions parse [] so model text pings no one), buttons as components, interaction
// callbacks, and the rate limits obeyed per bucket and globally.
class DiscordAdapter final : public chat::ChatAdapter {
 public:
  DiscordAdapter(boost::asio::io_context& io, DiscordConfig settings);

  std::string_view platform() const override { return "discord"; }
  chat::StreamSettings stream_settings(bool group) const override;
  boost::asio::awaitable<chat::SendResult> send(chat::OutgoingMessage message) override;
  boost::asio::awaitable<chat::SendResult> edit(long long chat_id, long long message_id,
                                                std::string text) override;
  // `press_id`: "<interaction id>:<token>".
  boost::asio::awaitable<chat::SendResult> answer_press(std::string press_id,
                                                        std::string text) override;
  boost::asio::awaitable<bool> show_typing(long long chat_id) override;

  // One REST call, waiting out the rate limits (a 429 is tried again after its retry_after
  // while that is short).
  boost::asio::awaitable<RestReply> request(std::string method, std::string path,
                                            nlohmann::json body, std::chrono::milliseconds timeout);

  // A slash command deferred at once: the machinery's reply to it (reply_to = its id) fills
  // in the deferred answer instead of posting a new message.
  void await_reply_to(long long interaction_id, std::string token);
  void set_application(long long application_id) { application_id_ = application_id; }
  void set_settings(DiscordConfig settings) { settings_ = std::move(settings); }
  // Ends calls in progress (a drain): they fail as transport failures.
  void abort_all() { client_.abort_all(); }

 private:
  static chat::SendResult result_of(const RestReply& reply);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds wait);

  boost::asio::io_context& io_;
  providers::HttpClient client_;
  DiscordConfig settings_;
  RateLimits limits_;
  long long application_id_ = 0;
  struct Deferred {
    std::string token;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<long long, Deferred> deferred_;  // interaction id -> its token
};

}  // namespace hermes::daemon::discord
