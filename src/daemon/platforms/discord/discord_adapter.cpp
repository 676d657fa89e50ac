#include "daemon/platforms/discord/discord_adapter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/json_fields.hpp"
#include "daemon/platforms/discord/discord_events.hpp"
#include "daemon/providers/redact.hpp"

namespace hermes::daemon::discord {

namespace asio = boost::asio;
using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxMessageChars = 2000;  // Discord's limit on a message's content
constexpr auto kLongestWait = 30s;              // a rate limit longer than this fails the call
constexpr int kAttempts = 4;
constexpr int kEphemeral = 1 << 6;
constexpr int kButtonPrimary = 1;
constexpr int kButtonDanger = 4;

json no_pings() {
  return {{"parse", json::array()}};
}

std::string describe(int status, const json& body) {
  std::string out = "HTTP " + std::to_string(status);
  const auto message = string_field(body, "message");
  if (!message.empty()) out += ": " + message;
  if (const auto code = integer_field(body, "code")) out += " (" + std::to_string(*code) + ")";
  return providers::redact(out);
}

json components_of(const std::vector<chat::Button>& buttons) {
  json row = {{"type", 1}, {"components", json::array()}};
  for (std::size_t i = 0; i < buttons.size(); ++i) {
    row["components"].push_back({{"type", 2},
                                 {"style", i == 0 ? kButtonPrimary : kButtonDanger},
                                 {"label", buttons[i].text},
                                 {"custom_id", buttons[i].data}});
  }
  return json::array({row});
}

}  // namespace

DiscordAdapter::DiscordAdapter(asio::io_context& io, DiscordConfig settings)
    : io_(io), client_(io), settings_(std::move(settings)) {}

chat::StreamSettings DiscordAdapter::stream_settings(bool) const {
  chat::StreamSettings s;
  s.max_units = kMaxMessageChars;  // UTF-16 units: never more characters than Discord counts
  s.edit_every = 1000ms;           // at most one edit a second per message, DMs and channels
  return s;
}

asio::awaitable<void> DiscordAdapter::sleep(std::chrono::milliseconds wait) {
  asio::steady_timer timer(io_, wait);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<RestReply> DiscordAdapter::request(std::string method, std::string path, json body,
                                                   std::chrono::milliseconds timeout) {
  const std::string route = route_of(method, path);
  RestReply out;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const auto wait = limits_.wait_before(route, Clock::now());
    if (wait > kLongestWait) {
      out.status = 429;
      out.description = "rate limited by Discord for " + std::to_string(wait.count() / 1000) + " s";
      out.retry_after = static_cast<int>((wait.count() + 999) / 1000);
      co_return out;
    }
    if (wait.count() > 0) co_await sleep(wait);
    providers::HttpCall http;
    http.method = method;
    http.url = settings_.api_base + path;
    http.headers = {{"Authorization", "Bot " + settings_.bot_token}};
    if (!body.is_null()) http.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    http.timeout = timeout;
    const auto reply = co_await client_.post(std::move(http));
    if (reply.failure != providers::TransportFailure::none) {
      out.status = 0;
      out.description = providers::redact(reply.failure_detail);
      co_return out;
    }
    out.status = reply.status;
    out.body = json::parse(reply.body, nullptr, false);
    if (out.body.is_discarded()) out.body = nullptr;
    const auto limited =
        limits_.on_reply(route, reply.status, reply.headers, reply.body, Clock::now());
    if (!limited) break;
    out.description = describe(reply.status, out.body);
    out.retry_after = static_cast<int>((limited->count() + 999) / 1000);
  }
  if (!out.ok() && out.status != 429) out.description = describe(out.status, out.body);
  if (out.ok()) {
    out.description.clear();
    out.retry_after.reset();
  }
  co_return out;
}

chat::SendResult DiscordAdapter::result_of(const RestReply& reply) {
  chat::SendResult out;
  out.ok = reply.ok();
  out.description = reply.description;
  out.retry_after = reply.retry_after;
  if (out.ok && reply.body.is_object()) out.message_id = snowflake(reply.body, "id").value_or(0);
  return out;
}

void DiscordAdapter::await_reply_to(long long interaction_id, std::string token) {
  const auto now = Clock::now();
  std::erase_if(deferred_, [now](const auto& entry) { return entry.second.expires < now; });
  deferred_[interaction_id] = {std::move(token), now + 14min};  // Discord keeps it 15 minutes
}

asio::awaitable<chat::SendResult> DiscordAdapter::send(chat::OutgoingMessage message) {
  json body = json::object();  // built first: GCC 12 mis-compiles braced args in co_await
  body["content"] = message.text;
  body["allowed_mentions"] = no_pings();
  if (!message.buttons.empty()) body["components"] = components_of(message.buttons);
  const auto deferred = deferred_.find(message.reply_to);
  if (deferred != deferred_.end() && application_id_ != 0) {
    // The answer to a slash command: it fills in the deferred "thinking…" reply.
    const std::string path = "/webhooks/" + std::to_string(application_id_) + "/" +
                             deferred->second.token + "/messages/@original";
    deferred_.erase(deferred);
    const auto reply = co_await request("PATCH", path, std::move(body), 30000ms);
    co_return result_of(reply);
  }
  if (message.reply_to > 0) {
    body["message_reference"] = {{"message_id", std::to_string(message.reply_to)},
                                 {"fail_if_not_exists", false}};
  }
  const std::string path = "/channels/" + std::to_string(message.chat_id) + "/messages";
  const auto reply = co_await request("POST", path, std::move(body), 30000ms);
  co_return result_of(reply);
}

asio::awaitable<chat::SendResult> DiscordAdapter::edit(long long chat_id, long long message_id,
                                                       std::string text) {
  json body = json::object();
  body["content"] = std::move(text);
  body["allowed_mentions"] = no_pings();
  body["components"] = json::array();  // an answered question loses its buttons
  const std::string path =
      "/channels/" + std::to_string(chat_id) + "/messages/" + std::to_string(message_id);
  const auto reply = co_await request("PATCH", path, std::move(body), 30000ms);
  co_return result_of(reply);
}

asio::awaitable<chat::SendResult> DiscordAdapter::answer_press(std::string press_id,
                                                               std::string text) {
  const auto colon = press_id.find(':');
  if (colon == std::string::npos) co_return chat::SendResult{};
  json body = json::object();
  body["type"] = 4;  // a message only the presser sees
  body["data"] = {
      {"content", std::move(text)}, {"flags", kEphemeral}, {"allowed_mentions", no_pings()}};
  const std::string path =
      "/interactions/" + press_id.substr(0, colon) + "/" + press_id.substr(colon + 1) + "/callback";
  const auto reply = co_await request("POST", path, std::move(body), 10000ms);
  co_return result_of(reply);
}

asio::awaitable<bool> DiscordAdapter::show_typing(long long chat_id) {
  const std::string path = "/channels/" + std::to_string(chat_id) + "/typing";
  json body = json::object();
  const auto reply = co_await request("POST", path, std::move(body), 10000ms);
  co_return reply.ok();
}

}  // namespace hermes::daemon::discord
