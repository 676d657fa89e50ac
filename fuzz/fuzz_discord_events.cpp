// A Discord Gateway payload as the server (or anything pretending to be one) sends it: read
// into a frame, then as the dispatch it names (READY, a message, an interaction, threads),
// and a REST answer's rate-limit headers and 429 body; never an exception, ids never negative.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/platforms/discord/discord_events.hpp"
#include "daemon/platforms/discord/gateway_protocol.hpp"
#include "daemon/platforms/discord/rate_limits.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hermes::daemon::discord;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto frame = parse_frame(text);
  if (frame) {
    Threads threads;
    learn_threads(frame->t, frame->d, threads);
    for (const auto& [thread, parent] : threads) {
      if (thread <= 0 || parent <= 0) __builtin_trap();
    }
    if (const auto ready = parse_ready(frame->d)) {
      if (ready->session_id.empty() || ready->bot_id <= 0) __builtin_trap();
    }
    AddressRules rules;
    rules.free_response_channels = {"1200000000000000001"};
    const auto parsed = parse_message(frame->d, 1100000000000000001LL, rules, threads);
    if ((parsed.verdict == MessageVerdict::answer) != parsed.message.has_value()) __builtin_trap();
    if (parsed.message) {
      const auto& m = *parsed.message;
      if (m.update_id <= 0 || m.chat_id <= 0 || m.user_id <= 0) __builtin_trap();
      if (m.text.empty() && m.media.empty()) __builtin_trap();
      if (!m.chat_key.starts_with("discord:")) __builtin_trap();
    }
    if (const auto it = parse_interaction(frame->d)) {
      if (it->id <= 0 || it->token.empty()) __builtin_trap();
    }
    (void)identify_wait(frame->d);
  }
  // The same bytes as a REST answer's body and a header value.
  RateLimits limits;
  const auto now = RateLimits::Clock::now();
  const auto wait = limits.on_reply("POST /x", 429, {{"Retry-After", text}}, text, now);
  if (!wait || wait->count() < 0 || *wait > std::chrono::hours(1)) __builtin_trap();
  limits.on_reply("PATCH /x", 200, {{"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset-After", text}},
                  "", now);
  if (limits.wait_before("PATCH /x", now) > std::chrono::hours(1)) __builtin_trap();
  return 0;
}
