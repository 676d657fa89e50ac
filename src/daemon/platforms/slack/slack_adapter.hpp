#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "daemon/platforms/chat/chat_adapter.hpp"
#include "daemon/platforms/slack/slack_events.hpp"
#include "daemon/providers/http_client.hpp"

namespace hermes::daemon::chat {
class ChatStore;
}

namespace hermes::daemon::slack {

// What a Web API call answered, whatever the server sent.
struct ApiReply {
  int status = 0;
  nlohmann::json body;             // parsed JSON, or null
  std::string error;               // Slack's `error` ("channel_not_found"), or empty
  std::string description;         // why not, redacted, for the log and the outbox
  std::optional<int> retry_after;  // seconds, when a rate limit outlasts the call's patience
  bool ok() const;                 // HTTP 200 with `ok: true`
};

// Slack's wire format for the chat machinery: chat.postMessage into the conversation's
// thread, chat.update for streaming, Block Kit buttons, answers to slash commands and presses
// through their response_url, every text escaped for mrkdwn, and each method's 429
// Retry-After obeyed.
class SlackAdapter final : public chat::ChatAdapter {
 public:
  SlackAdapter(boost::asio::io_context& io, SlackConfig settings, chat::ChatStore& store);

  std::string_view platform() const override { return "slack"; }
  chat::StreamSettings stream_settings(bool group) const override;
  boost::asio::awaitable<chat::SendResult> send(chat::OutgoingMessage message) override;
  boost::asio::awaitable<chat::SendResult> edit(long long chat_id, long long message_id,
                                                std::string text) override;
  // `press_id`: the press's response_url (the answer is shown to the presser only).
  boost::asio::awaitable<chat::SendResult> answer_press(std::string press_id,
                                                        std::string text) override;
  // Slack shows no typing indicator for apps: nothing to do.
  boost::asio::awaitable<bool> show_typing(long long chat_id) override;

  // One Web API method with the bot token (or the app token), waiting out the method's rate
  // limit (a 429 is tried again after its Retry-After while that is short).
  boost::asio::awaitable<ApiReply> call(std::string method, nlohmann::json body, bool app_token,
                                        std::chrono::milliseconds timeout);

  // Where a conversation number's replies go (learned from each event; after a restart the
  // inbox's session keys say).
  void remember(long long conversation, Place place);
  // A slash command's answer goes to its response_url, not into the channel.
  void answer_by_url(long long update_id, std::string response_url);
  void set_settings(SlackConfig settings) { settings_ = std::move(settings); }
  // Ends calls in progress (a drain): they fail as transport failures.
  void abort_all() { client_.abort_all(); }

 private:
  boost::asio::awaitable<std::optional<Place>> place_of(long long conversation);
  boost::asio::awaitable<chat::SendResult> post_to_url(std::string url, nlohmann::json body);
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds wait);

  boost::asio::io_context& io_;
  providers::HttpClient client_;
  SlackConfig settings_;
  chat::ChatStore& store_;
  std::map<long long, Place> places_;
  std::map<std::string, std::chrono::steady_clock::time_point> blocked_until_;  // per method
  struct ByUrl {
    std::string url;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<long long, ByUrl> by_url_;  // slash command update id -> its response_url
};

}  // namespace hermes::daemon::slack
