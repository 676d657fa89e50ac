#include "daemon/platforms/slack/slack_adapter.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json_fields.hpp"
#include "daemon/platforms/chat/chat_store.hpp"
#include "daemon/providers/error_body.hpp"
#include "daemon/providers/redact.hpp"
#include "daemon/providers/retry_after.hpp"

namespace hermes::daemon::slack {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Slack shows 40,000 characters at most and advises under 4,000: a streamed message is
// split before that.
constexpr std::size_t kMaxMessageUnits = 3900;
constexpr auto kLongestWait = 30s;  // a rate limit longer than this fails the call
constexpr int kAttempts = 4;

std::string describe(const ApiReply& reply) {
  if (reply.status != 200) return "HTTP " + std::to_string(reply.status);
  return reply.error.empty() ? std::string("an answer without ok") : reply.error;
}

chat::SendResult result_of(const ApiReply& reply) {
  chat::SendResult out;
  out.ok = reply.ok();
  out.description = reply.description;
  out.retry_after = reply.retry_after;
  if (out.ok) out.message_id = ts_number(string_field(reply.body, "ts")).value_or(0);
  return out;
}

}  // namespace

bool ApiReply::ok() const {
  return status == 200 && true_field(body, "ok");
}

SlackAdapter::SlackAdapter(asio::io_context& io, SlackConfig settings, chat::ChatStore& store)
    : io_(io), client_(io), settings_(std::move(settings)), store_(store) {}

chat::StreamSettings SlackAdapter::stream_settings(bool) const {
  chat::StreamSettings s;
  s.max_units = kMaxMessageUnits;
  s.edit_every = 1000ms;  // chat.update: about one a second per message
  return s;
}

asio::awaitable<void> SlackAdapter::sleep(std::chrono::milliseconds wait) {
  asio::steady_timer timer(io_, wait);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<ApiReply> SlackAdapter::call(std::string method, json body, bool app_token,
                                             std::chrono::milliseconds timeout) {
  ApiReply out;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const auto blocked = blocked_until_.find(method);
    const auto now = Clock::now();
    const auto wait =
        blocked != blocked_until_.end() && blocked->second > now
            ? std::chrono::duration_cast<std::chrono::milliseconds>(blocked->second - now)
            : 0ms;
    if (wait > kLongestWait) {
      out.status = 429;
      out.error = "ratelimited";
      out.description =
          method + ": rate limited by Slack for " + std::to_string(wait.count() / 1000) + " s";
      out.retry_after = static_cast<int>((wait.count() + 999) / 1000);
      co_return out;
    }
    if (wait.count() > 0) co_await sleep(wait);
    providers::HttpCall http;
    http.url = settings_.api_base + "/" + method;
    http.headers = {
        {"Authorization", "Bearer " + (app_token ? settings_.app_token : settings_.bot_token)}};
    http.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    http.timeout = timeout;
    const auto reply = co_await client_.post(std::move(http));
    if (reply.failure != providers::TransportFailure::none) {
      out.status = 0;
      out.description = method + ": " + providers::redact(reply.failure_detail);
      co_return out;
    }
    out.status = reply.status;
    out.body = json::parse(reply.body, nullptr, false);
    if (out.body.is_discarded()) out.body = nullptr;
    out.error = string_field(out.body, "error");
    if (reply.status != 429) break;
    // Rate limited: this method waits (Slack's tiers are per method) and the call is tried again.
    const auto after =
        providers::find_retry_after(reply.headers, {}, std::chrono::system_clock::now())
            .value_or(1000ms);
    blocked_until_[method] = Clock::now() + std::min<std::chrono::milliseconds>(after, 3600s);
    out.retry_after = static_cast<int>((after.count() + 999) / 1000);
    spdlog::info("slack: {} rate limited; waiting {} ms", method, after.count());
  }
  if (out.ok()) {
    out.description.clear();
    out.retry_after.reset();
  } else {
    out.description = providers::redact(method + ": " + describe(out));
  }
  co_return out;
}

void SlackAdapter::remember(long long conversation, Place place) {
  places_[conversation] = std::move(place);
}

void SlackAdapter::answer_by_url(long long update_id, std::string response_url) {
  const auto now = Clock::now();
  std::erase_if(by_url_, [now](const auto& entry) { return entry.second.expires < now; });
  by_url_[update_id] = {std::move(response_url), now + 29min};  // Slack keeps it 30 minutes
}

