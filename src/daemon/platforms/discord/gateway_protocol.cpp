#include "daemon/platforms/discord/gateway_protocol.hpp"

#include <algorithm>

#include "common/json_fields.hpp"

namespace hermes::daemon::discord {

using nlohmann::json;

std::optional<Frame> parse_frame(std::string_view text) {
  const json payload = json::parse(text, nullptr, false);
  if (!payload.is_object()) return std::nullopt;
  const auto op = integer_field(payload, "op");
  if (!op) return std::nullopt;
  Frame frame;
  frame.op = static_cast<int>(*op);
  if (const auto it = payload.find("d"); it != payload.end()) frame.d = *it;
  frame.s = integer_field(payload, "s");
  frame.t = string_field(payload, "t");
  return frame;
}

std::string identify_payload(const std::string& token) {
  const json payload = {
      {"op", static_cast<int>(Op::identify)},
      {"d",
       {{"token", token},
        {"intents", kIntents},
        {"properties",
         {{"os", "linux"}, {"browser", "hermes-gateway"}, {"device", "hermes-gateway"}}}}}};
  return payload.dump();
}

std::string resume_payload(const std::string& token, const std::string& session_id, long long seq) {
  const json payload = {{"op", static_cast<int>(Op::resume)},
                        {"d", {{"token", token}, {"session_id", session_id}, {"seq", seq}}}};
  return payload.dump();
}

std::string heartbeat_payload(std::optional<long long> seq) {
  json payload = {{"op", static_cast<int>(Op::heartbeat)}, {"d", nullptr}};
  if (seq) payload["d"] = *seq;
  return payload.dump();
}

std::string connect_url(const std::string& base) {
  std::string url = base;
  while (url.ends_with('/')) url.pop_back();
  return url + (url.find('?') == std::string::npos ? "/?" : "&") + "v=10&encoding=json";
}

CloseVerdict after_close(int code) {
  switch (code) {
    case 4004:
      return {AfterClose::fatal,
              "Discord refused the bot token (close 4004, authentication failed): copy a new "
              "token from the Developer Portal (your application > Bot > Reset Token) into "
              "gateway.discord.bot_token or DISCORD_BOT_TOKEN"};
    case 4010:
    case 4011:
      return {AfterClose::fatal,
              "Discord asks for sharding (close " + std::to_string(code) +
                  "): the bot is in too many servers for one connection, which the gateway "
                  "does not support"};
    case 4012:
      return {AfterClose::fatal,
              "Discord refused the Gateway API version (close 4012): update hermes-gateway"};
    case 4013:
      return {AfterClose::fatal,
              "Discord refused the gateway's intents as invalid (close 4013): update "
              "hermes-gateway"};
    case 4014:
      return {AfterClose::fatal,
              "Discord refused the Message Content intent (close 4014, disallowed intents): "
              "enable \"Message Content Intent\" under Privileged Gateway Intents on the "
              "Developer Portal (your application > Bot), then restart the gateway"};
    case 4007:  // invalid sequence
    case 4009:  // session timed out
    case 1000:  // Discord ended the session
    case 1001:
      return {AfterClose::identify, ""};
    default:  // 4000-4008 and a dropped connection: the session goes on
      return {AfterClose::resume, ""};
  }
}

std::chrono::milliseconds identify_wait(const json& gateway_bot) {
  const auto* limit = object_field(gateway_bot, "session_start_limit");
  if (!limit) return std::chrono::milliseconds(0);
  const auto remaining = integer_field(*limit, "remaining");
  const auto reset_after = integer_field(*limit, "reset_after");
  if (!remaining || *remaining > 0 || !reset_after) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(std::clamp<long long>(*reset_after, 0, 24LL * 3600 * 1000));
}

std::chrono::milliseconds first_heartbeat(std::chrono::milliseconds interval, double jitter) {
  jitter = std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds(
      static_cast<long long>(static_cast<double>(interval.count()) * jitter));
}

}  // namespace hermes::daemon::discord
