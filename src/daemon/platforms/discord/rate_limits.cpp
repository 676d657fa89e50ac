#include "daemon/platforms/discord/rate_limits.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/ascii_case.hpp"
#include "common/json_fields.hpp"
#include "daemon/providers/retry_after.hpp"

namespace hermes::daemon::discord {

using nlohmann::json;
using std::chrono::milliseconds;

namespace {

std::optional<std::string_view> header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (equals_ignoring_case(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

// Seconds (a float) as a wait, capped at an hour; none when negative or not finite.
std::optional<milliseconds> wait_of(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
  return milliseconds(static_cast<long long>(std::ceil(std::min(seconds, 3600.0) * 1000)));
}

// Seconds as Discord writes them in a header ("0.337", "1"), read like any Retry-After.
std::optional<milliseconds> seconds_of(std::string_view text) {
  const auto wait = providers::parse_duration_text(text);
  if (!wait) return std::nullopt;
  return std::min(*wait, milliseconds(3600 * 1000));
}

// retry_after in a 429's body.
std::optional<milliseconds> seconds_of(const json& value) {
  if (!value.is_number()) return std::nullopt;
  return wait_of(value.get<double>());
}

}  // namespace

std::string route_of(std::string_view method, std::string_view path) {
  // /channels/<id>/messages/<message id> -> /channels/<id>/messages/:id
  std::string out = std::string(method) + " ";
  constexpr std::string_view kMessages = "/messages/";
  const auto at = path.find(kMessages);
  if (at != std::string_view::npos && path.starts_with("/channels/")) {
    out += path.substr(0, at + kMessages.size());
    out += ":id";
    return out;
  }
  // Interactions and webhooks are limited per interaction: one bucket for them all is safe.
  if (path.starts_with("/interactions/")) return out + "/interactions";
  if (path.starts_with("/webhooks/")) return out + "/webhooks";
  return out + std::string(path);
}

milliseconds RateLimits::wait_before(const std::string& route, Clock::time_point now) const {
  auto until = global_until_;
  if (const auto it = blocked_until_.find(route); it != blocked_until_.end()) {
    until = std::max(until, it->second);
  }
  if (until <= now) return milliseconds(0);
  return std::chrono::ceil<milliseconds>(until - now);
}

std::optional<milliseconds> RateLimits::on_reply(const std::string& route, int status,
                                                 const Headers& headers, std::string_view body,
                                                 Clock::time_point now) {
  if (status == 429) {
    const json parsed = json::parse(body, nullptr, false);
    std::optional<milliseconds> wait;
    bool global = false;
    if (parsed.is_object()) {
      if (const auto it = parsed.find("retry_after"); it != parsed.end()) wait = seconds_of(*it);
      global = true_field(parsed, "global");
    }
    if (!wait) {
      if (const auto after = header(headers, "retry-after")) wait = seconds_of(*after);
    }
    if (const auto scope = header(headers, "x-ratelimit-global"))
      global = global || *scope == "true";
    const auto pause = wait.value_or(milliseconds(1000));
    if (global) {
      global_until_ = std::max(global_until_, now + pause);
    } else {
      blocked_until_[route] = std::max(blocked_until_[route], now + pause);
    }
    return pause;
  }
  const auto remaining = header(headers, "x-ratelimit-remaining");
  const auto reset_after = header(headers, "x-ratelimit-reset-after");
  if (remaining && *remaining == "0" && reset_after) {
    if (const auto wait = seconds_of(*reset_after)) blocked_until_[route] = now + *wait;
  } else if (remaining) {
    blocked_until_.erase(route);
  }
  return std::nullopt;
}

}  // namespace hermes::daemon::discord