asio::awaitable<std::optional<Place>> SlackAdapter::place_of(long long conversation) {
  if (const auto known = places_.find(conversation); known != places_.end()) {
    co_return known->second;
  }
  const auto key = co_await store_.chat_key_of(conversation);
  if (!key) co_return std::nullopt;
  auto place = place_of_key(*key);
  if (place) places_[conversation] = *place;
  co_return place;
}

asio::awaitable<chat::SendResult> SlackAdapter::post_to_url(std::string url, json body) {
  if (!response_url_allowed(settings_.api_base, url)) {
    chat::SendResult refused;
    refused.description = "response_url: not a Slack hooks URL; not followed";
    spdlog::warn("slack: a response_url outside hooks.slack.com was not followed");
    co_return refused;
  }
  providers::HttpCall http;
  http.url = std::move(url);
  http.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  http.timeout = 10000ms;
  const auto reply = co_await client_.post(std::move(http));
  chat::SendResult out;
  out.ok = reply.failure == providers::TransportFailure::none && reply.status == 200;
  if (!out.ok) {
    out.description = "response_url: " + (reply.failure != providers::TransportFailure::none
                                              ? providers::redact(reply.failure_detail)
                                              : "HTTP " + std::to_string(reply.status));
  }
  co_return out;
}

asio::awaitable<chat::SendResult> SlackAdapter::send(chat::OutgoingMessage message) {
  const auto by_url = by_url_.find(message.reply_to);
  if (by_url != by_url_.end() && message.buttons.empty()) {
    // A slash command's answer: shown to the one who asked, where they asked.
    std::string url = by_url->second.url;
    by_url_.erase(by_url);
    json body = json::object();
    body["text"] = escape_text(message.text);
    body["response_type"] = "ephemeral";
    auto answered = co_await post_to_url(std::move(url), std::move(body));
    // It has no ts to edit: the update id stands in (an edit of it is refused, harmlessly).
    if (answered.ok) answered.message_id = message.reply_to;
    co_return answered;
  }
  const auto place = co_await place_of(message.chat_id);
  if (!place) {
    chat::SendResult unknown;
    unknown.description = "no Slack conversation is known for this reply";
    co_return unknown;
  }
  json body = json::object();  // built first: GCC 12 mis-compiles braced args in co_await
  const std::string text = escape_text(message.text);
  body["channel"] = place->channel;
  body["text"] = text;
  body["unfurl_links"] = false;
  body["unfurl_media"] = false;
  if (!place->thread_ts.empty()) body["thread_ts"] = place->thread_ts;
  if (!message.buttons.empty()) body["blocks"] = blocks_of(text, message.buttons);
  const auto reply = co_await call("chat.postMessage", std::move(body), false, 30000ms);
  if (!reply.ok()) spdlog::warn("slack: could not post a reply: {}", reply.description);
  co_return result_of(reply);
}

asio::awaitable<chat::SendResult> SlackAdapter::edit(long long chat_id, long long message_id,
                                                     std::string text) {
  const auto place = co_await place_of(chat_id);
  if (!place) {
    chat::SendResult unknown;
    unknown.description = "no Slack conversation is known for this edit";
    co_return unknown;
  }
  json body = json::object();
  body["channel"] = place->channel;
  body["ts"] = ts_text(message_id);
  body["text"] = escape_text(text);
  body["blocks"] = json::array();  // an answered question loses its buttons
  const auto reply = co_await call("chat.update", std::move(body), false, 30000ms);
  if (!reply.ok()) spdlog::warn("slack: could not update a reply: {}", reply.description);
  auto out = result_of(reply);
  if (out.ok) out.message_id = message_id;
  co_return out;
}

asio::awaitable<chat::SendResult> SlackAdapter::answer_press(std::string press_id,
                                                             std::string text) {
  json body = json::object();
  body["text"] = escape_text(text);
  body["response_type"] = "ephemeral";
  body["replace_original"] = false;
  co_return co_await post_to_url(std::move(press_id), std::move(body));
}

asio::awaitable<bool> SlackAdapter::show_typing(long long) {
  co_return true;
}

}  // namespace hermes::daemon::slack
